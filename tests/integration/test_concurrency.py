"""Races on PostgreSQL, as production runs them: several Gatehouse sessions at once through one engine's pool.

PostgreSQL only: production shares one PostgreSQL between processes, and SQLite serialises writers anyway. Each
thread calls the use cases on the one shared Gatehouse, which opens a session (a pooled connection) per call, as
the app's script runs do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from core import actions
from core.actions.add_user import add_user
from core.adapters.models import AccessRequest, AuditEvent, Grant, Notification, RequestStatus, User
from core.config import Settings
from core.context import Gatehouse
from core.domain import AccessLevel
from core.startup import start
from tests.integration.racing import NEED, assert_one_sentence, at_once, count, on_postgres, user

pytestmark = pytest.mark.postgres

SOURCE = "alpha-pricing-models"
ROUNDS = 5


@pytest.fixture
def gatehouse(postgres_url: str, moto_reset: str, tmp_path: Path) -> Iterator[Gatehouse]:
    yield from on_postgres(postgres_url, moto_reset, tmp_path)


@pytest.mark.parametrize("second", ["approves", "refuses"])
def test_two_admins_deciding_the_same_request_at_once_make_exactly_one_decision(
    gatehouse: Gatehouse, second: str
) -> None:
    bob, dave = user(gatehouse, "bob"), user(gatehouse, "dave")
    actions.grant_access(gatehouse, bob, SOURCE, ["carol"], AccessLevel.ADMIN)
    carol = user(gatehouse, "carol")
    for round_ in range(ROUNDS):
        name = f"racer-{round_}"
        add_user(gatehouse, dave, name, f"{name}@example.org", line_manager="carol")
        racer = user(gatehouse, name)
        asked = actions.request_access(gatehouse, racer, SOURCE, AccessLevel.READ_ONLY, None, NEED)

        carol_decides = (
            partial(actions.approve_request, gatehouse, carol, asked.id)
            if second == "approves"
            else partial(actions.refuse_request, gatehouse, carol, asked.id, "Use the published extract instead.")
        )
        outcomes = at_once([partial(actions.approve_request, gatehouse, bob, asked.id), carol_decides])

        winners = [who for who, error in zip((bob, carol), outcomes, strict=True) if error is None]
        assert len(winners) == 1, f"round {round_}: {outcomes}"
        [loser_error] = [error for error in outcomes if error is not None]
        assert_one_sentence(loser_error)
        [winner] = winners
        approved = winner is bob or second == "approves"
        with gatehouse.session() as session:
            stored = session.get(AccessRequest, asked.id)
            assert stored is not None
            assert stored.status == (RequestStatus.APPROVED if approved else RequestStatus.REFUSED)
            assert stored.decided_by_id == winner.id
            held = session.exec(select(Grant).where(Grant.user_id == racer.id)).all()
            assert [(g.level, g.paths) for g in held] == ([(AccessLevel.READ_ONLY, ())] if approved else [])
            recorded = sorted(session.exec(select(AuditEvent.action).where(AuditEvent.request_id == asked.id)).all())
            told = session.exec(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == racer.id, Notification.kind == "decision-made")
            ).one()
        decision = ["access-granted", "request-approved"] if approved else ["request-refused"]
        assert recorded == sorted(["request-made", *decision])
        assert told == 1


def test_a_hundred_requests_submitted_at_once_are_all_stored(gatehouse: Gatehouse) -> None:
    carol = user(gatehouse, "carol")
    with gatehouse.session() as session:
        for number in range(100):
            name = f"load-{number:03d}"
            session.add(User(username=name, email=f"{name}@example.org", line_manager_id=carol.id))
    with gatehouse.session() as session:
        people = list(session.exec(select(User).where(col(User.username).startswith("load-"))).all())
    assert len(people) == 100
    made_before = count(gatehouse, AuditEvent, AuditEvent.action == "request-made")
    bob_told_before = count(gatehouse, Notification, Notification.user_id == user(gatehouse, "bob").id)

    def ask_for(batch: list[User]) -> Callable[[], object]:
        return lambda: [
            actions.request_access(gatehouse, person, SOURCE, AccessLevel.READ_ONLY, None, NEED) for person in batch
        ]

    outcomes = at_once([ask_for(people[start : start + 10]) for start in range(0, 100, 10)])

    assert outcomes == [None] * 10
    with gatehouse.session() as session:
        stored = session.exec(
            select(AccessRequest.requester_id, AccessRequest.status).where(
                col(AccessRequest.requester_id).in_([p.id for p in people])
            )
        ).all()
    assert sorted(requester for requester, _ in stored) == sorted(p.id for p in people)
    assert {status for _, status in stored} == {RequestStatus.PENDING_ADMIN}
    assert count(gatehouse, AuditEvent, AuditEvent.action == "request-made") == made_before + 100
    assert count(gatehouse, Notification, Notification.user_id == user(gatehouse, "bob").id) == bob_told_before + 100


def test_two_processes_starting_together_seed_the_demo_once(postgres_url: str, moto_reset: str, tmp_path: Path) -> None:
    """Two Gatehouse processes behind a load balancer start on one empty database at the same moment."""
    port = int(moto_reset.rsplit(":", 1)[1])
    started: list[Gatehouse] = []

    def start_one(n: int) -> None:
        started.append(start(Settings(database_url=postgres_url, local_aws_port=port, data_dir=tmp_path / str(n))))

    try:
        assert at_once([partial(start_one, 0), partial(start_one, 1)]) == [None, None]
        one = started[0]
        assert count(one, AuditEvent, AuditEvent.action == "demo-seeded") == 1
        assert count(one, User, User.username == "alice") == 1
    finally:
        for gatehouse in started:
            gatehouse.engine.dispose()
