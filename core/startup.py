"""Starting Gatehouse: one engine, migrations, the AWS adapter, demo data, and the database applied to AWS."""

from __future__ import annotations

import logging

import bcrypt
from sqlalchemy import Engine, update
from sqlmodel import col, select

from core import access, iam_sync
from core.actions.create_source import provision_pending
from core.actions.expire import expire
from core.adapters.aws import Aws, AwsError
from core.adapters.db import (
    current_revision,
    lock_for_seeding,
    make_engine,
    migrate,
    refresh_statistics,
    session_scope,
)
from core.adapters.local_aws import claim_local_aws, ensure_local_aws
from core.adapters.models import AuditEvent, DataSource, User
from core.config import ConfigurationError, Settings, load_settings
from core.context import Gatehouse
from core.domain import GatehouseError
from core.notify import deliver_email
from core.seed import DEMO_PASSWORD, DEMO_USERNAMES, database_is_empty, seed_demo_database, seed_demo_objects

log = logging.getLogger("gatehouse")


def start(settings: Settings | None = None) -> Gatehouse:
    settings = settings or load_settings()  # a bad setting: one sentence for the app to show, not a traceback
    engine = make_engine(settings.db_url)
    migrate(engine, settings.migration_database_url)
    if settings.aws_mode == "local":
        ensure_local_aws(settings)
    gatehouse = Gatehouse(settings, engine, Aws(settings))
    try:
        if settings.aws_mode == "aws":
            refuse_the_demo(gatehouse)
        else:
            claim_local_aws(gatehouse.aws, database_epoch(engine))
    except GatehouseError:
        engine.dispose()
        raise
    # The start applies the database to AWS in one place, below, once the buckets exist: the seed's and a forgetful
    # emulation's roles are marked in units of work of their own (session_scope), not applied by each as it commits.
    if settings.should_seed_demo:
        with session_scope(engine) as session:
            lock_for_seeding(session)
            if database_is_empty(session):
                seed_demo_database(session, settings)
    refresh_statistics(engine)
    try:
        if settings.aws_mode == "local" and emulation_forgot(gatehouse):
            # The emulation keeps nothing when it stops: apply the whole database to it again.
            with session_scope(engine) as session:
                session.exec(
                    update(DataSource).where(col(DataSource.archived_at).is_(None)).values(provisioned_at=None)
                )
                access.mark_changed(session, access.all_principals(session, settings.env))
        provision_pending(gatehouse)
        iam_sync.sync_pending(gatehouse)
        # access whose end date passed while no scheduler ran ends now (stale requests wait for `gatehouse expire`)
        expire(gatehouse, close_requests=False)
        if settings.should_seed_demo and settings.aws_mode == "local":
            seed_demo_objects(gatehouse.aws, settings)
    except AwsError as error:
        # Decisions are safe in the database; what failed is recorded, shown on the Platform page and retried.
        log.warning("Applying the database to AWS at start failed: %s", error)
    deliver_email(gatehouse)
    return gatehouse


def refuse_the_demo(gatehouse: Gatehouse) -> None:
    """Against real AWS, a database the demo was seeded into (in local mode, before), or an account that still has
    the demo's published password, is refused before anything starts: the password signs in, as the platform team.

    Only the demo's usernames are checked against the demo password: bcrypt takes a quarter of a second an account
    by design, so checking every account would make each start as slow as the platform is big."""
    with gatehouse.session() as session:
        if session.exec(select(AuditEvent.id).where(AuditEvent.action == "demo-seeded").limit(1)).first() is not None:
            raise ConfigurationError(
                "This database holds the demo accounts, whose password is published: Gatehouse does not start on it "
                "with GATEHOUSE_AWS_MODE=aws (use a database of its own)."
            )
        accounts = session.exec(
            select(User.username, User.password_hash).where(
                col(User.username).in_(DEMO_USERNAMES), col(User.password_hash).is_not(None)
            )
        ).all()
    for username, password_hash in accounts:
        if bcrypt.checkpw(DEMO_PASSWORD.encode(), str(password_hash).encode()):
            raise ConfigurationError(
                f"The account {username} has the demo's published password: Gatehouse does not start with "
                "GATEHOUSE_AWS_MODE=aws until it is changed or removed."
            )


def database_epoch(engine: Engine) -> str:
    """What tells this database from any other (made by its first migration)."""
    revision = current_revision(engine)
    assert revision is not None, "start() migrated: the revision row exists"
    return revision[0]


def emulation_forgot(gatehouse: Gatehouse) -> bool:
    """A fresh emulation lacks the buckets the database knows (one look is enough: it forgets everything at once)."""
    with gatehouse.session() as session:
        known = session.exec(
            select(DataSource.name)
            .where(col(DataSource.archived_at).is_(None), col(DataSource.provisioned_at).is_not(None))
            .limit(1)
        ).first()
    return known is not None and not gatehouse.aws.bucket_exists(known)
