"""Start-up on a real database (SQLite and PostgreSQL) and moto's server: demo data, AWS applied, My data."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from core import auth
from core.adapters.models import AuditEvent, DataSource, Notification, RoleSync, SyncState, User
from core.config import Settings
from core.context import Gatehouse
from core.domain import AccessLevel, NotAllowed, NotFound, SourceKind
from core.queries import get_user
from core.reads import catalog
from core.reads.people import active_user, signed_in
from core.startup import start

# Start-up itself, from an empty database, seeding under each database's own lock
pytestmark = [pytest.mark.both_databases, pytest.mark.first_start]


def test_start_seeds_the_demo_and_applies_it_to_the_emulation(gatehouse: Gatehouse) -> None:
    aws = gatehouse.aws
    with gatehouse.session() as session:
        sources = session.exec(select(DataSource)).all()
        users = session.exec(select(User)).all()
        syncs = session.exec(select(RoleSync)).all()
    assert {u.username for u in users} == {"alice", "bob", "carol", "dave", "erin"}
    assert len(sources) == 6
    for source in sources:
        assert aws.bucket_exists(source.name), source.name
    assert {"published/sales_2025.csv", "published/sales_2025.parquet"} <= {
        o["Key"] for o in aws.s3.list_objects_v2(Bucket="alpha-sales-analysis")["Contents"]
    }
    for user in users:
        assert aws.iam.get_role(RoleName=f"alpha_user_{user.username}")
    assert aws.iam.get_role(RoleName="alpha_app_court-dashboard")
    assert {s.state for s in syncs} == {SyncState.APPLIED}


def test_buckets_are_hardened(gatehouse: Gatehouse) -> None:
    s3 = gatehouse.aws.s3
    bucket = "alpha-sales-analysis"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags["buckettype"] == "datawarehouse"
    assert tags["created-by"] == "bob"
    webapp_tags = s3.get_bucket_tagging(Bucket="alpha-court-dashboard-data")["TagSet"]
    assert {"Key": "buckettype", "Value": "webapp"} in webapp_tags
    # History has a known cost: earlier versions go after the retention, uploads that never completed after a week.
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    assert all(rule["Status"] == "Enabled" for rule in rules.values())


def test_restart_keeps_the_database_and_reapplies_a_forgetful_emulation(
    gatehouse: Gatehouse, settings: Settings, moto_endpoint: str
) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))
    again = start(settings)
    with again.session() as session:
        assert len(session.exec(select(User)).all()) == 5  # not seeded twice
    assert again.aws.bucket_exists("alpha-legacy-orphan")
    assert again.aws.iam.get_role_policy(RoleName="alpha_user_alice", PolicyName="s3-access")
    again.engine.dispose()


def test_alice_sees_her_path_grant_and_never_the_hidden_bucket(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        alice = get_user(session, "alice")
        usable = {s.name: s for s in catalog.usable_sources(session, alice)}
        others = catalog.other_sources(session, alice)
    assert usable["alpha-sales-analysis"].level is AccessLevel.READ_ONLY
    assert usable["alpha-sales-analysis"].paths == ("/published",)
    assert usable["alpha-shared-workspace"].level is AccessLevel.READ_WRITE
    assert usable["alpha-shared-workspace"].paths == ()
    assert all(s.applied for s in usable.values())
    # Open on AWS goes straight to the granted path: the role may not list the bucket's root
    assert usable["alpha-sales-analysis"].console_urls == (
        "https://eu-west-1.console.aws.amazon.com/s3/buckets/alpha-sales-analysis"
        "?region=eu-west-1&tab=objects&prefix=published/",
    )
    assert usable["alpha-shared-workspace"].console_urls == (
        "https://eu-west-1.console.aws.amazon.com/s3/buckets/alpha-shared-workspace?region=eu-west-1&tab=objects",
    )
    names = {o.name: o for o in others.items}
    assert "alpha-de-raw-intake" not in names and "alpha-de-raw-intake" not in usable
    assert names["alpha-pricing-models"].admins == ("bob",)
    assert names["alpha-legacy-orphan"].orphaned  # erin, its only admin, has left
    assert names["alpha-court-dashboard-data"].kind is SourceKind.WEBAPP


def test_other_sources_are_searched_and_paged_in_the_database(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        alice = get_user(session, "alice")
        found = catalog.other_sources(session, alice, search="PRICING")
        first = catalog.other_sources(session, alice, limit=2)
        second = catalog.other_sources(session, alice, offset=2, limit=2)
    assert [o.name for o in found.items] == ["alpha-pricing-models"]
    assert first.total == second.total == 3
    assert len(first.items) == 2 and len(second.items) == 1
    assert not {o.name for o in first.items} & {o.name for o in second.items}


def test_platform_admin_sees_hidden_sources(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        dave = get_user(session, "dave")
        carol = get_user(session, "carol")
        dave_sees = {o.name for o in catalog.other_sources(session, dave).items}
        dave_sees |= {s.name for s in catalog.usable_sources(session, dave)}
        carol_sees = {o.name for o in catalog.other_sources(session, carol).items}
    assert "alpha-de-raw-intake" in dave_sees
    assert "alpha-de-raw-intake" not in carol_sees


def test_roles_follow_from_the_data(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        roles = {name: signed_in(session, name).roles for name in ("alice", "bob", "carol", "dave")}
    assert not any((roles["alice"].source_admin, roles["alice"].line_manager, roles["alice"].platform_admin))
    assert roles["bob"].source_admin and not roles["bob"].platform_admin
    assert roles["carol"].line_manager
    assert roles["dave"].platform_admin
    with gatehouse.session() as session:  # what every page rerun reads in one round trip
        alice = get_user(session, "alice")
        before = signed_in(session, "alice").unread
        session.add(Notification(user_id=alice.id, kind="decision", subject="Approved", body="Your request"))
        session.flush()
        assert signed_in(session, "Alice ").unread == before + 1
        with pytest.raises(NotAllowed, match="has left"):
            signed_in(session, "erin")
        with pytest.raises(NotFound):
            signed_in(session, "nobody")


def test_someone_who_has_left_cannot_act_or_sign_in(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        with pytest.raises(NotAllowed, match="has left"):
            active_user(session, "erin")
        assert auth.account(session, "erin") is None
    accounts = auth.Accounts(lambda username: gatehouse.run(auth.account, username))
    assert "erin" not in accounts and accounts.get("erin") is None
    assert "alice" in accounts and accounts["alice"]["password"].startswith("$2")
    assert "nobody" not in accounts
    with pytest.raises(KeyError):
        accounts["nobody"]


def test_the_audit_trail_is_append_only(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        assert session.exec(select(AuditEvent)).first() is not None
    for statement in ("UPDATE audit_events SET summary = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), gatehouse.engine.begin() as connection:
            connection.execute(text(statement))


def test_aws_mode_uses_the_standard_chain_and_aws_endpoint_url(
    moto_reset: str,
    database_url: str,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """Production's code path against any endpoint that speaks S3 and IAM: credentials from the environment (the
    standard boto3 chain), the endpoint from AWS_ENDPOINT_URL, no emulation started, no demo seeded."""
    from core.actions.add_user import add_user
    from core.actions.create_source import create_source
    from core.cli_common import operator as _actor

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "production-like")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "production-like")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_reset)
    settings = Settings(
        _env_file=None,
        aws_mode="aws",
        database_url=database_url,
        data_dir=tmp_path,
        cookie_key="a-production-secret-of-more-than-32-characters",
        sign_in="password",
        local_aws_port=1,  # nothing listens there
    )
    gatehouse = start(settings)
    with gatehouse.session() as session:
        assert session.exec(select(User)).all() == []  # no demo in aws mode
    operator = _actor()
    add_user(gatehouse, operator, "owner", "owner@example.org")
    created = create_source(gatehouse, operator, "alpha-production-like", admin="owner")
    assert created.provisioned
    tags = gatehouse.aws.s3.get_bucket_tagging(Bucket="alpha-production-like")["TagSet"]
    assert {"Key": "created-by", "Value": "owner"} in tags
    assert "aws:SecureTransport" in gatehouse.aws.s3.get_bucket_policy(Bucket="alpha-production-like")["Policy"]
    assert gatehouse.aws.iam.get_role_policy(RoleName="alpha_user_owner", PolicyName="s3-access")
    gatehouse.engine.dispose()
