"""The platform team's view of everything: users, all sources (hidden ones too), orphans, and AWS sync state (roles
and teams' policies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.adapters.models import DataSource, Grant, RoleSync, SyncState, Team, TeamMember, User, UserStatus
from core.domain import AccessLevel, SourceKind
from core.paths import Paths
from core.queries import active_admins, has_active_admin, left_marked_by
from core.reads.page import Page
from core.reads.sources import STANDARD, Holding, holdings
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
    holds: Holding = STANDARD  # personal data? and its information asset owner (issue #29)


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
        query = query.where(col(DataSource.archived_at).is_(None), ~has_active_admin())
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    found = session.exec(query.order_by(DataSource.name).offset(offset).limit(limit)).all()
    admins = active_admins(session, [s.id for s in found if s.id is not None])
    held = holdings(session, found)
    items = [
        SourceRow(
            s.name,
            SourceKind(s.kind),
            s.hidden,
            tuple(admins.get(s.id or 0, ())),
            s.archived_at is not None,
            held[s.id or 0],
        )
        for s in found
    ]
    return Page(items, total, offset, limit)


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
class TeamGrant:
    """One grant a team holds: what every active member of it has."""

    grant_id: int
    source: str
    level: AccessLevel
    paths: Paths
    expires_on: date | None
    archived: bool = False  # on an archived source: kept on record, live nowhere

    @property
    def administers(self) -> bool:
        return self.level == AccessLevel.ADMIN and not self.archived


@dataclass(frozen=True)
class TeamRow:
    name: str
    from_identity_provider: bool  # else made in Gatehouse by the platform team
    members: tuple[str, ...]  # as the team lists them, leavers too (an identity provider's group may still)
    left: tuple[str, ...] = ()  # of them, those who have left: in the team's list, never holding what it holds
    grants: tuple[TeamGrant, ...] = ()  # what the team holds, by source
    administers: tuple[str, ...] = ()  # the live sources it is an admin of (its active members are their admins)


def teams(session: Session, actor: User) -> list[TeamRow]:
    """Every team with its members, its grants and the sources it administers (teams are the identity provider's
    groups: hundreds, not more; three queries whatever their number)."""
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
    held: dict[int, list[TeamGrant]] = {}
    for grant, source, archived_at in session.exec(
        select(Grant, DataSource.name, DataSource.archived_at)
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .where(col(Grant.team_id).is_not(None))
        .order_by(DataSource.name, col(Grant.id))
    ):
        shown = TeamGrant(grant.id or 0, source, grant.level, grant.paths, grant.expires_on, archived_at is not None)
        held.setdefault(grant.team_id or 0, []).append(shown)
    return [
        TeamRow(
            t.name,
            t.scim_managed,
            tuple(members.get(t.id or 0, [])),
            tuple(left.get(t.id or 0, [])),
            tuple(held.get(t.id or 0, [])),
            tuple(
                dict.fromkeys(
                    g.source for g in held.get(t.id or 0, []) if g.level == AccessLevel.ADMIN and not g.archived
                )
            ),
        )
        for t in session.exec(select(Team).order_by(Team.name))
    ]
