"""Questions before deciding, and stale requests closing (issue #29), through the core use cases on SQLite and
PostgreSQL: a decider asks instead of deciding, the request waits for its requester's answer and then returns to
the asker; a request nobody moved for GATEHOUSE_REQUEST_MAX_AGE_DAYS closes, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from core import actions
from core.adapters.models import (
    AccessRequest,
    AuditEvent,
    DataSource,
    Notification,
    RequestQuestion,
    RequestStatus,
    User,
    utcnow,
)
from core.context import Gatehouse
from core.domain import AccessLevel, Classification, GatehouseError, InvalidInput, NotAllowed
from core.notify import NotificationKind, standings
from core.reads import questions, queues
from tests.integration.racing import NEED, assert_one_sentence, at_once, on_postgres, user
from tests.integration.test_cli import gatehouse_cli  # noqa: F401  (fixture)

PRICING = "alpha-pricing-models"  # bob: its only admin; alice: no access
ORPHAN = "alpha-legacy-orphan"  # no admin left: alice's line manager, carol, confirms

# Dates compared in queries (stale requests), one-winner steps and locks: SQLite and PostgreSQL each.
pytestmark = pytest.mark.both_databases


def ask(gatehouse: Gatehouse, source: str = PRICING) -> int:
    asked = actions.request_access(gatehouse, user(gatehouse, "alice"), source, AccessLevel.READ_ONLY, None, NEED)
    return asked.id


def status(gatehouse: Gatehouse, request_id: int) -> RequestStatus:
    with gatehouse.session() as session:
        request = session.get(AccessRequest, request_id)
        assert request is not None
        return RequestStatus(request.status)


def messages(gatehouse: Gatehouse, name: str, kind: NotificationKind) -> list[Notification]:
    with gatehouse.session() as session:
        return list(
            session.exec(
                select(Notification)
                .join(User, col(User.id) == Notification.user_id)
                .where(User.username == name, Notification.kind == kind.value)
                .order_by(col(Notification.id))
            ).all()
        )


def audited(gatehouse: Gatehouse, request_id: int) -> list[str]:
    with gatehouse.session() as session:
        return list(
            session.exec(
                select(AuditEvent.action).where(AuditEvent.request_id == request_id).order_by(col(AuditEvent.id))
            ).all()
        )


def test_an_admin_asks_alice_answers_and_the_request_is_the_admins_again(gatehouse: Gatehouse) -> None:
    alice, bob = user(gatehouse, "alice"), user(gatehouse, "bob")
    request_id = ask(gatehouse)
    actions.ask_question(gatehouse, bob, request_id, "Which quarter's reports do you need, and for whom?")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_ANSWER
    with pytest.raises(NotAllowed) as refused:  # nobody decides while it waits for her
        actions.approve_request(gatehouse, bob, request_id)
    assert_one_sentence(refused.value)
    assert "answer" in str(refused.value)
    [told] = messages(gatehouse, "alice", NotificationKind.ANSWER_NEEDED)
    assert "Which quarter's reports" in told.body and told.request_id == request_id
    with gatehouse.session() as session:
        assert standings(session, alice, (told.id or 0,)) == {told.id: "Needs your answer"}
        [waiting] = questions.waiting_for_my_answer(session, alice)
        assert (waiting.request_id, waiting.asked_by, waiting.source) == (request_id, "bob", PRICING)
        [mine] = [r for r in queues.my_requests(session, alice) if r.id == request_id]
        assert mine.waits_for == "your answer to a question"
        assert queues.admin_queue(session, bob).total == 0  # not bob's to decide while it waits
        [mine_asked] = questions.asked_by_me(session, bob)
        assert (mine_asked.request_id, mine_asked.requester) == (request_id, "alice")

    actions.answer_question(gatehouse, alice, request_id, "Q3, for the finance committee's pricing review.")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_ADMIN
    [back] = messages(gatehouse, "bob", NotificationKind.QUESTION_ANSWERED)
    assert "Q3, for the finance committee" in back.body and back.request_id == request_id
    with gatehouse.session() as session:
        assert [r.id for r in queues.admin_queue(session, bob).items] == [request_id]
        assert questions.waiting_for_my_answer(session, alice) == []
        assert questions.asked_by_me(session, bob) == []
        thread = questions.thread(session, bob, request_id)
        assert thread == questions.thread(session, alice, request_id)
    assert [(e.asked_by, e.question, e.answer) for e in thread] == [
        ("bob", "Which quarter's reports do you need, and for whom?", "Q3, for the finance committee's pricing review.")
    ]
    assert audited(gatehouse, request_id) == ["request-made", "request-question-asked", "request-question-answered"]
    actions.approve_request(gatehouse, bob, request_id)
    assert status(gatehouse, request_id) is RequestStatus.APPROVED


def test_a_second_question_follows_the_first_in_the_thread(gatehouse: Gatehouse) -> None:
    alice, bob = user(gatehouse, "alice"), user(gatehouse, "bob")
    request_id = ask(gatehouse)
    for question, answer in [("First question?", "First answer."), ("Second question?", "Second answer.")]:
        actions.ask_question(gatehouse, bob, request_id, question)
        actions.answer_question(gatehouse, alice, request_id, answer)
    with gatehouse.session() as session:
        thread = questions.thread(session, bob, request_id)
        with pytest.raises(NotAllowed):  # not carol's request to decide, nor hers
            questions.thread(session, user(gatehouse, "carol"), request_id)
    assert [(e.question, e.answer) for e in thread] == [
        ("First question?", "First answer."),
        ("Second question?", "Second answer."),
    ]
    assert thread[0].as_text == "bob asked: First question?\nAnswer: First answer."


def test_only_whoever_decides_asks_and_only_the_requester_answers(gatehouse: Gatehouse) -> None:
    alice, bob, carol, dave = (user(gatehouse, n) for n in ("alice", "bob", "carol", "dave"))
    request_id = ask(gatehouse)
    for someone in (carol, dave, alice):  # not an admin of it; the platform team does not take an admin's step; hers
        with pytest.raises(GatehouseError) as refused:
            actions.ask_question(gatehouse, someone, request_id, "Why do you need it?")
        assert_one_sentence(refused.value)
    assert status(gatehouse, request_id) is RequestStatus.PENDING_ADMIN
    with pytest.raises(NotAllowed, match="waits for no answer"):
        actions.answer_question(gatehouse, alice, request_id, "Unasked.")
    actions.ask_question(gatehouse, bob, request_id, "Why do you need it?")
    with pytest.raises(NotAllowed, match="waits for the requester's answer"):  # one question at a time
        actions.ask_question(gatehouse, bob, request_id, "And another thing?")
    for someone in (bob, carol):
        with pytest.raises(NotAllowed, match="Only the person who asked"):
            actions.answer_question(gatehouse, someone, request_id, "Not theirs to answer.")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_ANSWER


@pytest.mark.parametrize(
    ("text", "said"),
    [("", "Type the question"), ("   \n ", "Type the question"), ("x" * 1_001, "keep it to 1,000 characters")],
)
def test_an_empty_or_long_question_is_refused_and_changes_nothing(gatehouse: Gatehouse, text: str, said: str) -> None:
    request_id = ask(gatehouse)
    with pytest.raises(InvalidInput, match=said) as refused:
        actions.ask_question(gatehouse, user(gatehouse, "bob"), request_id, text)
    assert_one_sentence(refused.value)
    assert status(gatehouse, request_id) is RequestStatus.PENDING_ADMIN
    assert audited(gatehouse, request_id) == ["request-made"]


def test_an_empty_answer_is_refused(gatehouse: Gatehouse) -> None:
    request_id = ask(gatehouse)
    actions.ask_question(gatehouse, user(gatehouse, "bob"), request_id, "Why?")
    with pytest.raises(InvalidInput, match="Type your answer"):
        actions.answer_question(gatehouse, user(gatehouse, "alice"), request_id, "  ")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_ANSWER


def test_the_line_manager_then_the_platform_team_ask_at_their_steps(gatehouse: Gatehouse) -> None:
    alice, carol = user(gatehouse, "alice"), user(gatehouse, "carol")
    request_id = ask(gatehouse, ORPHAN)
    assert status(gatehouse, request_id) is RequestStatus.PENDING_LINE_MANAGER
    actions.ask_question(gatehouse, carol, request_id, "Is this for the legacy audit?")
    actions.answer_question(gatehouse, alice, request_id, "Yes, the 2019 audit.")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_LINE_MANAGER
    assert len(messages(gatehouse, "carol", NotificationKind.QUESTION_ANSWERED)) == 1
    actions.confirm_request(gatehouse, carol, request_id)
    assert status(gatehouse, request_id) is RequestStatus.PENDING_PLATFORM
    dave = user(gatehouse, "dave")  # the platform team asks at theirs
    actions.ask_question(gatehouse, dave, request_id, "Until when?")
    actions.answer_question(gatehouse, alice, request_id, "The end of March.")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_PLATFORM
    assert len(messages(gatehouse, "dave", NotificationKind.QUESTION_ANSWERED)) == 1


def test_the_information_asset_owner_asks_at_their_step(gatehouse: Gatehouse) -> None:
    alice, bob, carol = user(gatehouse, "alice"), user(gatehouse, "bob"), user(gatehouse, "carol")
    request_id = ask(gatehouse)
    with gatehouse.session() as session:  # as the owner's flow leaves it: bob approved, carol is the source's owner
        source = session.exec(select(DataSource).where(DataSource.name == PRICING)).one()
        source.classification, source.iao_id = Classification.PERSONAL, carol.id
        request = session.get(AccessRequest, request_id)
        assert request is not None
        request.status, request.admin_approved_by_id = RequestStatus.PENDING_IAO, bob.id
        session.add_all([source, request])
    with pytest.raises(GatehouseError):  # bob took the admin's step: the owner's is not his
        actions.ask_question(gatehouse, bob, request_id, "Bob asks again?")
    actions.ask_question(gatehouse, carol, request_id, "Do you need the named customers' rows?")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_ANSWER
    actions.answer_question(gatehouse, alice, request_id, "No: aggregates are enough.")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_IAO
    [back] = messages(gatehouse, "carol", NotificationKind.QUESTION_ANSWERED)
    assert "aggregates are enough" in back.body


def test_alice_withdraws_while_her_answer_is_awaited(gatehouse: Gatehouse) -> None:
    alice, bob = user(gatehouse, "alice"), user(gatehouse, "bob")
    request_id = ask(gatehouse)
    actions.ask_question(gatehouse, bob, request_id, "Why?")
    actions.withdraw_request(gatehouse, alice, request_id)
    assert status(gatehouse, request_id) is RequestStatus.WITHDRAWN
    with pytest.raises(NotAllowed, match="waits for no answer"):
        actions.answer_question(gatehouse, alice, request_id, "Too late.")
    with gatehouse.session() as session:
        assert questions.waiting_for_my_answer(session, alice) == []
    ask(gatehouse)  # her one open request is gone: she may ask again


def test_the_asker_has_left_the_answer_goes_where_a_new_request_would(gatehouse: Gatehouse) -> None:
    alice, bob, dave = user(gatehouse, "alice"), user(gatehouse, "bob"), user(gatehouse, "dave")
    request_id = ask(gatehouse)
    actions.ask_question(gatehouse, bob, request_id, "Why?")
    actions.mark_left(gatehouse, dave, "bob")  # the source's only admin: it is orphaned
    actions.answer_question(gatehouse, alice, request_id, "For the pricing review.")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_LINE_MANAGER  # alice's line manager, carol
    assert messages(gatehouse, "carol", NotificationKind.CONFIRMATION_NEEDED)


def test_the_asker_is_no_longer_an_admin_the_answer_goes_to_the_admins_now(gatehouse: Gatehouse) -> None:
    alice, bob, carol = user(gatehouse, "alice"), user(gatehouse, "bob"), user(gatehouse, "carol")
    request_id = ask(gatehouse)
    actions.ask_question(gatehouse, bob, request_id, "Why?")
    actions.grant_access(gatehouse, bob, PRICING, ["carol"], AccessLevel.ADMIN)
    actions.revoke_access(gatehouse, carol, PRICING, "bob")
    actions.answer_question(gatehouse, alice, request_id, "For the pricing review.")
    assert status(gatehouse, request_id) is RequestStatus.PENDING_ADMIN
    assert messages(gatehouse, "bob", NotificationKind.QUESTION_ANSWERED) == []
    [told] = messages(gatehouse, "carol", NotificationKind.QUESTION_ANSWERED)
    assert told.body.startswith("bob asked: Why?\nalice answered: For the pricing review.")


def test_a_leavers_request_waiting_for_their_answer_is_refused(gatehouse: Gatehouse) -> None:
    request_id = ask(gatehouse)
    actions.ask_question(gatehouse, user(gatehouse, "bob"), request_id, "Why?")
    actions.mark_left(gatehouse, user(gatehouse, "dave"), "alice")
    assert status(gatehouse, request_id) is RequestStatus.REFUSED


def age(gatehouse: Gatehouse, request_id: int, days: int) -> None:
    with gatehouse.session() as session:
        session.exec(  # type: ignore[call-overload]
            update(AccessRequest)
            .where(col(AccessRequest.id) == request_id)
            .values(updated_at=utcnow() - timedelta(days=days))
        )


def test_requests_nobody_moved_for_two_weeks_close_once(gatehouse: Gatehouse) -> None:
    carol = user(gatehouse, "carol")
    waiting = ask(gatehouse)  # waits for bob
    unanswered = ask(gatehouse, ORPHAN)  # carol asked alice, who never answered
    actions.ask_question(gatehouse, carol, unanswered, "Which year?")
    days = gatehouse.settings.request_max_age_days
    age(gatehouse, waiting, days)
    age(gatehouse, unanswered, days + 3)
    fresh = actions.request_access(
        gatehouse, user(gatehouse, "bob"), "alpha-legacy-orphan", AccessLevel.READ_ONLY, None, NEED
    ).id
    age(gatehouse, fresh, days - 1)  # a day short: it stays

    report = actions.expire(gatehouse)
    assert sorted(report.closed) == [
        "alice's request for alpha-legacy-orphan",
        "alice's request for alpha-pricing-models",
    ]
    assert status(gatehouse, waiting) is RequestStatus.CLOSED
    assert status(gatehouse, unanswered) is RequestStatus.CLOSED
    assert status(gatehouse, fresh) is RequestStatus.PENDING_LINE_MANAGER
    assert audited(gatehouse, waiting)[-1] == "request-closed-stale"
    told = [m.body for m in messages(gatehouse, "alice", NotificationKind.REQUEST_CLOSED)]
    assert sorted(told)[0].startswith("No one decided your request for read only access to alpha-pricing-models")
    assert f"in {days} days: it is closed. Ask again if you still need it." in sorted(told)[0]
    assert sorted(told)[1].startswith("You did not answer the question")
    assert [m.subject for m in messages(gatehouse, "bob", NotificationKind.REQUEST_CLOSED)] == [
        "alice's request for alpha-pricing-models was closed"
    ]
    assert len(messages(gatehouse, "carol", NotificationKind.REQUEST_CLOSED)) == 1  # she asked the question

    assert actions.expire(gatehouse).closed == []  # idempotent
    assert len(messages(gatehouse, "alice", NotificationKind.REQUEST_CLOSED)) == 2
    with gatehouse.session() as session:
        unanswered_row = session.exec(select(RequestQuestion).where(RequestQuestion.request_id == unanswered)).one()
        assert unanswered_row.answer is None
    ask(gatehouse)  # closed, it no longer holds her one open request


def test_the_schedulers_expire_says_how_many_requests_closed(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    request_id = ask(gatehouse)
    age(gatehouse, request_id, gatehouse.settings.request_max_age_days)
    ran = gatehouse_cli("expire")
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert f"closed, undecided for 14 days: alice's request for {PRICING}" in lines
    assert lines[-1].endswith(", 1 closed")
    assert status(gatehouse, request_id) is RequestStatus.CLOSED
    assert gatehouse_cli("expire").stdout.splitlines()[-1].endswith(", 0 closed")


@pytest.fixture
def racing(postgres_url: str, moto_reset: str, tmp_path: Path) -> Iterator[Gatehouse]:
    yield from on_postgres(postgres_url, moto_reset, tmp_path)


@pytest.mark.postgres
def test_an_answer_and_a_withdrawal_at_once_end_withdrawn(racing: Gatehouse) -> None:
    """Withdrawn first, the answer is refused (it waits for none); answered first, the withdrawal then takes the
    request from the admin: either way it ends withdrawn, its answer on record only if the answer won."""
    alice, bob = user(racing, "alice"), user(racing, "bob")
    for _ in range(3):
        request_id = ask(racing)
        actions.ask_question(racing, bob, request_id, "Why?")
        answered, withdrawn = at_once(
            [
                partial(actions.answer_question, racing, alice, request_id, "Because."),
                partial(actions.withdraw_request, racing, alice, request_id),
            ]
        )
        assert withdrawn is None
        if answered is not None:
            assert_one_sentence(answered)
        assert status(racing, request_id) is RequestStatus.WITHDRAWN
        with racing.session() as session:
            question = session.exec(select(RequestQuestion).where(RequestQuestion.request_id == request_id)).one()
        assert (question.answer is not None) is (answered is None)


@pytest.mark.postgres
def test_two_answers_at_once_one_wins(racing: Gatehouse) -> None:
    alice, bob = user(racing, "alice"), user(racing, "bob")
    request_id = ask(racing)
    actions.ask_question(racing, bob, request_id, "Why?")
    outcomes = at_once([partial(actions.answer_question, racing, alice, request_id, f"Answer {n}.") for n in range(4)])
    errors = [e for e in outcomes if e is not None]
    assert len(errors) == 3
    for error in errors:
        assert_one_sentence(error)
    assert status(racing, request_id) is RequestStatus.PENDING_ADMIN
    with racing.session() as session:
        [exchange] = questions.thread(session, bob, request_id)
    assert exchange.answer == f"Answer {outcomes.index(None)}."
    assert len(messages(racing, "bob", NotificationKind.QUESTION_ANSWERED)) == 1
