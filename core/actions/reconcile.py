"""The platform team keeps AWS in line with the database: "Retry now" for what AWS has not taken yet, and reconcile:
every managed role's live policies (and the teams' policies attached to it) and every team's policies compared with
the desired ones, the drift shown, and repaired on record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from core import audit
from core.access import all_principals, mark_changed, role_documents
from core.actor import acting
from core.adapters.aws import LivePolicies
from core.adapters.models import Team, User
from core.context import Gatehouse
from core.domain import GatehouseError, plural
from core.effects import applied
from core.iam_sync import SyncOutcome, sync_pending
from core.policy import PolicyTooLarge, RolePolicies, minify
from core.policy_diff import StatementGap, statement_gaps
from core.rules import check_platform_admin
from core.team_policies import team_documents, team_grants


def retry_pending(gatehouse: Gatehouse, actor: User) -> list[SyncOutcome]:
    """The platform team's "Retry now": apply every role AWS has not taken yet."""
    with gatehouse.session() as session:
        check_platform_admin(acting(session, actor)).enforce()
    return sync_pending(gatehouse)


@dataclass(frozen=True)
class Drift:
    role_name: str
    what: str  # one line a person can read: which statements differ (and which policy is missing or extra)
    gaps: tuple[StatementGap, ...] = ()  # the permissions only IAM, or only Gatehouse, has

    @property
    def repaired(self) -> str:
        """What repairing it changes, as a person would say it."""
        if self.gaps:
            return "; ".join(gap.repair for gap in self.gaps)
        return f"rewrote its policies ({self.what})"


def _describe(role_name: str, desired: RolePolicies, live: LivePolicies) -> list[Drift]:
    """One drift for the role if any of its policies differs: the statements that differ across them all, and which
    document is missing or no longer wanted."""
    if not live.role_exists:
        return [Drift(role_name, "the role does not exist")]
    notes: list[str] = []
    if live.inline is None:
        notes.append("the s3-access inline policy is missing")
    for number in range(1, len(desired.managed) + 1):
        if number not in live.managed:
            notes.append(f"managed policy {number} is missing or not attached")
    for number in sorted(set(live.managed) - set(range(1, len(desired.managed) + 1))):
        notes.append(f"managed policy {number} is attached but no longer wanted")
    for name in sorted(set(desired.attached) - live.teams):
        notes.append(f"the team policy {name} is not attached")
    for name in sorted(live.teams - set(desired.attached)):
        notes.append(f"the team policy {name} is attached but no longer wanted")
    live_documents = [live.inline, *(live.managed.get(n) for n in range(1, len(desired.managed) + 1))]
    if not notes and all(
        minify(have or {}) == minify(want) for have, want in zip(live_documents, desired.documents, strict=True)
    ):
        return []
    gaps = statement_gaps(desired.documents, [d for d in (live.inline, *live.managed.values()) if d is not None])
    what = [*(gap.drift for gap in gaps), *notes] or ["the same statements, laid out differently in its policies"]
    return [Drift(role_name, "; ".join(what), tuple(gaps))]


def _describe_team(stem: str, whose: str, desired: tuple[dict, ...], live: dict[int, dict[str, Any]]) -> list[Drift]:
    """One drift for a team's policies if any differs from what its grants make: the statements that differ, and
    which policy is missing or no longer wanted."""
    notes = [f"its policy {stem}-{n} is missing" for n in range(1, len(desired) + 1) if n not in live]
    notes += [f"its policy {stem}-{n} is no longer wanted" for n in sorted(set(live) - set(range(1, len(desired) + 1)))]
    if not notes and all(minify(live[n]) == minify(d) for n, d in enumerate(desired, start=1)):
        return []
    gaps = statement_gaps(desired, list(live.values()))
    what = [*(gap.drift for gap in gaps), *notes] or ["the same statements, laid out differently in its policies"]
    return [Drift(stem, f"{whose}: " + "; ".join(what), tuple(gaps))]


def find_drift(gatehouse: Gatehouse, actor: User) -> list[Drift]:
    """Compare every managed role's live policies, and every team's, with the desired ones (what AWS has is read
    first: a role's room depends on it)."""
    quota = gatehouse.settings.managed_policy_quota
    with gatehouse.session() as session:
        check_platform_admin(acting(session, actor)).enforce()
        principals = all_principals(session, gatehouse.settings.env)
    live: dict[str, LivePolicies | dict[int, dict[str, Any]]] = {
        p.role_name: gatehouse.aws.read_team_policies(p.team_id)
        if p.team_id is not None
        else gatehouse.aws.read_role_policies(p.role_name)
        for p in principals
    }
    drift: list[Drift] = []
    with gatehouse.session() as session:
        teams = dict(session.exec(select(Team.id, Team.name)).all())
        for principal in principals:
            have = live[principal.role_name]
            try:
                if isinstance(have, LivePolicies):
                    desired = role_documents(session, principal, have, quota)
                    drift.extend(_describe(principal.role_name, desired, have))
                else:
                    wanted = team_documents(team_grants(session, principal.team_id or 0), quota)
                    name = teams.get(principal.team_id, "a deleted")
                    drift.extend(_describe_team(principal.role_name, f"the {name} team's policies", wanted, have))
            except PolicyTooLarge as error:
                drift.append(Drift(principal.role_name, str(error)))
    return drift


@dataclass(frozen=True)
class Repaired:
    role_name: str
    changed: str  # what was put back or taken away

    @property
    def sentence(self) -> str:
        return f"{self.role_name}: {self.changed}"


def repair(gatehouse: Gatehouse, drift: list[Drift], actor: User) -> list[Repaired]:
    """Rewrite the drifted roles and record each repair in the audit trail; says, role by role, what it changed."""
    roles = sorted({d.role_name for d in drift})
    changed = {role: "; ".join(d.repaired for d in drift if d.role_name == role) for role in roles}
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        principals = {p.role_name: p for p in all_principals(session, gatehouse.settings.env)}
        for role_name in roles:
            mark_changed(session, [principals[role_name]])
            audit.record(
                session,
                actor.username,
                "drift-repaired",
                f"Repaired {role_name}: " + changed[role_name],
                subject=role_name,
            )
    outcomes = applied(session)
    failed = [o for o in outcomes if o.error]
    if failed:
        raise GatehouseError(f"{plural(len(failed), 'role')} could not be repaired; first: {failed[0].error}")
    return [Repaired(role, changed[role]) for role in roles]
