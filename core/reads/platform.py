"""The platform team's view of everything: users, all sources (hidden ones too), orphans, and AWS sync state (roles
and teams' policies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.adapters.models import DataSource, Grant, RoleSync, SyncState, Team, TeamMember, User, UserStatus
from core.domain import SourceKind
from core.queries import active_admin, active_admins, left_marked_by
from core.reads.page import Page
from core.rules import EndedByLeaving, check_platform_admin, ended_by_leaving


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    email: str
    line_manager: str | None
    platform_admin: bool
    external: bool
    ended: EndedByLeaving | None  # they have left: every grant of theirs is revoked
    from_identity_provider: bool = False  # the identity provider manages them (SCIM), not the platform team


@dataclass(frozen=True)
class SourceRow:
    name: str
    kind: SourceKind
    hidden: bool
    admins: tuple[str, ...]
    archived: bool


@dataclass(frozen=True)
class UnappliedRole:
    role_name: str
    state: SyncState
    last_error: str | None
    attempts: int
    changed_at: datetime


def users(session: Session, actor: User, search: str = "", offset: int = 0, limit: int = 50) -> Page[UserRow]:
    check_platform_admin(actor).enforce()
    manager = aliased(User)
    query = select(User, manager.username, left_marked_by()).outerjoin(manager, col(manager.id) == User.line_manager_id)
    if search.strip():
        query = query.where(col(User.username).contains(search.strip().lower()))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(User.username).offset(offset).limit(limit)).all()
    items = [
        UserRow(
            u.username,
            u.display_name,
            u.email,
            m,
            u.is_platform_admin,
            u.is_external,
            ended_by_leaving(u.status, u.left_at, by),
            u.scim_managed,
        )
        for u, m, by in rows
    ]
    return Page(items, total, offset, limit)


def sources(
    session: Session, actor: User, search: str = "", orphaned_only: bool = False, offset: int = 0, limit: int = 50
) -> Page[SourceRow]:
    check_platform_admin(actor).enforce()
    query = select(DataSource)
    if search.strip():
        query = query.where(col(DataSource.name).contains(search.strip().lower()))
    if orphaned_only:
        query = query.where(col(DataSource.archived_at).is_(None), col(DataSource.id).not_in(_sources_with_admins()))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    found = session.exec(query.order_by(DataSource.name).offset(offset).limit(limit)).all()
    admins = active_admins(session, [s.id for s in found if s.id is not None])
    items = [
        SourceRow(s.name, SourceKind(s.kind), s.hidden, tuple(admins.get(s.id or 0, ())), s.archived_at is not None)
        for s in found
    ]
    return Page(items, total, offset, limit)


def _sources_with_admins():  # type: ignore[no-untyped-def]
    return select(Grant.source_id).join(User, col(User.id) == Grant.user_id).where(active_admin())


def unapplied_roles(session: Session, actor: User) -> list[UnappliedRole]:
    check_platform_admin(actor).enforce()
    rows = session.exec(
        select(RoleSync, Team.name)
        .outerjoin(Team, col(Team.id) == RoleSync.team_id)
        .where(RoleSync.state != SyncState.APPLIED)
        .order_by(RoleSync.changed_at)
        .limit(500)
    ).all()
    return [
        UnappliedRole(
            r.role_name if r.team_id is None else f"{r.role_name} (the {team or 'deleted'} team's policies)",
            SyncState(r.state),
            r.last_error,
            r.attempts,
            r.changed_at,
        )
        for r, team in rows
    ]


@dataclass(frozen=True)
class TeamRow:
    name: str
    from_identity_provider: bool  # else made in Gatehouse by the platform team
    members: tuple[str, ...]  # as the team lists them, leavers too (an identity provider's group may still)
    left: tuple[str, ...] = ()  # of them, those who have left: in the team's list, never holding what it holds


def teams(session: Session, actor: User) -> list[TeamRow]:
    """Every team with its members (teams are the identity provider's groups: hundreds, not more)."""
    check_platform_admin(actor).enforce()
    members: dict[int, list[str]] = {}
    left: dict[int, list[str]] = {}
    for team_id, username, status in session.exec(
        select(TeamMember.team_id, User.username, User.status)
        .join(User, col(User.id) == TeamMember.user_id)
        .order_by(User.username)
    ):
        members.setdefault(team_id, []).append(username)
        if status == UserStatus.LEFT:
            left.setdefault(team_id, []).append(username)
    return [
        TeamRow(t.name, t.scim_managed, tuple(members.get(t.id or 0, [])), tuple(left.get(t.id or 0, [])))
        for t in session.exec(select(Team).order_by(Team.name))
    ]
