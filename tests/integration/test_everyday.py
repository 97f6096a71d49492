"""The everyday stumbles of issue #16, decided in core: one message a decision, an approval that ends access no
later than asked and says first what it does in AWS, a movement form used again in one click, the audit trail
without the day's sign-ins. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core import actions, auth
from core.adapters.models import AuditEvent, DataMovement, DataSource, Grant, MovementKind, Notification, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidFields, InvalidInput, NotAllowed, NotFound, day
from core.movement import FormNeeded
from core.queries import get_user
from core.reads import audit_trail, catalog
from core.reads.approval import ApprovalEffect, approval_effect
from tests.integration.test_movement import form

PRICING = "alpha-pricing-models"  # bob is its admin; alice has nothing on it
NEED = "Quarterly pricing review for the finance committee needs these reports."


def member(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def inbox(gatehouse: Gatehouse, name: str) -> list[str]:
    with gatehouse.session() as session:
        user = get_user(session, name)
        return list(session.exec(select(Notification.subject).where(Notification.user_id == user.id)))


def test_one_approval_is_one_message_saying_what_was_granted_and_until_when(gatehouse: Gatehouse) -> None:
    alice, bob = member(gatehouse, "alice"), member(gatehouse, "bob")
    ends = utcnow().date() + timedelta(days=60)
    asked = actions.request_access(gatehouse, alice, PRICING, AccessLevel.READ_ONLY, "/reports", NEED, ends)
    actions.approve_request(gatehouse, bob, asked.id)
    assert inbox(gatehouse, "alice") == [f"Your request for {PRICING} was approved"]
    with gatehouse.session() as session:
        body = session.exec(select(Notification.body).where(Notification.user_id == alice.id)).one()
    assert body == (f"bob approved your request: you have read only access to {PRICING} (/reports) until {day(ends)}.")


def test_an_approver_ends_access_sooner_than_asked_never_later(gatehouse: Gatehouse) -> None:
    alice, bob = member(gatehouse, "alice"), member(gatehouse, "bob")
    ends = utcnow().date() + timedelta(days=60)
    asked = actions.request_access(gatehouse, alice, PRICING, AccessLevel.READ_ONLY, "/reports", NEED, ends)
    with pytest.raises(InvalidInput, match=f"until {day(ends)}: you can end it sooner, never later"):
        actions.approve_request(gatehouse, bob, asked.id, expires_on=ends + timedelta(days=1))
    sooner = ends - timedelta(days=30)
    actions.approve_request(gatehouse, bob, asked.id, expires_on=sooner)
    mine = gatehouse.run(catalog.usable_sources, alice)
    assert [s.expires_on for s in mine if s.name == PRICING] == [sooner]
    with gatehouse.session() as session:
        approved = session.exec(select(AuditEvent).where(AuditEvent.action == "request-approved")).one()
    assert approved.summary.startswith("bob approved alice's request for alpha-pricing-models")


def test_the_approver_reads_what_approving_does_in_aws_before_clicking(gatehouse: Gatehouse) -> None:
    alice, bob = member(gatehouse, "alice"), member(gatehouse, "bob")
    asked = actions.request_access(gatehouse, alice, PRICING, AccessLevel.READ_WRITE, "/models", NEED)

    def effect(level: AccessLevel, paths: str) -> ApprovalEffect:
        return gatehouse.run(approval_effect, gatehouse.settings, bob, asked.id, level, paths, None)

    assert effect(AccessLevel.READ_WRITE, "/models").changes == [
        f"alice's role gains read and write on {PRICING}/models/*",
        f"alice's role gains the listing of models/ in {PRICING}",
    ]
    assert effect(AccessLevel.READ_ONLY, "/models/v2").changes == [
        f"alice's role gains read on {PRICING}/models/v2/*",
        f"alice's role gains the listing of models/v2/ in {PRICING}",
    ]
    assert effect(AccessLevel.READ_ONLY, "/reports") == ApprovalEffect(
        problems={
            "paths": "You can grant only paths within those asked for (/models): remove the others or narrow them."
        }
    )
    with pytest.raises(NotAllowed):  # only who may decide it reads it
        gatehouse.run(approval_effect, gatehouse.settings, alice, asked.id, AccessLevel.READ_ONLY, "/models", None)
    actions.approve_request(gatehouse, bob, asked.id)
    second = actions.request_access(gatehouse, alice, "alpha-sales-analysis", AccessLevel.READ_ONLY, "/drafts", NEED)
    # alice reads /published already: approving /drafts adds it and leaves /published as it is
    assert gatehouse.run(
        approval_effect, gatehouse.settings, bob, second.id, AccessLevel.READ_ONLY, "/drafts", None
    ).changes == [
        "alice's role gains read on alpha-sales-analysis/drafts/*",
        "alice's role gains the listing of drafts/ in alpha-sales-analysis",
    ]


@pytest.mark.parametrize(
    ("level", "paths", "days"),
    [
        (AccessLevel.READ_ONLY, "/reports", None),  # no end date given: as asked
        (AccessLevel.READ_ONLY, "/reports", 61),  # later than asked
        (AccessLevel.READ_ONLY, "/reports", 30),
        (AccessLevel.READ_WRITE, "/reports", None),  # more than asked
        (AccessLevel.READ_ONLY, "/models", None),  # another path
        (AccessLevel.READ_ONLY, "/reports\n\n/reports/q1", None),  # one path inside another
        (AccessLevel.READ_ONLY, "\ns3://alpha-pricing-models/reports/q1\n\n", 30),  # pasted, blank lines: fine
        (AccessLevel.READ_ONLY, "s3://alpha-sales-analysis/reports", None),  # another source's address
        (AccessLevel.READ_WRITE, "/models", 61),  # three terms wrong: all three said
    ],
)
def test_the_preview_refuses_exactly_what_the_approval_refuses(
    gatehouse: Gatehouse, level: AccessLevel, paths: str, days: int | None
) -> None:
    """What the approver reads before clicking and what the click does are decided by one rule: a preview that says
    "gains" is an approval that grants, a preview that says why not is an approval refused with those words."""
    alice, bob = member(gatehouse, "alice"), member(gatehouse, "bob")
    asked_end = utcnow().date() + timedelta(days=60)
    asked = actions.request_access(gatehouse, alice, PRICING, AccessLevel.READ_ONLY, "/reports", NEED, asked_end)
    ends = utcnow().date() + timedelta(days=days) if days is not None else None
    said = gatehouse.run(approval_effect, gatehouse.settings, bob, asked.id, level, paths, ends)
    previewed_refusal = bool(said.problems)
    try:
        actions.approve_request(gatehouse, bob, asked.id, level, paths, ends)
    except InvalidFields as error:
        assert previewed_refusal and said.problems == error.problems
    else:
        assert not previewed_refusal, said
        mine = gatehouse.run(catalog.usable_sources, alice)
        assert [s.expires_on for s in mine if s.name == PRICING] == [ends or asked_end]


def test_a_form_is_used_again_in_one_click_for_the_same_work_only(gatehouse: Gatehouse) -> None:
    alice, bob = member(gatehouse, "alice"), member(gatehouse, "bob")
    workspace = "alpha-shared-workspace"
    first = actions.record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), workspace)
    again = actions.reuse_movement(gatehouse, alice, first, MovementKind.UPLOAD, workspace)
    assert again != first
    with gatehouse.session() as session:
        old, new = session.get(DataMovement, first), session.get(DataMovement, again)
        assert old is not None and new is not None
        assert (new.description, new.purpose, new.retention) == (old.description, old.purpose, old.retention)
        recorded = session.exec(select(AuditEvent).where(AuditEvent.action == "data-movement-recorded")).all()
    assert recorded[-1].summary == (
        f"alice used data movement form {first} again for an upload ({workspace}): form {again}"
    )
    with pytest.raises(FormNeeded, match="is for an upload"):
        actions.reuse_movement(gatehouse, alice, first, MovementKind.DOWNLOAD, workspace)
    download = actions.record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(), workspace)
    with pytest.raises(NotFound, match=f"You have no data movement form {download}"):  # alice's, not bob's
        actions.reuse_movement(gatehouse, bob, download, MovementKind.DOWNLOAD, workspace)
    with gatehouse.session() as session:
        stale = session.get(DataMovement, first)
        assert stale is not None
        stale.created_at = utcnow() - timedelta(days=2)
        session.add(stale)
    with pytest.raises(FormNeeded, match="more than a day ago"):
        actions.reuse_movement(gatehouse, alice, first, MovementKind.UPLOAD, workspace)


def test_the_audit_trail_leaves_out_sign_ins_until_asked(gatehouse: Gatehouse) -> None:
    dave = member(gatehouse, "dave")
    for name in ("alice", "bob", "dave"):
        gatehouse.run(auth.record_sign_in, name)
    everything = gatehouse.run(audit_trail.search, dave, audit_trail.AuditFilter())
    quiet = gatehouse.run(audit_trail.search, dave, audit_trail.AuditFilter(sign_ins=False))
    assert everything.total - quiet.total == 3
    assert all(row.action not in ("sign-in", "sign-out") for row in quiet.items)
    asked_for = gatehouse.run(audit_trail.search, dave, audit_trail.AuditFilter(sign_ins=False, action="sign-in"))
    assert asked_for.total == 3  # choosing the action shows them, whatever the box says


def test_a_refusal_about_its_reader_speaks_to_them(gatehouse: Gatehouse) -> None:
    """ "bob is the only admin of alpha-pricing-models", said to bob: a sentence about the person who reads it says
    "you"; said to someone else, it names them."""
    bob, alice, dave = member(gatehouse, "bob"), member(gatehouse, "alice"), member(gatehouse, "dave")
    with pytest.raises(InvalidInput, match=rf"^You are the only admin of {PRICING}: make someone else an admin first"):
        actions.revoke_access(gatehouse, bob, PRICING, "bob")
    with pytest.raises(InvalidInput, match=rf"^bob is the only admin of {PRICING}: make someone else an admin first"):
        actions.revoke_access(gatehouse, dave, PRICING, "bob")
    with pytest.raises(InvalidInput, match=rf"^You have no access to {PRICING}\.$"):
        actions.revoke_access(gatehouse, alice, PRICING, "alice")
    with gatehouse.session() as session:
        pricing = session.exec(select(DataSource).where(DataSource.name == PRICING)).one()
        [admin_grant] = session.exec(select(Grant).where(Grant.user_id == bob.id, Grant.source_id == pricing.id))
    with pytest.raises(InvalidInput, match=rf"^You are the only admin of {PRICING}"):
        actions.change_access(gatehouse, bob, PRICING, "bob", admin_grant.id or 0, AccessLevel.READ_ONLY)
