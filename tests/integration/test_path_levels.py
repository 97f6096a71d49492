"""A person may hold several grants on one source, of different levels on separate paths (write the project folder,
read the team's reference data): asked for, approved, listed, changed, revoked a path at a time, ended, adopted from
IAM and enforced. On SQLite and PostgreSQL, against moto's IAM enforcement."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlmodel import select

from core import actions
from core.actions.record_movement import record_movement
from core.actions.upload import upload
from core.adapters.models import AuditEvent, MovementKind, Notification, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, NotAllowed
from core.policy import BucketGrant, compile_role_policies
from core.queries import get_user
from core.reads import catalog
from tests.aws_helpers import as_user
from tests.integration.test_movement import form

SALES = "alpha-sales-analysis"  # alice: read only on /published; bob: admin
NEED = "Quarterly pricing review for the finance committee needs these drafts."
RO, RW = AccessLevel.READ_ONLY, AccessLevel.READ_WRITE


def member(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def holding(gatehouse: Gatehouse, username: str, source: str = SALES) -> list[tuple[str, tuple[str, ...]]]:
    rows = gatehouse.run(catalog.list_access, member(gatehouse, "dave"), username=username, source_name=source)
    return sorted((r.level.value, r.paths) for r in rows)


def test_alice_reads_one_path_and_writes_another_once_bob_approves(gatehouse: Gatehouse) -> None:
    alice, bob = member(gatehouse, "alice"), member(gatehouse, "bob")
    asked = actions.request_access(gatehouse, alice, SALES, RW, "/drafts", NEED)
    outcome = actions.approve_request(gatehouse, bob, asked.id)
    assert outcome.aws_pending is None
    assert holding(gatehouse, "alice") == [("read-only", ("/published",)), ("read-write", ("/drafts",))]
    mine = [(s.name, s.level, s.paths) for s in gatehouse.run(catalog.usable_sources, alice)]
    assert (SALES, RO, ("/published",)) in mine and (SALES, RW, ("/drafts",)) in mine

    gatehouse.aws.put_object(SALES, "published/2026.csv", b"a\n1\n")
    with as_user(gatehouse, "alice") as role:
        assert role.can("get", SALES, "published/2026.csv")
        assert not role.can("put", SALES, "published/2026.csv")
        assert role.can("put", SALES, "drafts/new.csv") and role.can("get", SALES, "drafts/new.csv")
        assert not role.can("get", SALES, "other/f.csv")

    form_id = record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), SALES)
    assert upload(gatehouse, alice, form_id, SALES, "drafts/q1.csv", io.BytesIO(b"a\n1\n"), 4).size == 4
    with pytest.raises(NotAllowed, match=r"read/write access to /drafts of alpha-sales-analysis only: published/q1"):
        upload(gatehouse, alice, form_id, SALES, "published/q1.csv", io.BytesIO(b"a\n1\n"), 4)


def test_asking_for_what_is_held_or_inside_it_is_one_sentence_and_changes_nothing(gatehouse: Gatehouse) -> None:
    alice = member(gatehouse, "alice")
    with pytest.raises(InvalidInput, match=r"^You already have that access to alpha-sales-analysis: read only on "):
        actions.request_access(gatehouse, alice, SALES, RO, "/published/2026", NEED)
    with pytest.raises(InvalidInput, match=r"^You already have read only access to /published, which includes"):
        actions.request_access(gatehouse, alice, SALES, RW, "/published/2026", NEED)
    asked = actions.request_access(gatehouse, alice, SALES, RW, "/published", NEED)  # raising a path is fine
    actions.approve_request(gatehouse, member(gatehouse, "bob"), asked.id)
    assert holding(gatehouse, "alice") == [("read-write", ("/published",))]


def test_bob_revokes_one_path_and_alice_keeps_the_rest(gatehouse: Gatehouse) -> None:
    bob = member(gatehouse, "bob")
    actions.grant_access(gatehouse, bob, SALES, ["alice"], RW, "/drafts\n/scratch")
    with pytest.raises(
        InvalidInput,
        match=r"^alice holds no access on /nowhere of alpha-sales-analysis: the paths they hold are /published, ",
    ):
        actions.revoke_access(gatehouse, bob, SALES, "alice", "/nowhere")
    actions.revoke_access(gatehouse, bob, SALES, "alice", "/drafts")
    assert holding(gatehouse, "alice") == [("read-only", ("/published",)), ("read-write", ("/scratch",))]
    with as_user(gatehouse, "alice") as role:
        assert not role.can("put", SALES, "drafts/f.csv") and role.can("put", SALES, "scratch/f.csv")
    actions.revoke_access(gatehouse, bob, SALES, "alice")
    assert holding(gatehouse, "alice") == []
    with gatehouse.session() as session:
        revoked = session.exec(select(AuditEvent).where(AuditEvent.action == "access-revoked")).all()
    assert [e.summary for e in revoked] == [
        "bob revoked alice's access to /drafts of alpha-sales-analysis",
        "bob revoked alice's access to alpha-sales-analysis",
    ]


def test_edit_changes_one_grant_and_never_makes_it_overlap_another(gatehouse: Gatehouse) -> None:
    bob = member(gatehouse, "bob")
    actions.grant_access(gatehouse, bob, SALES, ["alice"], RW, "/drafts")
    entries = {e.paths: e for e in gatehouse.run(catalog.access_list, bob, SALES).items if e.principal == "alice"}
    published = entries[("/published",)].grant_id
    with pytest.raises(InvalidInput, match=r"^alice also has read/write access to /drafts, which overlaps /drafts/a"):
        actions.change_access(gatehouse, bob, SALES, "alice", published, RO, "/published\n/drafts/a")
    assert holding(gatehouse, "alice") == [("read-only", ("/published",)), ("read-write", ("/drafts",))]
    actions.change_access(gatehouse, bob, SALES, "alice", published, RO, "/published\n/archive")
    assert holding(gatehouse, "alice") == [("read-only", ("/published", "/archive")), ("read-write", ("/drafts",))]


def test_one_of_two_grants_ends_on_its_date_and_says_which(gatehouse: Gatehouse) -> None:
    bob = member(gatehouse, "bob")
    today = utcnow().date()
    actions.grant_access(gatehouse, bob, SALES, ["alice"], RW, "/drafts", today + timedelta(days=1))
    report = actions.expire(gatehouse, today + timedelta(days=2))
    assert report.expired == ["alice on alpha-sales-analysis"]
    assert holding(gatehouse, "alice") == [("read-only", ("/published",))]
    with gatehouse.session() as session:
        told = session.exec(select(Notification.body).where(Notification.subject.contains("has ended"))).all()
    assert any("Your read/write access to alpha-sales-analysis (/drafts) ended on" in body for body in told), told


def test_import_iam_adopts_two_levels_on_one_bucket(gatehouse: Gatehouse) -> None:
    dave = member(gatehouse, "dave")
    actions.add_user(gatehouse, dave, "grace", "grace@example.org")
    documents = compile_role_policies(
        [
            BucketGrant(SALES, RO, ("/reference",)),
            BucketGrant(SALES, RW, ("/project",)),
        ]
    ).documents
    gatehouse.aws.iam.put_role_policy(
        RoleName="alpha_user_grace", PolicyName="s3-access", PolicyDocument=json.dumps(documents[0])
    )
    report = actions.import_roles(gatehouse, dave)
    assert report.imported == 2, report.lines
    assert holding(gatehouse, "grace") == [("read-only", ("/reference",)), ("read-write", ("/project",))]
