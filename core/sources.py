"""Creating data sources: the decision is recorded, then the hardened bucket is made (and retried if AWS fails)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from core import audit
from core.access import app_principal, mark_changed, sync_pending, user_principal
from core.actor import acting
from core.adapters.aws import AwsError, BucketNameTaken
from core.adapters.models import AccessRequest, App, DataSource, Grant, RequestStatus, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, SourceKind, check_text, validate_bucket_name, validate_username
from core.grants import check_manages
from core.notify import NotificationKind, notify
from core.queries import get_source, get_user, open_request
from core.rules import check_may_administer, check_may_own_sources, check_platform_admin, check_transition


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
class Archived:
    name: str
    errors: list[str]  # AWS's, for what it has not applied yet (grants ending, the archive tag)

    @property
    def aws_pending(self) -> str | None:
        return self.errors[0] if self.errors else None


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
    """Warehouse sources: any internal member, who becomes the only admin. Webapp and hidden sources, or naming
    another admin: the platform team. A webapp source's app gets read-only access."""
    settings = gatehouse.settings
    bucket = validate_bucket_name(name, settings.bucket_prefix)
    description = check_text(description, "description", 500, multiline=False)
    if kind is SourceKind.WEBAPP and not app_name:
        raise InvalidInput("Name the app that will read this webapp data source.")
    app_name = validate_username(app_name) if app_name else None  # the app's role is named after it, as stored
    with gatehouse.session() as session:
        actor = acting(session, actor)
        privileged = kind is SourceKind.WEBAPP or hidden or (admin is not None and admin != actor.username)
        if privileged:
            check_platform_admin(actor).enforce()
        check_may_own_sources(actor).enforce(InvalidInput)
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
        session.flush()
        session.add(Grant(source_id=source.id or 0, user_id=owner.id, level=AccessLevel.ADMIN, granted_by_id=actor.id))
        principals = [user_principal(settings.env, owner)]
        if kind is SourceKind.WEBAPP and app_name:
            app = _app(session, app_name)
            session.add(
                Grant(source_id=source.id or 0, app_id=app.id, level=AccessLevel.READ_ONLY, granted_by_id=actor.id)
            )
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
        source_id = source.id
        roles = [p.role_name for p in principals]
    error = provision(gatehouse, source_id or 0)
    synced = sync_pending(gatehouse, roles)
    return Created(bucket, error is None, error, next((o.error for o in synced if o.error), None))


def _check_name_free(gatehouse: Gatehouse, bucket: str) -> None:
    try:
        taken = gatehouse.aws.bucket_exists(bucket)
    except AwsError:
        return  # AWS unreachable: record the decision; provisioning reports a taken name if it is one
    if taken:
        raise BucketNameTaken(f"The name {bucket} is already taken in S3: choose another.")


def _app(session: Session, name: str) -> App:
    app = session.exec(select(App).where(App.name == name.strip().lower())).first()
    if app is None:
        app = App(name=name.strip().lower())
        session.add(app)
        session.flush()
    return app


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


def archive_source(gatehouse: Gatehouse, actor: User, name: str) -> Archived:
    """Archive a source (its admins or the platform team): every grant on it stops working in IAM, open requests
    are refused, the bucket is tagged for archiving; its data and records are kept."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, name)
        check_manages(session, actor, source)
        if source.archived_at is not None:
            raise InvalidInput(f"{source.name} is already archived.")
        source.archived_at = utcnow()
        source.archived_by_id = actor.id
        session.add(source)
        holders = session.exec(
            select(User).join(Grant, col(Grant.user_id) == User.id).where(Grant.source_id == source.id)
        ).all()
        apps = session.exec(
            select(App).join(Grant, col(Grant.app_id) == App.id).where(Grant.source_id == source.id)
        ).all()
        principals = [user_principal(gatehouse.settings.env, u) for u in holders]
        principals += [app_principal(gatehouse.settings.env, a) for a in apps]
        mark_changed(session, principals)
        open_requests = session.exec(
            select(AccessRequest).where(AccessRequest.source_id == source.id, open_request())
        ).all()
        for request in open_requests:
            check_transition(RequestStatus(request.status), RequestStatus.REFUSED).enforce(InvalidInput)
            request.status = RequestStatus.REFUSED
            request.decision_reason = f"{source.name} was archived."
            request.decided_by_id = actor.id
            request.decided_at = utcnow()
            request.version += 1
            session.add(request)
        audit.record(
            session,
            actor.username,
            "source-archived",
            f"{actor.username} archived {source.name}; {len(principals)} grant(s) stop working"
            + (f", {len(open_requests)} open request(s) refused" if open_requests else ""),
            source_id=source.id,
        )
        notify(
            session,
            holders,
            NotificationKind.ACCESS_ENDED,
            f"{source.name} was archived",
            f"{actor.username} archived {source.name}: your access to it has ended. Its data is kept.",
        )
        bucket = source.name
    errors = [o.error for o in sync_pending(gatehouse, [p.role_name for p in principals]) if o.error]
    try:
        gatehouse.aws.tag_bucket(bucket, {"archive": "true"})
    except AwsError as error:
        errors.append(str(error))
    return Archived(bucket, [e for e in errors if e])
