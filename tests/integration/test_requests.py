"""The access workflows of every persona, end to end through the core use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from core import actions
from core.actor import platform_operator
from core.adapters.models import AccessRequest, AuditEvent, Grant, Notification, RequestStatus, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, GatehouseError, InvalidInput, NotAllowed, NotFound, SourceKind, day
from core.queries import get_user
from core.reads import catalog, queues
from core.reads.people import signed_in
from tests.aws_helpers import as_user

NEED = "Quarterly pricing review for the finance committee needs these reports."


def user(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def inbox_count(gatehouse: Gatehouse, name: str) -> int:
    with gatehouse.session() as session:
        return signed_in(session, name).unread


def test_alice_asks_bob_approves_and_her_role_reads_exactly_there(gatehouse: Gatehouse) -> None:
    alice, bob = user(gatehouse, "alice"), user(gatehouse, "bob")
    bob_inbox = inbox_count(gatehouse, "bob")
    asked = actions.request_access(gatehouse, alice, "alpha-pricing-models", AccessLevel.READ_ONLY, "/reports", NEED)
    assert asked.status is RequestStatus.PENDING_ADMIN
    assert asked.waits_for == "an admin of the source: bob"
    assert inbox_count(gatehouse, "bob") == bob_inbox + 1
    with gatehouse.session() as session:
        assert [r.id for r in queues.admin_queue(session, bob).items] == [asked.id]
        assert queues.admin_queue(session, user(gatehouse, "carol")).total == 0
    outcome = actions.approve_request(gatehouse, bob, asked.id)
    assert outcome.failed == []
    with as_user(gatehouse, "alice") as role:
        assert role.can("get", "alpha-pricing-models", "reports/prices_q3.csv")
        assert not role.can("get", "alpha-pricing-models", "models/elasticity.parquet")
        assert not role.can("put", "alpha-pricing-models", "reports/new.csv")
    with gatehouse.session() as session:
        [mine] = [r for r in queues.my_requests(session, alice) if r.id == asked.id]
        assert mine.status is RequestStatus.APPROVED
        recorded = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.request_id == asked.id))]
    assert recorded == ["request-made", "access-granted", "request-approved"]
    assert inbox_count(gatehouse, "alice") >= 1


def test_an_orphaned_source_goes_to_the_line_manager_then_the_platform_team(gatehouse: Gatehouse) -> None:
    alice, carol, dave, bob = (user(gatehouse, n) for n in ("alice", "carol", "dave", "bob"))
    asked = actions.request_access(gatehouse, alice, "alpha-legacy-orphan", AccessLevel.READ_ONLY, None, NEED)
    assert asked.status is RequestStatus.PENDING_LINE_MANAGER
    assert asked.waits_for == "your line manager, carol"
    with pytest.raises(InvalidInput, match="line manager must confirm"):
        actions.approve_request(gatehouse, dave, asked.id)
    with pytest.raises(NotAllowed, match="line manager"):
        actions.confirm_request(gatehouse, bob, asked.id)
    with gatehouse.session() as session:
        assert [r.id for r in queues.awaiting_confirmation(session, carol).items] == [asked.id]
    actions.confirm_request(gatehouse, carol, asked.id)
    with gatehouse.session() as session:
        assert queues.awaiting_confirmation(session, carol).total == 0
        assert [r.id for r in queues.platform_queue(session, dave).items] == [asked.id]
        with pytest.raises(NotAllowed):
            queues.platform_queue(session, carol)
    with pytest.raises(NotAllowed, match="platform team"):
        actions.approve_request(gatehouse, carol, asked.id)
    actions.approve_request(gatehouse, dave, asked.id)
    with as_user(gatehouse, "alice") as role:
        assert role.can("get", "alpha-legacy-orphan", "archive/legacy_2019.csv")


def test_a_line_manager_in_the_platform_team_does_not_grant_what_they_confirmed(gatehouse: Gatehouse) -> None:
    """Confirming and granting are two people's steps: carol, alice's line manager, joins the platform team; she
    confirms alice's request for the orphaned source, cannot grant it herself, and dave (the platform team) can."""
    with gatehouse.session() as session:
        session.exec(update(User).where(col(User.username) == "carol").values(is_platform_admin=True))
    alice, carol, dave = (user(gatehouse, n) for n in ("alice", "carol", "dave"))
    asked = actions.request_access(gatehouse, alice, "alpha-legacy-orphan", AccessLevel.READ_ONLY, None, NEED)
    actions.confirm_request(gatehouse, carol, asked.id)
    with pytest.raises(NotAllowed, match="another member of the platform team must grant it"):
        actions.approve_request(gatehouse, carol, asked.id)
    with gatehouse.session() as session:
        assert session.get(AccessRequest, asked.id).status == RequestStatus.PENDING_PLATFORM
        assert session.exec(select(Grant).where(Grant.request_id == asked.id)).first() is None
    actions.approve_request(gatehouse, dave, asked.id)
    with as_user(gatehouse, "alice") as role:
        assert role.can("get", "alpha-legacy-orphan", "archive/legacy_2019.csv")


def test_without_a_line_manager_the_request_goes_straight_to_the_platform_team_flagged(gatehouse: Gatehouse) -> None:
    carol = user(gatehouse, "carol")  # carol has no line manager
    asked = actions.request_access(gatehouse, carol, "alpha-legacy-orphan", AccessLevel.READ_ONLY, None, NEED)
    assert asked.status is RequestStatus.PENDING_PLATFORM and asked.no_line_manager
    assert "no line manager" in asked.waits_for


def test_nobody_decides_their_own_request(gatehouse: Gatehouse) -> None:
    dave = user(gatehouse, "dave")  # platform team, no line manager: his request waits for the platform team
    asked = actions.request_access(gatehouse, dave, "alpha-legacy-orphan", AccessLevel.READ_ONLY, None, NEED)
    with pytest.raises(NotAllowed, match="Nobody decides their own request"):
        actions.approve_request(gatehouse, dave, asked.id)
    with pytest.raises(NotAllowed, match="Nobody decides their own request"):
        actions.refuse_request(gatehouse, dave, asked.id, "not needed after all")


def test_an_admin_may_grant_less_than_asked_but_never_more(gatehouse: Gatehouse) -> None:
    alice, bob = user(gatehouse, "alice"), user(gatehouse, "bob")
    asked = actions.request_access(
        gatehouse, alice, "alpha-pricing-models", AccessLevel.READ_WRITE, "/reports\n/models", NEED
    )
    with pytest.raises(InvalidInput, match="at most"):
        actions.approve_request(gatehouse, bob, asked.id, level=AccessLevel.ADMIN)
    with pytest.raises(InvalidInput, match="only paths within"):
        actions.approve_request(gatehouse, bob, asked.id, paths="/other")
    actions.approve_request(gatehouse, bob, asked.id, level=AccessLevel.READ_ONLY, paths="/reports")
    with gatehouse.session() as session:
        grant = session.exec(select(Grant).where(Grant.user_id == alice.id, Grant.request_id == asked.id)).one()
        [view] = [r for r in queues.my_requests(session, alice) if r.id == asked.id]
    assert (grant.level, grant.paths) == (AccessLevel.READ_ONLY, ("/reports",))
    assert view.granted == "Read only (/reports)"


def test_a_refusal_needs_a_reason_and_is_final(gatehouse: Gatehouse) -> None:
    alice, bob = user(gatehouse, "alice"), user(gatehouse, "bob")
    asked = actions.request_access(gatehouse, alice, "alpha-pricing-models", AccessLevel.READ_ONLY, None, NEED)
    with pytest.raises(InvalidInput, match="reason"):
        actions.refuse_request(gatehouse, bob, asked.id, " ")
    actions.refuse_request(gatehouse, bob, asked.id, "Use the published extract instead.")
    with pytest.raises(NotAllowed, match="already refused"):
        actions.approve_request(gatehouse, bob, asked.id)
    with pytest.raises(NotAllowed, match="Only the person who asked"):
        actions.withdraw_request(gatehouse, bob, asked.id)
    with pytest.raises(InvalidInput, match="already refused"):
        actions.withdraw_request(gatehouse, alice, asked.id)
    with gatehouse.session() as session:
        [view] = [r for r in queues.my_requests(session, alice) if r.id == asked.id]
    assert view.decision_reason == "Use the published extract instead."


@pytest.mark.both_databases  # the one-open-request partial index
def test_withdrawing_lets_the_requester_ask_again(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    asked = actions.request_access(gatehouse, alice, "alpha-pricing-models", AccessLevel.READ_ONLY, None, NEED)
    with pytest.raises(InvalidInput, match="already asked"):
        actions.request_access(gatehouse, alice, "alpha-pricing-models", AccessLevel.READ_WRITE, None, NEED)
    actions.withdraw_request(gatehouse, alice, asked.id)
    again = actions.request_access(gatehouse, alice, "alpha-pricing-models", AccessLevel.READ_WRITE, None, NEED)
    assert again.status is RequestStatus.PENDING_ADMIN


@pytest.mark.parametrize(
    ("username", "source", "level", "paths", "need", "error", "message"),
    [
        ("alice", "alpha-sales-analysis", AccessLevel.READ_ONLY, "/published", NEED, InvalidInput, "already have"),
        ("alice", "alpha-shared-workspace", AccessLevel.READ_ONLY, None, NEED, InvalidInput, "already have"),
        ("alice", "alpha-de-raw-intake", AccessLevel.READ_ONLY, None, NEED, NotFound, "no data source"),
        ("alice", "alpha-nowhere", AccessLevel.READ_ONLY, None, NEED, NotFound, "no data source"),
        ("alice", "alpha-pricing-models", AccessLevel.READ_ONLY, None, "need it", InvalidInput, "business need"),
        (
            "alice",
            "alpha-pricing-models",
            AccessLevel.READ_ONLY,
            "/a\n\ns3://alpha-sales-analysis/b",  # the blank line is dropped; another source's address is not
            NEED,
            InvalidInput,
            "Line 3 .* is in alpha-sales-analysis, not in alpha-pricing-models",
        ),
        ("erin", "alpha-pricing-models", AccessLevel.READ_ONLY, None, NEED, NotAllowed, "has left"),
    ],
)
def test_requests_refused_up_front_with_the_reason(
    gatehouse: Gatehouse,
    username: str,
    source: str,
    level: AccessLevel,
    paths: str | None,
    need: str,
    error: type[GatehouseError],
    message: str,
) -> None:
    with gatehouse.session() as session:
        before = len(session.exec(select(AccessRequest)).all())
    with pytest.raises(error, match=message):
        actions.request_access(gatehouse, user(gatehouse, username), source, level, paths, need)
    with gatehouse.session() as session:
        assert len(session.exec(select(AccessRequest)).all()) == before


def test_asking_for_more_than_held_is_allowed(gatehouse: Gatehouse) -> None:
    asked = actions.request_access(
        gatehouse, user(gatehouse, "alice"), "alpha-sales-analysis", AccessLevel.READ_ONLY, "/drafts", NEED
    )
    assert asked.status is RequestStatus.PENDING_ADMIN


def test_archiving_ends_access_refuses_open_requests_and_tags_the_bucket(gatehouse: Gatehouse) -> None:
    alice, bob, carol = (user(gatehouse, n) for n in ("alice", "bob", "carol"))
    asked = actions.request_access(gatehouse, carol, "alpha-sales-analysis", AccessLevel.READ_ONLY, None, NEED)
    with pytest.raises(NotAllowed):
        actions.archive_source(gatehouse, alice, "alpha-sales-analysis")
    assert actions.archive_source(gatehouse, bob, "alpha-sales-analysis").aws_pending is None
    with as_user(gatehouse, "alice") as role:
        assert not role.can("get", "alpha-sales-analysis", "published/sales_2025.csv")
    tags = gatehouse.aws.s3.get_bucket_tagging(Bucket="alpha-sales-analysis")["TagSet"]
    assert {"Key": "archive", "Value": "true"} in tags and {"Key": "buckettype", "Value": "datawarehouse"} in tags
    assert gatehouse.aws.bucket_exists("alpha-sales-analysis")  # data kept
    with gatehouse.session() as session:
        assert session.get(AccessRequest, asked.id).status == RequestStatus.REFUSED
    with pytest.raises(InvalidInput, match="archived"):
        actions.request_access(gatehouse, alice, "alpha-sales-analysis", AccessLevel.READ_WRITE, None, NEED)


def test_webapp_source_requests_go_to_the_platform_team_who_create_them(gatehouse: Gatehouse) -> None:
    alice, dave = user(gatehouse, "alice"), user(gatehouse, "dave")
    with pytest.raises(NotAllowed):
        actions.create_source(gatehouse, alice, "alpha-my-webapp", SourceKind.WEBAPP, app_name="my-app")
    asked = actions.request_webapp_source(gatehouse, alice, "alpha-my-webapp", "my-app", NEED)
    with gatehouse.session() as session:
        assert [r.id for r, _ in queues.source_requests(session, dave).items] == [asked.id]
    created = actions.create_webapp_source(gatehouse, dave, asked.id or 0)
    assert created is not None and created.aws_pending is None
    rows = gatehouse.run(catalog.list_access, platform_operator("t"), source_name="alpha-my-webapp")
    assert {(r.principal, r.level) for r in rows} == {
        ("alice", AccessLevel.ADMIN),
        ("app:my-app", AccessLevel.READ_ONLY),
    }
    assert gatehouse.aws.iam.get_role(RoleName="alpha_app_my-app")


def test_time_limited_access_warns_once_then_ends_in_iam(gatehouse: Gatehouse) -> None:
    from core.actions.expire import expire

    bob = user(gatehouse, "bob")
    soon = utcnow().date() + timedelta(days=3)
    actions.grant_access(gatehouse, bob, "alpha-pricing-models", ["alice"], AccessLevel.READ_ONLY, "/reports", soon)
    first = expire(gatehouse)
    assert first.warned == [f"alice on alpha-pricing-models, ends {day(soon)}"] and first.expired == []
    assert expire(gatehouse).warned == []  # told once
    with gatehouse.session() as session:
        kinds = session.exec(select(Notification.user_id).where(Notification.kind == "access-ending")).all()
    assert sorted(kinds) == sorted([user(gatehouse, "alice").id, bob.id])
    with as_user(gatehouse, "alice") as role:
        assert role.can("get", "alpha-pricing-models", "reports/prices_q3.csv")
    ended = expire(gatehouse, today=soon + timedelta(days=1))
    assert ended.expired == ["alice on alpha-pricing-models"] and ended.sync_errors == []
    with as_user(gatehouse, "alice") as role:
        assert not role.can("get", "alpha-pricing-models", "reports/prices_q3.csv")
    with gatehouse.session() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "access-expired")).one()
        assert session.exec(select(Grant).where(col(Grant.expires_on).is_not(None))).all() == []
