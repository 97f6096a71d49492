"""A failed AWS call never loses a decision; retries and reconcile converge; drift is found and repaired;
nothing is written to IAM that is already there."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError
from sqlmodel import select

from core import access, actions, effects, iam_sync
from core.actor import platform_operator
from core.adapters.models import AuditEvent, DataSource, Grant, RoleSync, SyncState
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput
from core.policy import BucketGrant, PolicyTooLarge
from core.queries import get_user
from core.reads import catalog

OPERATOR = platform_operator("test")


@contextmanager
def failing_once(gatehouse: Gatehouse, service: str, operation: str, code: str) -> Iterator[list[str]]:
    """Make the next call of one AWS operation fail with the given error code, as AWS would answer it."""
    failed: list[str] = []

    def fail(**_: object) -> None:
        if not failed:
            failed.append(operation)
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    client = gatehouse.aws.client(service)
    event = f"before-call.{service}.{operation}"
    client.meta.events.register(event, fail)
    try:
        yield failed
    finally:
        client.meta.events.unregister(event, fail)


@contextmanager
def counting_writes(gatehouse: Gatehouse) -> Iterator[Counter[str]]:
    writes: Counter[str] = Counter()
    operations = ("PutRolePolicy", "CreatePolicy", "CreatePolicyVersion", "DeletePolicy", "AttachRolePolicy")

    def count(model, **_: object) -> None:  # type: ignore[no-untyped-def]
        writes[model.name] += 1

    client = gatehouse.aws.iam
    for operation in operations:
        client.meta.events.register(f"before-call.iam.{operation}", count)
    try:
        yield writes
    finally:
        for operation in operations:
            client.meta.events.unregister(f"before-call.iam.{operation}", count)


def converge(gatehouse: Gatehouse) -> None:
    actions.provision_pending(gatehouse)
    iam_sync.sync_pending(gatehouse)
    assert actions.find_drift(gatehouse, OPERATOR) == []
    with gatehouse.session() as session:
        assert set(session.exec(select(RoleSync.state)).all()) == {SyncState.APPLIED}


GRANT_CALLS = [("iam", op) for op in ("GetRole", "GetRolePolicy", "ListAttachedRolePolicies", "PutRolePolicy")]
CODES = ["Throttling", "ServiceUnavailable", "AccessDenied"]


@pytest.mark.parametrize(("service", "operation"), GRANT_CALLS)
@pytest.mark.parametrize("code", CODES)
def test_a_grant_survives_any_failed_call_and_converges(
    gatehouse: Gatehouse, service: str, operation: str, code: str
) -> None:
    with failing_once(gatehouse, service, operation, code) as failed:
        outcome = actions.grant_access(gatehouse, OPERATOR, "alpha-pricing-models", ["alice"], AccessLevel.READ_ONLY)
    assert failed == [operation]
    assert outcome.recorded == ["alice"]
    with gatehouse.session() as session:
        alice = get_user(session, "alice")
        usable = {s.name: s for s in catalog.usable_sources(session, alice)}
    if outcome.failed:  # the failure reached the sync: the grant is recorded, shown as not applied, with the reason
        assert not usable["alpha-pricing-models"].applied
        assert code in (usable["alpha-pricing-models"].apply_error or "")
    assert usable["alpha-pricing-models"].level is AccessLevel.READ_ONLY
    converge(gatehouse)


@pytest.mark.parametrize("operation", ["GetRolePolicy", "PutRolePolicy"])
def test_a_revoke_survives_a_failed_call_and_converges(gatehouse: Gatehouse, operation: str) -> None:
    with failing_once(gatehouse, "iam", operation, "Throttling"):
        outcome = actions.revoke_access(gatehouse, OPERATOR, "alpha-shared-workspace", "alice")
    assert outcome.failed
    with gatehouse.session() as session:
        assert session.exec(select(Grant).where(Grant.user_id == get_user(session, "alice").id)).all()
        sync = session.exec(select(RoleSync).where(RoleSync.role_name == "alpha_user_alice")).one()
        assert sync.state == SyncState.FAILED and "Throttling" in (sync.last_error or "")
    converge(gatehouse)
    live = gatehouse.aws.iam.get_role_policy(RoleName="alpha_user_alice", PolicyName="s3-access")["PolicyDocument"]
    assert "alpha-shared-workspace" not in json.dumps(live)


def test_a_leaver_whose_revoke_aws_has_not_applied_is_told_as_pending(gatehouse: Gatehouse) -> None:
    """What the CLI and the Platform page say about a leaver is true in AWS when they say it."""
    from core.actions.mark_left import mark_left

    with failing_once(gatehouse, "iam", "PutRolePolicy", "Throttling"):
        departure = mark_left(gatehouse, OPERATOR, "Bob")  # as typed: capitals fold to the stored name
    assert departure.username == "bob" and departure.aws_pending and "Throttling" in departure.aws_pending
    assert departure.outcome.startswith("bob has left; removing their access in AWS is pending (")
    live = gatehouse.aws.iam.get_role_policy(RoleName="alpha_user_bob", PolicyName="s3-access")["PolicyDocument"]
    assert "alpha-pricing-models" in json.dumps(live)  # as the message says: not yet
    converge(gatehouse)
    live = gatehouse.aws.iam.get_role_policy(RoleName="alpha_user_bob", PolicyName="s3-access")["PolicyDocument"]
    assert "alpha-pricing-models" not in json.dumps(live)


CREATE_CALLS = [
    ("s3", op)
    for op in ("CreateBucket", "PutPublicAccessBlock", "PutBucketEncryption", "PutBucketVersioning", "PutBucketTagging")
] + [("iam", "CreateRole"), ("iam", "PutRolePolicy")]


@pytest.mark.parametrize(("service", "operation"), CREATE_CALLS)
def test_creating_a_source_survives_any_failed_call_and_converges(
    gatehouse: Gatehouse, service: str, operation: str
) -> None:
    from core.actions.add_user import add_user

    add_user(gatehouse, OPERATOR, "nina", "nina@example.org")  # her role does not exist until now
    gatehouse.aws.iam.delete_role_policy(RoleName="alpha_user_nina", PolicyName="s3-access")
    gatehouse.aws.iam.delete_role(RoleName="alpha_user_nina")  # so that CreateRole is called again
    with failing_once(gatehouse, service, operation, "InternalError") as failed:
        created = actions.create_source(gatehouse, OPERATOR, "alpha-nina-project", admin="nina")
    assert failed == [operation]
    with gatehouse.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == "alpha-nina-project")).one()
        assert source.provisioned_at is not None or "InternalError" in (source.provision_error or "")
    assert created.provisioned == (service == "iam")
    converge(gatehouse)
    s3 = gatehouse.aws.s3
    assert s3.get_bucket_versioning(Bucket="alpha-nina-project")["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket="alpha-nina-project")["PublicAccessBlockConfiguration"].values())


@pytest.mark.both_databases  # a unique violation read per driver
def test_a_taken_bucket_name_is_a_form_error_and_records_nothing(gatehouse: Gatehouse) -> None:
    gatehouse.aws.s3.create_bucket(
        Bucket="alpha-someone-elses", CreateBucketConfiguration={"LocationConstraint": gatehouse.settings.region}
    )
    with gatehouse.session() as session:
        alice = get_user(session, "alice")
    with pytest.raises(InvalidInput, match="already taken"):
        actions.create_source(gatehouse, alice, "alpha-someone-elses")
    with gatehouse.session() as session:
        assert session.exec(select(DataSource).where(DataSource.name == "alpha-someone-elses")).first() is None


def test_an_out_of_band_edit_is_reported_then_repaired_and_audited(gatehouse: Gatehouse) -> None:
    wide_open = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    gatehouse.aws.iam.put_role_policy(
        RoleName="alpha_user_alice", PolicyName="s3-access", PolicyDocument=json.dumps(wide_open)
    )
    drift = actions.find_drift(gatehouse, OPERATOR)
    assert [d.role_name for d in drift] == ["alpha_user_alice"]
    assert drift[0].what.startswith("IAM has other actions (s3:*) on every resource (*) that Gatehouse did not grant")
    actions.repair(gatehouse, drift, OPERATOR)
    assert actions.find_drift(gatehouse, OPERATOR) == []
    with gatehouse.session() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "drift-repaired")).one()
    assert event.subject == "alpha_user_alice" and event.actor == "cli:test"


def test_a_deleted_role_is_drift_and_is_recreated(gatehouse: Gatehouse) -> None:
    iam = gatehouse.aws.iam
    iam.delete_role_policy(RoleName="alpha_user_bob", PolicyName="s3-access")
    iam.delete_role(RoleName="alpha_user_bob")
    drift = actions.find_drift(gatehouse, OPERATOR)
    assert [(d.role_name, d.what) for d in drift] == [("alpha_user_bob", "the role does not exist")]
    actions.repair(gatehouse, drift, OPERATOR)
    assert actions.find_drift(gatehouse, OPERATOR) == []


def test_policies_are_written_only_when_they_change(gatehouse: Gatehouse) -> None:
    with counting_writes(gatehouse) as writes:
        access.mark_all_changed(gatehouse)
        iam_sync.sync_pending(gatehouse)
    assert sum(writes.values()) == 0  # everything was already applied: nothing to write
    with counting_writes(gatehouse) as writes:
        actions.grant_access(gatehouse, OPERATOR, "alpha-pricing-models", ["alice", "carol"], AccessLevel.READ_ONLY)
    assert writes == Counter({"PutRolePolicy": 2})  # one write for each changed role's one changed policy


def many_buckets(count: int) -> list[BucketGrant]:
    return [BucketGrant(f"alpha-bench-source-{n:05d}", AccessLevel.READ_WRITE) for n in range(count)]


def test_a_user_with_many_grants_spills_into_managed_policies_and_back(bare_gatehouse: Gatehouse) -> None:
    from core.actions.add_user import add_user

    gatehouse = bare_gatehouse
    add_user(gatehouse, OPERATOR, "heavy", "heavy@example.org")
    add_user(gatehouse, OPERATOR, "owner", "owner@example.org")
    names = [g.bucket for g in many_buckets(400)]
    with gatehouse.session() as session:
        heavy, owner = get_user(session, "heavy"), get_user(session, "owner")
        for name in names:
            source = DataSource(name=name, kind="warehouse", region="eu-west-1", provisioned_at=heavy.created_at)
            session.add(source)
            session.flush()
            session.add(Grant(source_id=source.id, user_id=owner.id, level=AccessLevel.ADMIN))
            session.add(Grant(source_id=source.id, user_id=heavy.id, level=AccessLevel.READ_WRITE))
        access.mark_changed(session, [access.user_principal("alpha", heavy), access.user_principal("alpha", owner)])
    assert [o.error for o in effects.applied(session)] == [None, None]  # applied as the unit of work committed
    live = gatehouse.aws.read_role_policies("alpha_user_heavy")
    assert len(live.managed) >= 1
    assert actions.find_drift(gatehouse, OPERATOR) == []
    with gatehouse.session() as session:  # most of heavy's access goes at once (say, a project ended)
        heavy = get_user(session, "heavy")
        kept = set(names[:50])
        for grant, name in session.exec(
            select(Grant, DataSource.name).join(DataSource).where(Grant.user_id == heavy.id)
        ).all():
            if name not in kept:
                session.delete(grant)
        access.mark_changed(session, [access.user_principal("alpha", heavy)])
    iam_sync.sync_pending(gatehouse)
    assert gatehouse.aws.read_role_policies("alpha_user_heavy").managed == {}
    remaining = gatehouse.aws.iam.list_policies(Scope="Local", PathPrefix="/gatehouse/")["Policies"]
    assert not [p for p in remaining if "alpha_user_heavy" in p["PolicyName"]]  # detached and deleted
    assert actions.find_drift(gatehouse, OPERATOR) == []


def heavy_and_owned_sources(gatehouse: Gatehouse, count: int) -> None:
    """Two members, heavy (who will be granted) and owner (the admin of `count` sources made for it)."""
    from core.actions.add_user import add_user

    add_user(gatehouse, OPERATOR, "heavy", "heavy@example.org")
    add_user(gatehouse, OPERATOR, "owner", "owner@example.org")
    with gatehouse.session() as session:
        owner = get_user(session, "owner")
        for grant in many_buckets(count):
            source = DataSource(
                name=grant.bucket, kind="warehouse", region="eu-west-1", provisioned_at=owner.created_at
            )
            session.add(source)
            session.flush()
            session.add(Grant(source_id=source.id, user_id=owner.id, level=AccessLevel.ADMIN))


def test_a_grant_that_cannot_fit_is_refused_before_anything_changes(bare_gatehouse: Gatehouse) -> None:
    gatehouse = bare_gatehouse
    gatehouse.settings.managed_policy_quota = 0  # only the inline policy: room for far fewer grants
    heavy_and_owned_sources(gatehouse, 400)
    fitted = 0
    with pytest.raises(PolicyTooLarge, match="10,240") as refused:
        for grant in many_buckets(400):
            actions.grant_access(gatehouse, OPERATOR, grant.bucket, ["heavy"], AccessLevel.READ_WRITE)
            fitted += 1
    assert "." in str(refused.value) and 50 < fitted < 400
    live = gatehouse.aws.read_role_policies("alpha_user_heavy")
    with gatehouse.session() as session:
        recorded = len(session.exec(select(Grant).where(Grant.user_id == get_user(session, "heavy").id)).all())
    assert recorded == fitted  # the refused grant was not recorded
    assert json.dumps(live.inline).count("alpha-bench-source-") >= fitted


def test_other_inline_policies_on_a_role_share_its_inline_quota(bare_gatehouse: Gatehouse) -> None:
    """IAM's 10,240 characters are for all the inline policies of a role: a policy someone else put there leaves
    Gatehouse less, and a grant past what is left is refused cleanly, instead of a LimitExceeded from AWS later."""
    gatehouse = bare_gatehouse
    gatehouse.settings.managed_policy_quota = 0  # only the inline quota, so the figures are plain
    heavy_and_owned_sources(gatehouse, 40)
    theirs = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": f"Theirs{n}", "Effect": "Allow", "Action": "athena:GetQueryResults", "Resource": "*"}
            for n in range(110)
        ],
    }
    gatehouse.aws.iam.put_role_policy(
        RoleName="alpha_user_heavy", PolicyName="team-extra", PolicyDocument=json.dumps(theirs)
    )
    assert 8_000 < len(json.dumps(theirs, separators=(",", ":"))) < 10_000
    fitted = 0
    with pytest.raises(PolicyTooLarge, match="other inline policies leave"):
        for grant in many_buckets(40):
            actions.grant_access(gatehouse, OPERATOR, grant.bucket, ["heavy"], AccessLevel.READ_WRITE)
            fitted += 1
    assert 0 < fitted < 20  # alone, the inline policy holds about a hundred such grants
    live = gatehouse.aws.read_role_policies("alpha_user_heavy")
    written = len(json.dumps(live.inline, separators=(",", ":")))
    assert written + live.inline_by_others <= 10_240 and live.inline_by_others > 8_000
    their_policy = gatehouse.aws.iam.get_role_policy(RoleName="alpha_user_heavy", PolicyName="team-extra")
    assert their_policy["PolicyDocument"] == theirs  # never touched
