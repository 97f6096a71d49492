"""How many IAM writes a change to a team's access costs (issue #28: every change to a team that holds access ≤ 2
writes, and a member joining or leaving ≤ 2, whatever the team's size). Run from the repository root:

    .venv/bin/python bench/team_changes.py                  # teams of 10, 100 and 1,000 (a few minutes)
    .venv/bin/python bench/team_changes.py --sizes 3 10     # a quick look

Against the local emulation (moto's server, core/adapters/local_aws.py) and a SQLite database, through the real
path: each change is made in one unit of work that calls the hook the team's actions call (`access.mark_team_changed`
for a team's grants, `access.mark_changed` on the member's role for a membership), and the after-commit sync writes
AWS. A botocore hook on Gatehouse's IAM client counts the writes: PutRolePolicy, CreatePolicy, CreatePolicyVersion,
DeletePolicyVersion, AttachRolePolicy, DetachRolePolicy (and DeletePolicy, shown apart). Figures are printed, never
asserted; the last line is JSON."""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete
from sqlmodel import col, select

from core import access, effects
from core.actions.add_user import add_user
from core.actions.create_source import create_source
from core.actor import platform_operator
from core.adapters.models import DataSource, Grant, Team, TeamMember, User, utcnow
from core.config import Settings
from core.context import Gatehouse
from core.domain import AccessLevel
from core.paths import Paths
from core.startup import start

WRITES = (
    "PutRolePolicy",
    "CreatePolicy",
    "CreatePolicyVersion",
    "DeletePolicyVersion",
    "AttachRolePolicy",
    "DetachRolePolicy",
)
SOURCES = ("alpha-bench-published", "alpha-bench-second")


class Calls:
    """Every IAM call Gatehouse's client makes, by operation (a botocore `before-call` hook)."""

    def __init__(self, gatehouse: Gatehouse) -> None:
        self.counts: Counter[str] = Counter()
        gatehouse.aws.iam.meta.events.register("before-call.iam", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1

    def during(self, change: Callable[[], object]) -> dict[str, Any]:
        self.counts.clear()
        began = time.perf_counter()
        change()
        answered = time.perf_counter() - began
        effects.wait_for_background()  # a large team's roles beyond GATEHOUSE_ROLES_IN_ANSWER: counted too
        seconds = time.perf_counter() - began
        by_kind = {name: self.counts[name] for name in WRITES if self.counts[name]}
        return {
            "writes": sum(by_kind.values()),
            "by_kind": by_kind,
            "delete_policy": self.counts["DeletePolicy"],
            "reads": sum(self.counts.values()) - sum(by_kind.values()) - self.counts["DeletePolicy"],
            "seconds": round(seconds, 2),
            "answered_in": round(answered, 2),
        }


def members(gatehouse: Gatehouse, prefix: str, count: int) -> list[str]:
    """Members added in one unit of work, their roles made by the sync that follows it (as add_user's are)."""
    names = [f"{prefix}{n:04d}" for n in range(count)]
    with gatehouse.session() as session:
        users = [User(username=n, email=f"{n}@example.org", display_name=n) for n in names]
        session.add_all(users)
        session.flush()
        access.mark_changed(session, [access.user_principal(gatehouse.settings.env, u) for u in users])
    effects.wait_for_background()
    return names


def team_of(gatehouse: Gatehouse, name: str, usernames: list[str]) -> int:
    with gatehouse.session() as session:
        team = Team(name=name)
        session.add(team)
        session.flush()
        for user_id in session.exec(select(User.id).where(col(User.username).in_(usernames))):
            session.add(TeamMember(team_id=team.id or 0, user_id=user_id or 0))
        return team.id or 0


def grant(gatehouse: Gatehouse, team_id: int, source: str, level: AccessLevel, paths: str = "") -> None:
    with gatehouse.session() as session:
        found = session.exec(select(DataSource).where(DataSource.name == source)).one()
        now = utcnow()
        wanted = Paths.given(paths or None, source)
        session.add(
            Grant(source_id=found.id or 0, team_id=team_id, level=level, paths=wanted, created_at=now, updated_at=now)
        )
        session.flush()
        access.mark_team_changed(session, gatehouse.settings.env, [team_id])


def change_level(gatehouse: Gatehouse, team_id: int, source: str, level: AccessLevel) -> None:
    with gatehouse.session() as session:
        found = session.exec(select(DataSource).where(DataSource.name == source)).one()
        for held in session.exec(select(Grant).where(Grant.team_id == team_id, Grant.source_id == found.id)):
            held.level, held.updated_at = level, utcnow()
            session.add(held)
        session.flush()
        access.mark_team_changed(session, gatehouse.settings.env, [team_id])


def revoke(gatehouse: Gatehouse, team_id: int, *sources: str) -> None:
    with gatehouse.session() as session:
        found = session.exec(select(DataSource.id).where(col(DataSource.name).in_(sources))).all()
        session.exec(delete(Grant).where(col(Grant.team_id) == team_id, col(Grant.source_id).in_(found)))  # type: ignore[call-overload]
        access.mark_team_changed(session, gatehouse.settings.env, [team_id])


def membership(gatehouse: Gatehouse, team_id: int, username: str, *, joins: bool) -> None:
    with gatehouse.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        if joins:
            session.add(TeamMember(team_id=team_id, user_id=user.id or 0))
        else:
            session.exec(  # type: ignore[call-overload]
                delete(TeamMember).where(col(TeamMember.team_id) == team_id, col(TeamMember.user_id) == user.id)
            )
        session.flush()
        access.mark_changed(session, [access.user_principal(gatehouse.settings.env, user)])


def one_size(gatehouse: Gatehouse, calls: Calls, size: int) -> dict[str, dict[str, Any]]:
    usernames = members(gatehouse, f"t{size}m", size)
    joiner = members(gatehouse, f"t{size}j", 1)[0]
    team = team_of(gatehouse, f"bench-{size}", usernames)
    published, second = SOURCES
    steps = {
        "first grant": lambda: grant(gatehouse, team, published, AccessLevel.READ_ONLY, "/published"),
        "second grant": lambda: grant(gatehouse, team, second, AccessLevel.READ_ONLY),
        "level changed": lambda: change_level(gatehouse, team, second, AccessLevel.READ_WRITE),
        "one of two revoked": lambda: revoke(gatehouse, team, second),
        "fifth version": lambda: grant(gatehouse, team, second, AccessLevel.READ_ONLY),
        "sixth version": lambda: change_level(gatehouse, team, second, AccessLevel.READ_WRITE),  # the oldest goes
        "member added": lambda: membership(gatehouse, team, joiner, joins=True),
        "member removed": lambda: membership(gatehouse, team, joiner, joins=False),
        "last revoke": lambda: revoke(gatehouse, team, published, second),  # all it holds
    }
    return {name: calls.during(step) for name, step in steps.items()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000], help="team sizes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'bench.db'}",
            aws_mode="local",
            local_aws_port=free_port(),
            data_dir=Path(folder),
            seed_demo=False,
        )
        gatehouse = start(settings)
        actor = platform_operator("bench")
        add_user(gatehouse, actor, "owner", "owner@example.org")
        for source in SOURCES:
            create_source(gatehouse, actor, source, admin="owner")
        calls = Calls(gatehouse)
        figures = {str(size): one_size(gatehouse, calls, size) for size in args.sizes}
    for size, steps in figures.items():
        print(f"team of {size}:")
        for name, step in steps.items():
            kinds = ", ".join(f"{k} {v}" for k, v in step["by_kind"].items()) or "none"
            extra = f" (+ DeletePolicy {step['delete_policy']})" if step["delete_policy"] else ""
            print(
                f"  {name:<20} {step['writes']:>5} writes{extra}: {kinds}; {step['reads']} reads, {step['seconds']} s"
                f" (answered in {step['answered_in']} s)"
            )
    most = {
        size: max(steps[name]["writes"] for name in steps if name not in ("first grant", "last revoke"))
        for size, steps in figures.items()
    }
    print(f"most writes of a change to a team that holds access, or of a membership, by size: {most}")
    print(json.dumps({"sizes": figures, "most_writes_once_held": most}))


if __name__ == "__main__":
    main()
