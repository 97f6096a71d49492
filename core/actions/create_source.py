"""Creating a data source: the decision is recorded, then the hardened bucket is made (and retried if AWS fails).

Warehouse sources: any internal member, who becomes the only admin. Webapp and hidden sources, or naming another
admin: the platform team. A webapp source's app gets read-only access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from core import audit
from core.access import app_principal, mark_changed, user_principal
from core.actor import acting
from core.adapters.aws import AwsError, BucketNameTaken
from core.adapters.db import insert_missing, serialise, taken_means
from core.adapters.models import App, AuditEvent, DataSource, Grant, User, utcnow
from core.context import Gatehouse
from core.domain import (
    MAX_DESCRIPTION,
    AccessLevel,
    InvalidInput,
    SourceKind,
    check_text,
    validate_bucket_name,
    validate_username,
)
from core.effects import applied
from core.iam_sync import SyncOutcome
from core.queries import get_user
from core.rules import check_may_administer, check_may_own_sources, check_platform_admin, check_source_quota


@dataclass(frozen=True)
class Created:
    name: str
    provisioned: bool
    error: str | None = None  # why the bucket is not made yet
    sync_error: str | None = None  # why the admin's (and app's) role does not have it yet

    @property
    def aws_pending(self) -> str | None:
        return self.error or self.sync_error


@dataclass(frozen=True)
class Recorded:
    """A source recorded in a unit of work: what to make in AWS once it commits."""

    source_id: int
    roles: list[str]


def create_source(
    gatehouse: Gatehouse,
    actor: User,
    name: str,
    kind: SourceKind = SourceKind.WAREHOUSE,
    *,
    admin: str | None = None,
    hidden: bool = False,
    app_name: str | None = None,
    description: str = "",
) -> Created:
    with gatehouse.session() as session:
        actor = acting(session, actor)
        recorded = record_source(
            gatehouse,
            session,
            actor,
            name,
            kind,
            admin=admin,
            hidden=hidden,
            app_name=app_name,
            description=description,
        )
    return make_in_aws(gatehouse, recorded, applied(session))


def record_source(
    gatehouse: Gatehouse,
    session: Session,
    actor: User,
    name: str,
    kind: SourceKind,
    *,
    admin: str | None = None,
    hidden: bool = False,
    app_name: str | None = None,
    description: str = "",
) -> Recorded:
    """Record the source, its admin's grant (and its app's) in the caller's unit of work, the actor loaded there."""
    settings = gatehouse.settings
    bucket = validate_bucket_name(name, settings.bucket_prefix)
    description = check_text(description, "description", MAX_DESCRIPTION, multiline=False)
    if kind is SourceKind.WEBAPP and not app_name:
        raise InvalidInput("Name the app that will read this webapp data source.")
    app_name = validate_username(app_name) if app_name else None  # the app's role is named after it, as stored
    privileged = kind is SourceKind.WEBAPP or hidden or (admin is not None and admin != actor.username)
    if privileged:
        check_platform_admin(actor).enforce()
    check_may_own_sources(actor).enforce(InvalidInput)
    _check_quota(gatehouse, session, actor)
    if session.exec(select(DataSource.id).where(DataSource.name == bucket)).first() is not None:
        raise InvalidInput(f"A data source called {bucket} already exists: choose another name.")
    _check_name_free(gatehouse, bucket)
    owner = get_user(session, admin) if admin else actor
    check_may_administer(owner).enforce(InvalidInput)
    source = DataSource(
        name=bucket,
        kind=kind,
        hidden=hidden,
        region=settings.region,
        created_by_id=owner.id,
        description=description,
    )
    session.add(source)
    with taken_means(f"A data source called {bucket} already exists: choose another name."):
        session.flush()  # the unique name answers for a source made since the check above
    session.add(Grant(source_id=source.id or 0, user_id=owner.id, level=AccessLevel.ADMIN, granted_by_id=actor.id))
    principals = [user_principal(settings.env, owner)]
    if kind is SourceKind.WEBAPP and app_name:
        app = _app(session, app_name)
        session.add(Grant(source_id=source.id or 0, app_id=app.id, level=AccessLevel.READ_ONLY, granted_by_id=actor.id))
        principals.append(app_principal(settings.env, app))
    mark_changed(session, principals)
    audit.record(
        session,
        actor.username,
        "source-created",
        f"{actor.username} created the {kind.label.lower()} data source {bucket} with {owner.username} as admin"
        + (f" for the app {app_name}" if app_name else ""),
        source_id=source.id,
        subject=owner.username,
        kind=kind.value,
        hidden=hidden,
    )
    return Recorded(source.id or 0, [p.role_name for p in principals])


def make_in_aws(gatehouse: Gatehouse, recorded: Recorded, synced: list[SyncOutcome]) -> Created:
    """After the unit of work committed (and applied the roles that now reach the source: `synced`): the bucket."""
    error = provision(gatehouse, recorded.source_id)
    with gatehouse.session() as session:
        name = session.exec(select(DataSource.name).where(DataSource.id == recorded.source_id)).one()
    return Created(name, error is None, error, next((o.error for o in synced if o.error), None))


def _check_quota(gatehouse: Gatehouse, session: Session, actor: User) -> None:
    """At most GATEHOUSE_MAX_SOURCES_PER_MEMBER sources a member an hour, counted once the member's earlier creations
    have committed: a burst of creations at once takes its turn here and cannot pass the limit."""
    if check_platform_admin(actor).allowed:
        return
    serialise(session, "sources-created-by", actor.id)
    made = session.exec(  # the ones they made themselves (the platform team may make sources for them too)
        select(func.count()).where(
            AuditEvent.actor == actor.username,
            AuditEvent.action == "source-created",
            col(AuditEvent.at) >= utcnow() - timedelta(hours=1),
        )
    ).one()
    check_source_quota(actor, made, gatehouse.settings.max_sources_per_member).enforce(InvalidInput)


def _check_name_free(gatehouse: Gatehouse, bucket: str) -> None:
    try:
        taken = gatehouse.aws.bucket_exists(bucket)
    except AwsError:
        return  # AWS unreachable: record the decision; provisioning reports a taken name if it is one
    if taken:
        raise BucketNameTaken(f"The name {bucket} is already taken in S3: choose another.")


def _app(session: Session, name: str) -> App:
    """The app of that name, made if it is new (by whichever of two sources made for it at once comes first)."""
    insert_missing(session, App, name=name.strip().lower(), description="", created_at=utcnow())
    return session.exec(select(App).where(App.name == name.strip().lower())).one()


def provision(gatehouse: Gatehouse, source_id: int) -> str | None:
    """Make the source's bucket exist and be hardened; record success or AWS's reason. Returns the error, if any."""
    with gatehouse.session() as session:
        source, creator = session.exec(
            select(DataSource, User.username)
            .outerjoin(User, col(User.id) == DataSource.created_by_id)
            .where(DataSource.id == source_id)
        ).one()
    try:
        if gatehouse.aws.bucket_exists(source.name):  # made by an earlier attempt whose hardening failed
            gatehouse.aws.harden_bucket(source.name, source.kind, creator or "gatehouse")
        else:
            gatehouse.aws.create_bucket(source.name, source.kind, creator or "gatehouse")
    except (AwsError, BucketNameTaken) as error:
        with gatehouse.session() as session:
            stored = session.get(DataSource, source_id)
            if stored is not None:
                stored.provision_error = str(error)
                session.add(stored)
        return str(error)
    with gatehouse.session() as session:
        stored = session.get(DataSource, source_id)
        if stored is not None:
            stored.provisioned_at = utcnow()
            stored.provision_error = None
            session.add(stored)
    return None


def provision_pending(gatehouse: Gatehouse) -> list[str]:
    """Retry every source whose bucket is not yet made; returns the errors that remain."""
    with gatehouse.session() as session:
        ids = session.exec(
            select(DataSource.id).where(col(DataSource.provisioned_at).is_(None), col(DataSource.archived_at).is_(None))
        ).all()
    return [e for e in (provision(gatehouse, i or 0) for i in ids) if e]
