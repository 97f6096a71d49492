"""Requests as people see them: their own, and the queues of those who decide (admins, line managers, the platform
team), each paged in the database, newest first; and the webapp sources asked for."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.adapters.models import AccessRequest, DataSource, RequestStatus, SourceRequest, Team, User
from core.domain import AccessLevel
from core.paths import Paths
from core.queries import active_admins, administered_by, teams_of
from core.reads.page import Page
from core.reads.teams import Reach, reach
from core.rules import check_platform_admin, is_active


@dataclass(frozen=True)
class RequestView:
    id: int
    requester: str
    source: str
    level: AccessLevel
    paths: Paths
    business_need: str
    expires_on: date | None
    status: RequestStatus
    created_at: datetime
    no_line_manager: bool
    waits_for: str
    decision_reason: str | None = None
    granted: str | None = None  # what was granted, when it differs from what was asked
    team: str | None = None  # asked for this team of the requester's (approved, the team holds it)


def _waits_for(request: AccessRequest, admins: list[str], manager: str | None) -> str:
    status = RequestStatus(request.status)
    if status is RequestStatus.PENDING_ADMIN:
        return "an admin of the source: " + ", ".join(admins) if admins else "an admin of the source"
    if status is RequestStatus.PENDING_LINE_MANAGER:
        return f"your line manager, {manager}" if manager else "your line manager"
    if status is RequestStatus.PENDING_PLATFORM:
        return "the platform team" + (" (you have no line manager on record)" if request.no_line_manager else "")
    if status is RequestStatus.PENDING_ANSWER:
        return "your answer to a question"
    return ""


def _views(session: Session, *conditions: Any, offset: int = 0, limit: int = 500) -> list[RequestView]:
    """Requests matching the conditions, newest first, with names and admins in a bounded number of queries."""
    manager = aliased(User)
    rows = session.exec(
        select(AccessRequest, User.username, DataSource.name, manager.username, Team.name)
        .join(User, col(User.id) == AccessRequest.requester_id)
        .join(DataSource, col(DataSource.id) == AccessRequest.source_id)
        .outerjoin(manager, col(manager.id) == AccessRequest.line_manager_id)
        .outerjoin(Team, col(Team.id) == AccessRequest.team_id)
        .where(*conditions)
        .order_by(col(AccessRequest.created_at).desc(), col(AccessRequest.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    admins = active_admins(session, list({r[0].source_id for r in rows}))
    teams = reach(session, list({r[0].team_id for r in rows if r[0].team_id is not None}))
    return [
        replace(_build(r, requester, source, manager_name, deciders), team=team)
        for r, requester, source, manager_name, team in rows
        for deciders in [_deciders(admins.get(r.source_id, []), requester, teams.get(r.team_id or 0))]
    ]


def _deciders(admins: list[str], requester: str, team: Reach | None) -> list[str]:
    """The admins who may decide a request: never its requester, nor a member of the team it is made for."""
    return [a for a in admins if a != requester and (team is None or a not in team.members)]


def _build(request: AccessRequest, requester: str, source: str, manager: str | None, admins: list[str]) -> RequestView:
    granted = None
    if request.granted_level is not None and (
        request.granted_level != request.level or (request.granted_paths or Paths.WHOLE) != request.paths
    ):
        granted = f"{request.granted_level.label} ({request.granted_paths or Paths.WHOLE})"
    return RequestView(
        id=request.id or 0,
        requester=requester,
        source=source,
        level=request.level,
        paths=request.paths,
        business_need=request.business_need,
        expires_on=request.expires_on,
        status=RequestStatus(request.status),
        created_at=request.created_at,
        no_line_manager=request.no_line_manager,
        waits_for=_waits_for(request, admins, manager),
        decision_reason=request.decision_reason,
        granted=granted,
    )


def view_of(session: Session, request: AccessRequest) -> RequestView:
    return _views(session, AccessRequest.id == request.id)[0]


def my_requests(session: Session, user: User) -> list[RequestView]:
    return _views(session, AccessRequest.requester_id == user.id)


def _page(session: Session, conditions: list[Any], offset: int, limit: int) -> Page[RequestView]:
    """A queue is paged in the database: a heavy admin may have hundreds of requests waiting."""
    total = session.exec(select(func.count()).select_from(AccessRequest).where(*conditions)).one()
    return Page(_views(session, *conditions, offset=offset, limit=limit), total, offset, limit)


def admin_queue(session: Session, admin: User, offset: int = 0, limit: int = 20) -> Page[RequestView]:
    """Requests waiting for an admin, on the sources this user actively administers (theirs or through a team);
    never their own, nor one made for a team they are in."""
    if not is_active(admin):
        return Page([], 0, offset, limit)
    conditions = [
        AccessRequest.status == RequestStatus.PENDING_ADMIN,
        col(AccessRequest.source_id).in_(administered_by(admin.id or 0)),
        AccessRequest.requester_id != admin.id,
        or_(col(AccessRequest.team_id).is_(None), col(AccessRequest.team_id).not_in(teams_of(admin.id))),
    ]
    return _page(session, conditions, offset, limit)


def awaiting_confirmation(session: Session, manager: User, offset: int = 0, limit: int = 20) -> Page[RequestView]:
    """Requests of this manager's reports, for orphaned sources, that wait for the manager to confirm."""
    conditions = [
        AccessRequest.line_manager_id == manager.id,
        AccessRequest.status == RequestStatus.PENDING_LINE_MANAGER,
    ]
    return _page(session, conditions, offset, limit)


def platform_queue(session: Session, actor: User, offset: int = 0, limit: int = 20) -> Page[RequestView]:
    check_platform_admin(actor).enforce()
    return _page(session, [AccessRequest.status == RequestStatus.PENDING_PLATFORM], offset, limit)


def source_requests(session: Session, actor: User, offset: int = 0, limit: int = 20) -> Page[tuple[SourceRequest, str]]:
    """Webapp sources asked for and not yet decided, oldest first, paged in the database."""
    check_platform_admin(actor).enforce()
    waiting = SourceRequest.status == RequestStatus.PENDING_PLATFORM
    total = session.exec(select(func.count()).select_from(SourceRequest).where(waiting)).one()
    query = select(SourceRequest, User.username).join(User, col(User.id) == SourceRequest.requester_id).where(waiting)
    items = [
        (r, name) for r, name in session.exec(query.order_by(SourceRequest.created_at).offset(offset).limit(limit))
    ]
    return Page(items, total, offset, limit)


def my_source_requests(session: Session, user: User) -> list[SourceRequest]:
    return list(session.exec(select(SourceRequest).where(SourceRequest.requester_id == user.id)))
