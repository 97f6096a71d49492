"""Questions before deciding and stale requests (issue #29), as rules on plain values: who answers a question, who
decides while an answer is awaited, where a request may go from there, and when a request is stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import rules
from core.domain import RequestStatus
from core.notify import standing
from tests.unit.test_rules import ALICE, BOB, DAVE, Request

ASKED = Request(requester_id=ALICE.id or 0, status=RequestStatus.PENDING_ANSWER)


def test_only_the_requester_answers_and_only_while_an_answer_is_awaited() -> None:
    assert rules.check_answerer(ALICE, ASKED).allowed
    assert rules.check_answerer(BOB, ASKED).reason == (
        "Only the person who asked for access answers a question about their request."
    )
    waiting = Request(requester_id=ALICE.id or 0, status=RequestStatus.PENDING_ADMIN)
    assert rules.check_answerer(ALICE, waiting).reason == "This request waits for no answer: it has moved on since."


@pytest.mark.parametrize("who", [BOB, DAVE])
def test_nobody_decides_while_the_requesters_answer_is_awaited(who: object) -> None:
    decided = rules.check_may_decide(who, ASKED, admin_of_source=True)  # type: ignore[arg-type]
    assert not decided.allowed and "answer" in decided.reason


@pytest.mark.parametrize(
    "back",
    [
        RequestStatus.PENDING_ADMIN,
        RequestStatus.PENDING_LINE_MANAGER,
        RequestStatus.PENDING_PLATFORM,
        RequestStatus.PENDING_IAO,
    ],
)
def test_an_answered_request_returns_where_it_stood_and_may_be_asked_about_there(back: RequestStatus) -> None:
    assert rules.check_transition(back, RequestStatus.PENDING_ANSWER).allowed
    assert rules.check_transition(RequestStatus.PENDING_ANSWER, back).allowed
    for end in (RequestStatus.WITHDRAWN, RequestStatus.REFUSED, RequestStatus.CLOSED):
        assert rules.check_transition(RequestStatus.PENDING_ANSWER, end).allowed


def test_a_request_is_stale_after_the_days_set_and_not_a_moment_before() -> None:
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert rules.is_stale(now - timedelta(days=14), now, 14)
    assert not rules.is_stale(now - timedelta(days=14) + timedelta(seconds=1), now, 14)


def test_where_a_request_stands_says_whose_answer_it_waits_for_and_that_it_closed() -> None:
    class Row:
        requester_id, decided_by_id, confirmed_by_id, decision_reason = 1, None, None, None
        status = RequestStatus.PENDING_ANSWER

    names = {1: "alice"}
    assert standing(Row(), names) == "Waiting for alice's answer to a question"  # type: ignore[arg-type]
    Row.status = RequestStatus.CLOSED
    assert standing(Row(), names) == "Closed: nobody decided it in time"  # type: ignore[arg-type]
