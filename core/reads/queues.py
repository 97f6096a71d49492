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
from core.domain import AccessLevel, Classification, UserStatus, day
from core.paths import Paths
from core.queries import active_admins, administered_by, teams_of
from core.reads.page import Page
from core.reads.teams import Reach, reach
from core.rules import check_may_be_iao, check_platform_admin, iao_may_decide, is_active


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
    # where it stands, when a step is behind it: "Approved by bob; waiting for the information asset owner, carol"
    stands: str | None = None
    admin_approved: str | None = None  # personal data: what the admin approved, and who ("read only (/a) by bob")
    # … and those terms, which bound the information asset owner's approval (level, paths, end date)
    approved_terms: tuple[AccessLevel, Paths, date | None] | None = None
    classification: Classification = Classification.STANDARD


def iao_step(iao: str | None, owner_decides: bool) -> str:
    """Who takes the information asset owner's step of a request: the owner, or the platform team in their place."""
    if owner_decides and iao:
        return f"the information asset owner, {iao}"
    return "the platform team, in the information asset owner's place"


def waiting_for_iao(admin: str | None, iao: str | None, owner_decides: bool) -> str:
    """Where a request an admin approved stands while the information asset owner's step waits, as its requester
    reads it: "Approved by bob; waiting for the information asset owner, carol"."""
    return f"Approved by {admin or 'the platform team'}; waiting for {iao_step(iao, owner_decides)}"


def _waits_for(request: AccessRequest, admins: list[str], manager: str | None, iao: User | None = None) -> str:
    status = RequestStatus(request.status)
    if status is RequestStatus.PENDING_IAO:
        return iao_step(iao.username if iao else None, _owner_decides(request, iao))
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
    manager, admin, iao = aliased(User), aliased(User), aliased(User)
    rows = session.exec(
        select(AccessRequest, User.username, DataSource, manager.username, Team.name, admin.username, iao)
        .join(User, col(User.id) == AccessRequest.requester_id)
        .join(DataSource, col(DataSource.id) == AccessRequest.source_id)
        .outerjoin(manager, col(manager.id) == AccessRequest.line_manager_id)
        .outerjoin(Team, col(Team.id) == AccessRequest.team_id)
        .outerjoin(admin, col(admin.id) == AccessRequest.admin_approved_by_id)
        .outerjoin(iao, col(iao.id) == DataSource.iao_id)
        .where(*conditions)
        .order_by(col(AccessRequest.created_at).desc(), col(AccessRequest.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    admins = active_admins(session, list({r[0].source_id for r in rows}))
    teams = reach(session, list({r[0].team_id for r in rows if r[0].team_id is not None}))
    return [
        replace(
            _build(r, requester, source.name, manager_name, deciders, owner),
            team=team,
            classification=source.classification,
            **_two_steps(r, admin_name, owner),
        )
        for r, requester, source, manager_name, team, admin_name, iao in rows
        for deciders in [_deciders(admins.get(r.source_id, []), requester, teams.get(r.team_id or 0))]
        # an owner in the team asked for takes no step of its request (`queries.owner_for`)
        for owner in [None if iao and iao.username in getattr(teams.get(r.team_id or 0), "members", ()) else iao]
    ]


def _owner_decides(request: AccessRequest, iao: User | None) -> bool:
    return iao_may_decide(iao, requester_id=request.requester_id, admin_approver_id=request.admin_approved_by_id)


def _two_steps(request: AccessRequest, admin: str | None, iao: User | None) -> dict[str, Any]:
    """A request waiting for the information asset owner's step: where it stands, and what the admin approved."""
    if RequestStatus(request.status) is not RequestStatus.PENDING_IAO or request.granted_level is None:
        return {}
    approved = f"{request.granted_level.label} ({request.granted_paths or Paths.WHOLE})" + (
        f" until {day(request.granted_expires_on)}" if request.granted_expires_on else ""
    )
    return {
        "stands": waiting_for_iao(admin, iao.username if iao else None, _owner_decides(request, iao)),
        "admin_approved": f"{approved}, approved by {admin or 'the platform team'}",
        "approved_terms": (
            request.granted_level,
            request.paths if request.granted_paths is None else request.granted_paths,
            request.granted_expires_on,
        ),
    }


def _deciders(admins: list[str], requester: str, team: Reach | None) -> list[str]:
    """The admins who may decide a request: never its requester, nor a member of the team it is made for."""
    return [a for a in admins if a != requester and (team is None or a not in team.members)]


def _build(
    request: AccessRequest, requester: str, source: str, manager: str | None, admins: list[str], iao: User | None
) -> RequestView:
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
        waits_for=_waits_for(request, admins, manager, iao),
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


def iao_queue(session: Session, iao: User, offset: int = 0, limit: int = 20) -> Page[RequestView]:
    """Requests an admin approved that wait for this information asset owner (of their sources), where they take the
    step themselves (`rules.iao_may_decide`: neither its requester nor its first approver)."""
    if not check_may_be_iao(iao).allowed:  # who has left, or an external user, takes no owner's step
        return Page([], 0, offset, limit)
    conditions = [
        AccessRequest.status == RequestStatus.PENDING_IAO,
        col(AccessRequest.source_id).in_(select(DataSource.id).where(DataSource.iao_id == iao.id)),
        AccessRequest.requester_id != iao.id,
        or_(col(AccessRequest.admin_approved_by_id).is_(None), AccessRequest.admin_approved_by_id != iao.id),
        or_(col(AccessRequest.team_id).is_(None), col(AccessRequest.team_id).not_in(teams_of(iao.id))),
    ]
    return _page(session, conditions, offset, limit)


def platform_iao_queue(session: Session, actor: User, offset: int = 0, limit: int = 20) -> Page[RequestView]:
    """Requests an admin approved whose information asset owner cannot take their step (none, left, asked or
    approved first): the platform team takes it, never the member who approved first nor the requester."""
    check_platform_admin(actor).enforce()
    owners = aliased(User)
    owner_decides = (
        select(DataSource.id)
        .join(owners, col(owners.id) == DataSource.iao_id)
        .where(
            col(DataSource.id) == AccessRequest.source_id,
            owners.status == UserStatus.ACTIVE,
            col(owners.is_external).is_(False),  # never an owner (`rules.check_may_be_iao`)
            col(owners.id) != AccessRequest.requester_id,
            or_(col(AccessRequest.team_id).is_(None), col(AccessRequest.team_id).not_in(teams_of(owners.id))),
            or_(
                col(AccessRequest.admin_approved_by_id).is_(None),
                col(owners.id) != AccessRequest.admin_approved_by_id,
            ),
        )
        .exists()
    )
    conditions = [AccessRequest.status == RequestStatus.PENDING_IAO, ~owner_decides]
    if actor.id is not None:
        conditions += [
            AccessRequest.requester_id != actor.id,
            or_(col(AccessRequest.admin_approved_by_id).is_(None), AccessRequest.admin_approved_by_id != actor.id),
        ]
    return _page(session, conditions, offset, limit)


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
