"""The benchmarks keep running as the code changes: bench/seed_scale.py fills a small database with every kind of
row (a new word in the model, such as a kind of movement, once left it failing unnoticed); bench/scim.py syncs a few
users and a group through `gatehouse serve` on PostgreSQL; bench/team_changes.py counts a small team's IAM writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bench.seed_scale import seed
from core import audit
from core.adapters.db import make_engine
from core.adapters.models import User
from core.reads import catalog, movements, people, questions, queues


def test_the_scale_seeder_fills_a_small_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    numbers, _ = seed(url, scale=0.001)
    assert all(count > 0 for count in numbers.values()), numbers
    engine = make_engine(url)
    with Session(engine) as session:  # its audit trail is chained as the app's is
        check = audit.verify(session)
        assert (check.events, check.broken_at) == (numbers["audit_events"], None)
        alice = session.exec(select(User).where(User.username == "alice")).one()
        # teams hold access, and alice's My data shows some of hers through a team (the pages bench reads them)
        assert any(row.through for row in catalog.usable_page(session, alice, limit=None).items)
        # personal data (issue 29): carol owns some, and her Personal data page has requests and forms waiting for her
        carol = session.exec(select(User).where(User.username == "carol")).one()
        assert people.signed_in(session, "carol").roles.iao
        assert queues.iao_queue(session, carol).items
        assert movements.movements_to_sign(session, carol)
        assert questions.waiting_for_my_answer(session, alice)  # a question waits for alice's answer
    engine.dispose()


@pytest.mark.postgres
def test_the_scim_bench_syncs_a_small_directory() -> None:
    root = Path(__file__).resolve().parents[2]
    ran = subprocess.run(
        [sys.executable, "bench/scim.py", "--users", "12", "--groups", "1", "--roles-wait", "300"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    figures = json.loads(ran.stdout.strip().splitlines()[-1])
    # 12 finds and creates, 1 manager, and the group's find, create and 2 PATCHes of members (12 of them)
    assert (figures["users"], figures["groups"], figures["requests"]) == (12, 1, 29)
    assert figures["roles_made"] == 12  # every joiner's IAM role, made after their answers
    assert set(figures["by_kind_p95_ms"]) == {
        "find",
        "create",
        "manager",
        "group-find",
        "group-create",
        "group-members",
    }


def test_the_team_bench_counts_a_small_teams_iam_writes() -> None:
    root = Path(__file__).resolve().parents[2]
    ran = subprocess.run(
        [sys.executable, "bench/team_changes.py", "--sizes", "4"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    steps = json.loads(ran.stdout.strip().splitlines()[-1])["sizes"]["4"]
    assert steps["first grant"]["by_kind"] == {"CreatePolicy": 1, "AttachRolePolicy": 4}  # every member once
    for name in ("second grant", "level changed", "one of two revoked", "fifth version", "sixth version"):
        assert 1 <= steps[name]["writes"] <= 2, (name, steps[name])  # the team's policy alone, whatever its size
    assert steps["sixth version"]["by_kind"] == {"CreatePolicyVersion": 1, "DeletePolicyVersion": 1}
    assert steps["member added"]["by_kind"] == {"AttachRolePolicy": 1}
    assert steps["member removed"]["by_kind"] == {"DetachRolePolicy": 1}
