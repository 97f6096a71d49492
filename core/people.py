"""Who someone is to Gatehouse: their account and the roles that decide which pages and actions are theirs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, exists, select

from core import audit
from core.access import mark_changed, sync_pending, user_principal
from core.actor import LEFT, acting
from core.adapters.aws import AwsError
from core.adapters.models import DataSource, Grant, Notification, User, UserStatus, utcnow
from core.auth import hash_password
from core.context import Gatehouse
from core.domain import (
    AccessLevel,
    InvalidInput,
    NotFound,
    check_text,
    is_clean_name,
    shown,
    user_role_name,
    validate_username,
)
from core.queries import active_admins, get_user
from core.rules import check_not_left, check_platform_admin


@dataclass(frozen=True)
class Roles:
    """Every active user is an analyst; the other roles follow from the data, never from a flag on a page."""

    source_admin: bool
    line_manager: bool
    platform_admin: bool


def active_user(session: Session, username: str) -> User:
    """The signed-in actor; someone who has left can no longer act, whatever their browser still holds."""
    user = get_user(session, username)
    check_not_left(user, LEFT).enforce()
    return user


def _administers(user_id: Any) -> Any:
    return exists().where(
        Grant.user_id == user_id,
        Grant.level == AccessLevel.ADMIN,
        Grant.source_id == DataSource.id,
        col(DataSource.archived_at).is_(None),
    )


def _manages(user_id: Any) -> Any:
    report = aliased(User)
    return exists().where(report.line_manager_id == user_id, report.status == UserStatus.ACTIVE)


@dataclass(frozen=True)
class SignedIn:
    user: User
    roles: Roles
    unread: int  # notifications not yet read, for the navigation


# Built once: every rerun of every page runs it, and building an ORM statement costs more than SQL runs it.
_SIGNED_IN = select(
    User,
    _administers(User.id),
    _manages(User.id),
    select(func.count()).where(Notification.user_id == User.id, col(Notification.read_at).is_(None)).scalar_subquery(),
).where(User.username == bindparam("username"))


def signed_in(session: Session, username: str) -> SignedIn:
    """Who is acting, with their roles and unread count: one round trip at every rerun of every page.
    Someone who has left can no longer act, whatever their browser still holds."""
    row = None
    if is_clean_name(username, 39):
        row = session.exec(_SIGNED_IN, params={"username": username.strip().lower()}).first()
    if row is None:
        raise NotFound(f"There is no platform member called {shown(username, 40)}.")
    user, administers, manages, count = row
    check_not_left(user, LEFT).enforce()
    roles = Roles(source_admin=bool(administers), line_manager=bool(manages), platform_admin=user.is_platform_admin)
    return SignedIn(user, roles, int(count))


@dataclass(frozen=True)
class Joiner:
    user: User
    existing_access_kept: bool  # their role already had an s3-access policy: left in place for import-iam
    sync_error: str | None = None  # why their role is not made in AWS yet (retried)

    @property
    def aws_pending(self) -> str | None:
        return self.sync_error


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def add_user(
    gatehouse: Gatehouse,
    actor: User,
    username: str,
    email: str,
    *,
    display_name: str = "",
    line_manager: str | None = None,
    platform_admin: bool = False,
    external: bool = False,
    password: str | None = None,
) -> Joiner:
    """A joiner: the platform team adds them; their IAM role is created (with no access yet)."""
    name = validate_username(username)
    if len(email.strip()) > 254 or not _EMAIL.match(email.strip()):
        raise InvalidInput(f"{shown(email, 40)!r} is not an email address.")
    if external and platform_admin:
        raise InvalidInput("An external user cannot be in the platform team.")
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        if session.exec(select(User.id).where(User.username == name)).first() is not None:
            raise InvalidInput(f"There is already a platform member called {name}.")
        manager = get_user(session, line_manager) if line_manager else None
        if manager is not None:
            check_not_left(manager, " and cannot be a line manager").enforce(InvalidInput)
        user = User(
            username=name,
            email=email.strip(),
            display_name=check_text(display_name, "name", 120, multiline=False) or name,
            line_manager_id=manager.id if manager else None,
            is_platform_admin=platform_admin,
            is_external=external,
            password_hash=hash_password(password) if password else None,
        )
        session.add(user)
        session.flush()
        existing_access = _has_existing_access(gatehouse, user_role_name(gatehouse.settings.env, name))
        if not existing_access:
            mark_changed(session, [user_principal(gatehouse.settings.env, user)])
        audit.record(
            session,
            actor.username,
            "user-added",
            f"{actor.username} added {name}"
            + (" (external)" if external else "")
            + (" to the platform team" if platform_admin else ""),
            subject=name,
            line_manager=manager.username if manager else None,
            existing_access_kept=existing_access,
        )
    synced = sync_pending(gatehouse, [user_role_name(gatehouse.settings.env, name)])
    return Joiner(user, existing_access, next((o.error for o in synced if o.error), None))


def _has_existing_access(gatehouse: Gatehouse, role_name: str) -> bool:
    """A joiner whose role the old platform made keeps its s3-access policy until `import-iam` adopts it (or
    reconcile, shown the drift, replaces it): adding them must not silently take their access away."""
    try:
        return gatehouse.aws.read_role_policies(role_name).inline is not None
    except AwsError:
        return False


@dataclass(frozen=True)
class Departure:
    username: str
    orphaned_sources: list[str]  # sources they were the only active admin of
    sync_error: str | None  # None: AWS has already applied it

    @property
    def aws_pending(self) -> str | None:
        return self.sync_error

    @property
    def outcome(self) -> str:
        """What happened, in one sentence that is true in AWS."""
        if self.sync_error:
            return (
                f"{self.username} has left; removing their access in AWS is pending ({self.sync_error}): "
                "Gatehouse retries, and reconcile repairs it."
            )
        return f"{self.username} has left; all their access is revoked in AWS."


def mark_left(gatehouse: Gatehouse, actor: User, username: str) -> Departure:
    """A leaver: all their access is revoked in IAM; their grants stay on record (as a leaver's) for the audit."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        user = get_user(session, username)
        if user.status == UserStatus.LEFT:
            raise InvalidInput(f"{user.username} is already marked as having left.")
        if actor.id is not None and actor.id == user.id:
            raise InvalidInput("You cannot mark yourself as having left.")
        administered = session.exec(
            select(DataSource)
            .join(Grant, col(Grant.source_id) == DataSource.id)
            .where(Grant.user_id == user.id, Grant.level == AccessLevel.ADMIN, col(DataSource.archived_at).is_(None))
        ).all()
        user.status = UserStatus.LEFT
        user.left_at = utcnow()
        session.add(user)
        session.flush()
        admins = active_admins(session, [s.id for s in administered if s.id is not None])
        orphaned = sorted(s.name for s in administered if not admins.get(s.id or 0))
        mark_changed(session, [user_principal(gatehouse.settings.env, user)])
        audit.record(
            session,
            actor.username,
            "user-left",
            f"{actor.username} marked {user.username} as having left; all their access is revoked"
            + (f"; now orphaned: {', '.join(orphaned)}" if orphaned else ""),
            subject=user.username,
            orphaned=orphaned,
        )
        leaver = user.username  # as stored: the role is named after it, never after the text as typed
    outcome = sync_pending(gatehouse, [user_role_name(gatehouse.settings.env, leaver)])
    return Departure(leaver, orphaned, next((o.error for o in outcome if o.error), None))
