"""Who someone is to Gatehouse: their account and the roles that decide which pages and actions are theirs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, exists, select

from core.actor import LEFT
from core.adapters.models import DataSource, Grant, Notification, TeamMember, User, UserStatus
from core.domain import AccessLevel, NotFound, is_clean_name, shown
from core.queries import get_user
from core.rules import check_not_left


@dataclass(frozen=True)
class Roles:
    """Every active user is an analyst; the other roles follow from the data, never from a flag on a page."""

    source_admin: bool
    line_manager: bool
    platform_admin: bool
    iao: bool = False  # the information asset owner of a live source holding personal data (issue #29)


def active_user(session: Session, username: str) -> User:
    """The signed-in actor; someone who has left can no longer act, whatever their browser still holds."""
    user = get_user(session, username)
    check_not_left(user, LEFT).enforce()
    return user


def _administers(user_id: Any) -> Any:
    """They administer a live source: through an admin grant of their own, or of a team of theirs when they are not
    an external user (`rules.admin_through_team`; whether they are active is checked apart)."""
    own = exists().where(
        Grant.user_id == user_id,
        Grant.level == AccessLevel.ADMIN,
        Grant.source_id == DataSource.id,
        col(DataSource.archived_at).is_(None),
    )
    grant, source = aliased(Grant), aliased(DataSource)
    through = exists().where(
        TeamMember.user_id == user_id,
        grant.team_id == TeamMember.team_id,
        grant.level == AccessLevel.ADMIN,
        source.id == grant.source_id,
        col(source.archived_at).is_(None),
        col(User.is_external).is_(False),
    )
    return or_(own, through)


def _manages(user_id: Any) -> Any:
    report = aliased(User)
    return exists().where(report.line_manager_id == user_id, report.status == UserStatus.ACTIVE)


def _owns_information(user_id: Any) -> Any:
    return exists().where(DataSource.iao_id == user_id, col(DataSource.archived_at).is_(None))


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
    _owns_information(User.id),
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
    user, administers, manages, owns, count = row
    check_not_left(user, LEFT).enforce()
    roles = Roles(
        source_admin=bool(administers),
        line_manager=bool(manages),
        platform_admin=user.is_platform_admin,
        iao=bool(owns),
    )
    return SignedIn(user, roles, int(count))
