"""Requests for personal data (issue #29): the classification's rules refused beside their fields at request time, and
the two steps of an approval (an admin, then the information asset owner), on SQLite and PostgreSQL; the IAM role
changes only once both approved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from core import actions
from core.actions.provision_team import create_team
from core.adapters.models import AccessRequest, AuditEvent, DataSource, Grant, Notification, RequestStatus, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, Classification, InvalidFields, InvalidInput, NotAllowed
from core.notify import standings
from core.queries import get_user
from core.reads import queues
from core.reads.approval import approval_effect
from tests.aws_helpers import as_user
from tests.integration.racing import assert_one_sentence, at_once, on_postgres

NEED = "Quarterly pricing review for the finance committee needs these reports."
pytestmark = pytest.mark.both_databases  # the queues' SQL (the owner's, the platform team's) read on both

SOURCE = "alpha-pricing-models"  # bob administers it; carol becomes its information asset owner


def user(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def personal(gatehouse: Gatehouse, iao: str | None = "carol", kind: Classification = Classification.PERSONAL) -> None:
    """Mark the source as holding personal data with its information asset owner, as the database holds it."""
    with gatehouse.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == SOURCE)).one()
        source.classification = kind
        source.iao_id = None if iao is None else get_user(session, iao).id
        session.add(source)


def in_days(days: int):
    return utcnow().date() + timedelta(days=days)


def ask(gatehouse: Gatehouse, level: AccessLevel = AccessLevel.READ_WRITE, paths: str | None = "/reports\n/models",
        days: int = 90, who: str = "alice") -> int:  # fmt: skip
    return actions.request_access(gatehouse, user(gatehouse, who), SOURCE, level, paths, NEED, in_days(days)).id


def status(gatehouse: Gatehouse, request_id: int) -> RequestStatus:
    with gatehouse.session() as session:
        request = session.get(AccessRequest, request_id)
        assert request is not None
        return RequestStatus(request.status)


def grants_of(gatehouse: Gatehouse, request_id: int) -> list[Grant]:
    with gatehouse.session() as session:
        return list(session.exec(select(Grant).where(Grant.request_id == request_id)))


def told(gatehouse: Gatehouse, name: str, request_id: int | None = None) -> list[Notification]:
    with gatehouse.session() as session:
        query = select(Notification).join(User, col(User.id) == Notification.user_id).where(User.username == name)
        if request_id is not None:
            query = query.where(Notification.request_id == request_id)
        return list(session.exec(query.order_by(col(Notification.id))))


def audited(gatehouse: Gatehouse, request_id: int) -> list[AuditEvent]:
    with gatehouse.session() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.request_id == request_id)))


# --- the rules at request time ---------------------------------------------------------------------------------


def test_personal_data_without_an_end_date_is_refused_beside_until(gatehouse: Gatehouse) -> None:
    personal(gatehouse)
    with pytest.raises(InvalidFields) as refused:
        actions.request_access(gatehouse, user(gatehouse, "alice"), SOURCE, AccessLevel.READ_ONLY, None, NEED)
    assert set(refused.value.problems) == {"until"}
    assert "Access to personal data always ends: choose an end date" in refused.value.problems["until"]
    with gatehouse.session() as session:
        assert queues.my_requests(session, user(gatehouse, "alice")) == []  # nothing was stored


def test_personal_data_ends_at_most_365_days_away(gatehouse: Gatehouse) -> None:
    personal(gatehouse)
    alice = user(gatehouse, "alice")
    with pytest.raises(InvalidFields) as refused:
        actions.request_access(gatehouse, alice, SOURCE, AccessLevel.READ_ONLY, None, NEED, in_days(366))
    assert set(refused.value.problems) == {"until"}
    assert "at most 365 days away" in refused.value.problems["until"]
    asked = actions.request_access(gatehouse, alice, SOURCE, AccessLevel.READ_ONLY, None, NEED, in_days(365))
    assert asked.status is RequestStatus.PENDING_ADMIN and asked.classification is Classification.PERSONAL


def test_special_category_data_needs_paths_and_an_end_date_each_beside_its_field(gatehouse: Gatehouse) -> None:
    personal(gatehouse, kind=Classification.SPECIAL_CATEGORY)
    with pytest.raises(InvalidFields) as refused:
        actions.request_access(gatehouse, user(gatehouse, "alice"), SOURCE, AccessLevel.READ_ONLY, "", NEED)
    assert set(refused.value.problems) == {"paths", "until"}
    assert "named paths, never the whole source" in refused.value.problems["paths"]


def test_a_standard_source_asks_nothing_more(gatehouse: Gatehouse) -> None:
    asked = actions.request_access(gatehouse, user(gatehouse, "alice"), SOURCE, AccessLevel.READ_ONLY, None, NEED)
    assert asked.status is RequestStatus.PENDING_ADMIN


# --- two steps -------------------------------------------------------------------------------------------------


def test_the_admin_approves_then_the_owner_approves_less_and_only_then_iam_changes(gatehouse: Gatehouse) -> None:
    personal(gatehouse)
    bob, carol, alice = user(gatehouse, "bob"), user(gatehouse, "carol"), user(gatehouse, "alice")
    request_id = ask(gatehouse)
    with gatehouse.session() as session:  # the preview tells bob where his approval sends it
        effect = approval_effect(
            session, gatehouse.settings, bob, request_id, AccessLevel.READ_WRITE, "/reports\n/models", in_days(60)
        )
    assert effect.next_step and "carol, the information asset owner" in effect.next_step and not effect.problems
    outcome = actions.approve_request(gatehouse, bob, request_id, expires_on=in_days(60))
    assert outcome.next_step and "the information asset owner, carol" in outcome.next_step
    assert status(gatehouse, request_id) is RequestStatus.PENDING_IAO
    assert grants_of(gatehouse, request_id) == []  # nothing granted yet
    with as_user(gatehouse, "alice") as role:
        assert not role.can("get", SOURCE, "reports/prices_q3.csv")
    with gatehouse.session() as session:
        request = session.get(AccessRequest, request_id)
        assert request is not None and request.admin_approved_by_id == bob.id and request.admin_approved_at
        assert (request.granted_level, request.granted_expires_on) == (AccessLevel.READ_WRITE, in_days(60))
        # the requester sees where it stands
        [mine] = [r for r in queues.my_requests(session, alice) if r.id == request_id]
        assert mine.stands == "Approved by bob; waiting for the information asset owner, carol"
        # carol is asked, and her queue has it with what bob approved; bob's queue no longer
        assert [r.id for r in queues.iao_queue(session, carol).items] == [request_id]
        [waiting] = queues.iao_queue(session, carol).items
        assert waiting.admin_approved and "approved by bob" in waiting.admin_approved
        assert request_id not in [r.id for r in queues.admin_queue(session, bob).items]
        assert queues.iao_queue(session, bob).total == 0
    [asked_carol] = told(gatehouse, "carol", request_id)
    assert "bob approved alice's request as admin" in asked_carol.body
    assert any("waiting for the information asset owner, carol" in n.body for n in told(gatehouse, "alice"))
    with gatehouse.session() as session:  # bob's own message about the request says where it stands now too
        [bob_asked] = told(gatehouse, "bob", request_id)
        assert standings(session, bob, (bob_asked.id or 0,)) == {
            bob_asked.id: "Approved by bob; waiting for the information asset owner, carol"
        }
    assert [e.action for e in audited(gatehouse, request_id)] == ["request-made", "request-admin-approved"]

    # carol may not approve more than bob did: a later end, or a path bob did not approve
    with pytest.raises(InvalidFields) as refused:
        actions.approve_request(gatehouse, carol, request_id, expires_on=in_days(90))
    assert set(refused.value.problems) == {"until"}
    assert refused.value.problems["until"].startswith("bob approved access until")  # her bound is bob's, said so
    with gatehouse.session() as session:  # her preview is her own step's: it grants, it sends nowhere
        effect = approval_effect(
            session, gatehouse.settings, carol, request_id, AccessLevel.READ_ONLY, "/reports", in_days(30)
        )
    assert effect.next_step is None and any("gains read on" in c for c in effect.changes)
    actions.approve_request(gatehouse, carol, request_id, AccessLevel.READ_ONLY, "/reports", in_days(30))
    assert status(gatehouse, request_id) is RequestStatus.APPROVED
    [grant] = grants_of(gatehouse, request_id)
    assert (grant.level, list(grant.paths), grant.expires_on, grant.granted_by_id) == (
        AccessLevel.READ_ONLY,
        ["/reports"],
        in_days(30),
        carol.id,
    )
    with as_user(gatehouse, "alice") as role:
        assert role.can("get", SOURCE, "reports/prices_q3.csv")
        assert not role.can("put", SOURCE, "reports/new.csv")
        assert not role.can("get", SOURCE, "models/elasticity.parquet")
    [approved] = [e for e in audited(gatehouse, request_id) if e.action == "request-approved"]
    assert "carol" in approved.summary and "bob" in approved.summary
    assert any("bob approved your request, then carol" in n.body for n in told(gatehouse, "alice"))
    assert any("granted" in n.subject for n in told(gatehouse, "bob"))


def test_the_owner_refuses_and_the_requester_and_the_admin_are_told(gatehouse: Gatehouse) -> None:
    personal(gatehouse)
    request_id = ask(gatehouse)
    actions.approve_request(gatehouse, user(gatehouse, "bob"), request_id)
    actions.refuse_request(gatehouse, user(gatehouse, "carol"), request_id, "Use the anonymised extract instead.")
    assert status(gatehouse, request_id) is RequestStatus.REFUSED
    assert grants_of(gatehouse, request_id) == []
    last = told(gatehouse, "alice")[-1]
    assert last.subject.endswith("refused by the information asset owner")
    assert "carol, the information asset owner, refused" in last.body and "anonymised extract" in last.body
    assert "which you approved" in told(gatehouse, "bob")[-1].body
    with gatehouse.session() as session:
        [mine] = [r for r in queues.my_requests(session, user(gatehouse, "alice")) if r.id == request_id]
        assert mine.status is RequestStatus.REFUSED and mine.stands is None


def test_read_only_on_paths_of_personal_data_takes_one_step(gatehouse: Gatehouse) -> None:
    personal(gatehouse)
    request_id = ask(gatehouse, AccessLevel.READ_ONLY, "/reports")
    outcome = actions.approve_request(gatehouse, user(gatehouse, "bob"), request_id)
    assert outcome.next_step is None
    assert status(gatehouse, request_id) is RequestStatus.APPROVED
    assert len(grants_of(gatehouse, request_id)) == 1
    with as_user(gatehouse, "alice") as role:
        assert role.can("get", SOURCE, "reports/prices_q3.csv")


def test_an_admin_who_narrows_to_read_only_paths_grants_at_once(gatehouse: Gatehouse) -> None:
    """Whether the owner approves next is decided on what the admin approves, not on what was asked."""
    personal(gatehouse)
    request_id = ask(gatehouse)  # read and write on two paths: the owner's step, as asked
    actions.approve_request(gatehouse, user(gatehouse, "bob"), request_id, AccessLevel.READ_ONLY, "/reports")
    assert status(gatehouse, request_id) is RequestStatus.APPROVED


def test_the_admin_approval_is_refused_beside_until_when_the_classification_asks_an_end(gatehouse: Gatehouse) -> None:
    """A request made before the source was marked personal (no end date) is approved only with one."""
    request_id = actions.request_access(
        gatehouse, user(gatehouse, "alice"), SOURCE, AccessLevel.READ_ONLY, None, NEED
    ).id
    personal(gatehouse)
    bob = user(gatehouse, "bob")
    with pytest.raises(InvalidFields) as refused:
        actions.approve_request(gatehouse, bob, request_id)
    assert set(refused.value.problems) == {"until"}
    with gatehouse.session() as session:
        effect = approval_effect(session, gatehouse.settings, bob, request_id, AccessLevel.READ_ONLY, "", None)
    assert set(effect.problems) == {"until"}
    actions.approve_request(gatehouse, bob, request_id, expires_on=in_days(100))
    assert status(gatehouse, request_id) is RequestStatus.PENDING_IAO


def test_without_an_owner_who_may_decide_the_platform_team_takes_the_step(gatehouse: Gatehouse) -> None:
    """carol asks for her own source's data: she cannot approve her own request as its owner; dave (the platform
    team) sees it on his queue and approves."""
    personal(gatehouse)
    carol, dave, bob = user(gatehouse, "carol"), user(gatehouse, "dave"), user(gatehouse, "bob")
    request_id = ask(gatehouse, who="carol")
    actions.approve_request(gatehouse, bob, request_id)
    with gatehouse.session() as session:
        assert queues.iao_queue(session, carol).total == 0
        assert [r.id for r in queues.platform_iao_queue(session, dave).items] == [request_id]
        [mine] = [r for r in queues.my_requests(session, carol) if r.id == request_id]
        assert mine.stands == "Approved by bob; waiting for the platform team, in the information asset owner's place"
    assert told(gatehouse, "dave", request_id)  # the platform team is asked
    with pytest.raises(NotAllowed, match="Nobody decides their own request"):
        actions.approve_request(gatehouse, carol, request_id)
    actions.approve_request(gatehouse, dave, request_id)
    assert status(gatehouse, request_id) is RequestStatus.APPROVED


def test_the_owner_queue_is_empty_for_a_standard_source(gatehouse: Gatehouse) -> None:
    request_id = ask(gatehouse)
    actions.approve_request(gatehouse, user(gatehouse, "bob"), request_id)
    assert status(gatehouse, request_id) is RequestStatus.APPROVED
    with gatehouse.session() as session:
        assert queues.iao_queue(session, user(gatehouse, "carol")).total == 0


def test_the_owner_step_is_not_taken_twice(gatehouse: Gatehouse) -> None:
    personal(gatehouse)
    request_id = ask(gatehouse)
    actions.approve_request(gatehouse, user(gatehouse, "bob"), request_id)
    carol = user(gatehouse, "carol")
    actions.approve_request(gatehouse, carol, request_id)
    with pytest.raises((InvalidInput, NotAllowed)):
        actions.refuse_request(gatehouse, carol, request_id, "Changed my mind about it.")
    assert len(grants_of(gatehouse, request_id)) == 1


# --- a race on PostgreSQL ---------------------------------------------------------------------------------------


@pytest.fixture
def on_pg(postgres_url: str, moto_reset: str, tmp_path: Path) -> Iterator[Gatehouse]:
    yield from on_postgres(postgres_url, moto_reset, tmp_path)


@pytest.mark.postgres
def test_two_decisions_of_the_owner_at_once_one_wins(on_pg: Gatehouse) -> None:
    gatehouse = on_pg
    personal(gatehouse)
    request_id = ask(gatehouse)
    actions.approve_request(gatehouse, user(gatehouse, "bob"), request_id)
    carol = user(gatehouse, "carol")
    errors = at_once(
        [
            lambda: actions.approve_request(gatehouse, carol, request_id),
            lambda: actions.refuse_request(gatehouse, carol, request_id, "Not for this purpose, sorry."),
        ]
    )
    assert errors.count(None) == 1
    assert_one_sentence(next(e for e in errors if e is not None))
    won = status(gatehouse, request_id)
    assert won is (RequestStatus.APPROVED if errors[0] is None else RequestStatus.REFUSED)
    assert len(grants_of(gatehouse, request_id)) == (1 if won is RequestStatus.APPROVED else 0)
    decided = [e.action for e in audited(gatehouse, request_id) if e.action in ("request-approved", "request-refused")]
    assert len(decided) == 1


def test_a_request_for_the_owner_s_team_takes_the_owner_s_step_at_the_platform_team(gatehouse: Gatehouse) -> None:
    """Nobody decides their team's request: carol, the owner, is in the team alice asks for, so the platform team
    takes her step (and she cannot)."""
    personal(gatehouse)
    dave, carol = user(gatehouse, "dave"), user(gatehouse, "carol")
    create_team(gatehouse, dave, "prisons", [user(gatehouse, "alice").id or 0, carol.id or 0])
    asked = actions.request_access(
        gatehouse, user(gatehouse, "alice"), SOURCE, AccessLevel.READ_ONLY, None, NEED, in_days(30), team="prisons"
    )
    outcome = actions.approve_request(gatehouse, user(gatehouse, "bob"), asked.id)
    assert outcome.next_step and "the platform team" in outcome.next_step
    with gatehouse.session() as session:
        assert queues.iao_queue(session, carol).total == 0
        assert [r.id for r in queues.platform_iao_queue(session, dave).items] == [asked.id]
        [mine] = [r for r in queues.my_requests(session, user(gatehouse, "alice")) if r.id == asked.id]
        assert mine.stands == "Approved by bob; waiting for the platform team, in the information asset owner's place"
    with pytest.raises(NotAllowed):
        actions.approve_request(gatehouse, carol, asked.id)
    actions.approve_request(gatehouse, dave, asked.id)
    assert status(gatehouse, asked.id) is RequestStatus.APPROVED
    with gatehouse.session() as session:
        [mine] = [r for r in queues.my_requests(session, user(gatehouse, "alice")) if r.id == asked.id]
        assert mine.stands is None and mine.status is RequestStatus.APPROVED
