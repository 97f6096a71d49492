"""Access requests: an analyst asks with a business need; a source admin decides; for an orphaned source the
requester's line manager confirms first and the platform team grants. Every step is audited and notified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core import audit, grants
from core.access import sync_pending
from core.actor import acting
from core.adapters.models import AccessRequest, DataSource, Grant, RequestStatus, SourceRequest, User, utcnow
from core.catalog import Page
from core.context import Gatehouse
from core.domain import (
    AccessLevel,
    InvalidInput,
    NotAllowed,
    NotFound,
    SourceKind,
    check_text,
    format_paths,
    parse_paths,
    validate_bucket_name,
    validate_username,
)
from core.notify import NotificationKind, notify
from core.queries import active_admins, get_source, is_active_admin, open_request, platform_team, users_named
from core.rules import (
    Decision,
    check_business_need,
    check_end_date,
    check_may_decide,
    check_may_hold,
    check_may_own_sources,
    check_no_more_than_asked,
    check_not_confirmer,
    check_platform_admin,
    check_refusal_reason,
    check_transition,
    covers,
    is_active,
    route_request,
)
from core.sources import Created, create_source


@dataclass(frozen=True)
class RequestView:
    id: int
    requester: str
    source: str
    level: AccessLevel
    paths: tuple[str, ...]
    business_need: str
    expires_on: date | None
    status: RequestStatus
    created_at: datetime
    no_line_manager: bool
    waits_for: str
    decision_reason: str | None = None
    granted: str | None = None  # what was granted, when it differs from what was asked


# --- asking --------------------------------------------------------------------------------------------


def request_access(
    gatehouse: Gatehouse,
    actor: User,
    source_name: str,
    level: AccessLevel,
    paths: str | None,
    business_need: str,
    expires_on: date | None = None,
) -> RequestView:
    parsed = parse_paths(paths)
    need = check_text(business_need, "business need", 2000)
    check_business_need(need).enforce(InvalidInput)
    check_end_date(expires_on, utcnow().date()).enforce(InvalidInput)
    with gatehouse.session() as session:
        requester = acting(session, actor)
        check_may_hold(requester, level).enforce(InvalidInput)
        source = get_source(session, requester, source_name)
        if source.archived_at is not None:
            raise InvalidInput(f"{source.name} is archived: it takes no new requests.")
        held = session.exec(select(Grant).where(Grant.source_id == source.id, Grant.user_id == requester.id)).first()
        if held is not None and covers(AccessLevel(held.level), tuple(held.paths), level, parsed):
            raise InvalidInput(
                f"You already have {AccessLevel(held.level).label.lower()} access to {source.name} "
                f"({format_paths(tuple(held.paths))})."
            )
        pending = session.exec(
            select(AccessRequest).where(
                AccessRequest.requester_id == requester.id,
                AccessRequest.source_id == source.id,
                open_request(),
            )
        ).first()
        if pending is not None:
            raise InvalidInput(
                f"You already asked for access to {source.name} on {pending.created_at:%d %B %Y}: "
                "withdraw that request to ask again."
            )
        request = AccessRequest(
            requester_id=requester.id or 0,
            source_id=source.id or 0,
            level=level,
            paths=list(parsed),
            business_need=need,
            expires_on=expires_on,
        )
        admins = active_admins(session, [source.id or 0]).get(source.id or 0, [])
        manager = session.get(User, requester.line_manager_id) if requester.line_manager_id else None
        request.status = route_request(
            source_has_active_admins=bool(admins), line_manager_active=None if manager is None else is_active(manager)
        )
        kind = NotificationKind.REQUEST_TO_DECIDE
        if request.status is RequestStatus.PENDING_ADMIN:
            deciders = users_named(session, admins)
        elif request.status is RequestStatus.PENDING_LINE_MANAGER and manager is not None:
            request.line_manager_id = manager.id
            deciders = [manager]
            kind = NotificationKind.CONFIRMATION_NEEDED
        else:
            request.no_line_manager = True
            deciders = platform_team(session)
        session.add(request)
        session.flush()
        audit.record(
            session,
            requester.username,
            "request-made",
            f"{requester.username} asked for {level.label.lower()} access to {source.name} ({format_paths(parsed)})",
            source_id=source.id,
            subject=requester.username,
            request_id=request.id,
            after={"level": level.value, "paths": list(parsed), "status": request.status.value},
        )
        notify(
            session,
            deciders,
            kind,
            f"{requester.username} asks for access to {source.name}",
            f"{requester.username} asks for {level.label.lower()} access to {source.name} ({format_paths(parsed)}).\n"
            f"Business need: {need}",
        )
        view = _view(session, request)
    return view


def withdraw_request(gatehouse: Gatehouse, actor: User, request_id: int) -> None:
    with gatehouse.session() as session:
        actor = acting(session, actor)
        request = _load(session, request_id)
        if actor.id != request.requester_id:
            raise NotAllowed("Only the person who asked can withdraw a request.")
        _move(session, request, RequestStatus.WITHDRAWN, actor)
        audit.record(
            session,
            actor.username,
            "request-withdrawn",
            f"{actor.username} withdrew request {request_id}",
            source_id=request.source_id,
            subject=actor.username,
            request_id=request_id,
        )


# --- deciding ------------------------------------------------------------------------------------------


def may_decide(session: Session, actor: User, request: AccessRequest) -> Decision:
    """`rules.check_may_decide`, with whether the actor is an active admin of the request's source read now."""
    source = session.get(DataSource, request.source_id)
    admin = source is not None and is_active_admin(session, actor, source)
    return check_may_decide(actor, request, admin_of_source=admin)


def approve_request(
    gatehouse: Gatehouse,
    actor: User,
    request_id: int,
    level: AccessLevel | None = None,
    paths: str | None = None,
    expires_on: date | None = None,
) -> grants.GrantOutcome:
    """Grant what was asked (or a lower level, or fewer paths): by an active admin of the source, or by the platform
    team for an orphaned source. Exactly one decision wins if two deciders race."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        request = _load(session, request_id)
        if RequestStatus(request.status) is RequestStatus.PENDING_LINE_MANAGER:
            raise InvalidInput("The requester's line manager must confirm this request before it can be granted.")
        may_decide(session, actor, request).enforce()
        check_not_confirmer(actor, request).enforce()
        asked_level, asked_paths = AccessLevel(request.level), tuple(request.paths)
        granted_level = level or asked_level
        granted_paths = asked_paths if paths is None else parse_paths(paths)
        check_no_more_than_asked(asked_level, asked_paths, granted_level, granted_paths).enforce(InvalidInput)
        source = session.get(DataSource, request.source_id)
        requester = session.get(User, request.requester_id)
        assert source is not None and requester is not None
        _move(session, request, RequestStatus.APPROVED, actor)
        request.granted_level = granted_level
        request.granted_paths = list(granted_paths)
        roles = grants.record_grant(
            gatehouse,
            session,
            actor,
            source,
            [requester.username],
            granted_level,
            granted_paths,
            expires_on if expires_on is not None else request.expires_on,
            confirm_external=True,  # the approver saw who asked, external or not
            request_id=request.id,
        )
        changed = (granted_level, granted_paths) != (asked_level, asked_paths)
        audit.record(
            session,
            actor.username,
            "request-approved",
            f"{actor.username} approved {requester.username}'s request for {source.name}"
            + (f", granting {granted_level.label.lower()} ({format_paths(granted_paths)})" if changed else ""),
            source_id=source.id,
            subject=requester.username,
            request_id=request.id,
            before={"level": asked_level.value, "paths": list(asked_paths)},
            after={"level": granted_level.value, "paths": list(granted_paths)},
        )
        notify(
            session,
            [requester],
            NotificationKind.DECISION_MADE,
            f"Your request for {source.name} was approved",
            f"{actor.username} approved your request: you have {granted_level.label.lower()} access to {source.name} "
            f"({format_paths(granted_paths)}).",
        )
        requester_name = requester.username
    return grants.GrantOutcome([requester_name], sync_pending(gatehouse, list(roles.values())))


def refuse_request(gatehouse: Gatehouse, actor: User, request_id: int, reason: str) -> None:
    """Refuse with a reason: an admin (pending admin), the line manager (pending confirmation), the platform team."""
    reason = check_text(reason, "reason", 1000)
    check_refusal_reason(reason).enforce(InvalidInput)
    with gatehouse.session() as session:
        actor = acting(session, actor)
        request = _load(session, request_id)
        may_decide(session, actor, request).enforce()
        source = session.get(DataSource, request.source_id)
        requester = session.get(User, request.requester_id)
        assert source is not None and requester is not None
        _move(session, request, RequestStatus.REFUSED, actor)
        request.decision_reason = reason
        audit.record(
            session,
            actor.username,
            "request-refused",
            f"{actor.username} refused {requester.username}'s request for {source.name}: {reason}",
            source_id=source.id,
            subject=requester.username,
            request_id=request.id,
        )
        notify(
            session,
            [requester],
            NotificationKind.DECISION_MADE,
            f"Your request for {source.name} was refused",
            f"{actor.username} refused your request for access to {source.name}: {reason}",
        )


def confirm_request(gatehouse: Gatehouse, actor: User, request_id: int) -> None:
    """The line manager confirms the business need of a request for an orphaned source; the platform team grants."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        request = _load(session, request_id)
        if RequestStatus(request.status) is not RequestStatus.PENDING_LINE_MANAGER:
            raise InvalidInput("This request does not wait for a line manager's confirmation.")
        may_decide(session, actor, request).enforce()
        source = session.get(DataSource, request.source_id)
        requester = session.get(User, request.requester_id)
        assert source is not None and requester is not None
        _move(session, request, RequestStatus.PENDING_PLATFORM, actor)
        request.confirmed_by_id = actor.id
        request.confirmed_at = utcnow()
        audit.record(
            session,
            actor.username,
            "request-confirmed",
            f"{actor.username} confirmed {requester.username}'s request for the orphaned source {source.name}",
            source_id=source.id,
            subject=requester.username,
            request_id=request.id,
        )
        notify(
            session,
            platform_team(session),
            NotificationKind.REQUEST_TO_DECIDE,
            f"Confirmed request for {source.name} to grant",
            f"{actor.username}, line manager of {requester.username}, confirmed their request for "
            f"{AccessLevel(request.level).label.lower()} access to the orphaned source {source.name}.",
        )


def _load(session: Session, request_id: int) -> AccessRequest:
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise NotFound(f"There is no request number {request_id}.")
    return request


def _move(session: Session, request: AccessRequest, new: RequestStatus, actor: User) -> None:
    """Take one allowed step, only if nobody else moved the request since we read it (optimistic version)."""
    current = RequestStatus(request.status)
    check_transition(current, new).enforce(InvalidInput)
    now = utcnow()
    values: dict[str, Any] = {"status": new, "version": request.version + 1, "updated_at": now}
    if new in (RequestStatus.APPROVED, RequestStatus.REFUSED):
        values |= {"decided_by_id": actor.id, "decided_at": now}
    result = session.exec(  # type: ignore[call-overload]
        update(AccessRequest)
        .where(col(AccessRequest.id) == request.id, col(AccessRequest.version) == request.version)
        .values(**values)
    )
    if result.rowcount != 1:
        raise InvalidInput("Someone else decided this request a moment ago: reload to see the decision.")
    session.refresh(request)


# --- reading -------------------------------------------------------------------------------------------


def _waits_for(request: AccessRequest, admins: list[str], manager: str | None) -> str:
    status = RequestStatus(request.status)
    if status is RequestStatus.PENDING_ADMIN:
        return "an admin of the source: " + ", ".join(admins) if admins else "an admin of the source"
    if status is RequestStatus.PENDING_LINE_MANAGER:
        return f"your line manager, {manager}" if manager else "your line manager"
    if status is RequestStatus.PENDING_PLATFORM:
        return "the platform team" + (" (you have no line manager on record)" if request.no_line_manager else "")
    return ""


def _views(session: Session, *conditions: Any, offset: int = 0, limit: int = 500) -> list[RequestView]:
    """Requests matching the conditions, newest first, with names and admins in a bounded number of queries."""
    manager = aliased(User)
    rows = session.exec(
        select(AccessRequest, User.username, DataSource.name, manager.username)
        .join(User, col(User.id) == AccessRequest.requester_id)
        .join(DataSource, col(DataSource.id) == AccessRequest.source_id)
        .outerjoin(manager, col(manager.id) == AccessRequest.line_manager_id)
        .where(*conditions)
        .order_by(col(AccessRequest.created_at).desc(), col(AccessRequest.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    admins = active_admins(session, list({r[0].source_id for r in rows}))
    return [
        _build(r, requester, source, manager_name, admins.get(r.source_id, []))
        for r, requester, source, manager_name in rows
    ]


def _build(request: AccessRequest, requester: str, source: str, manager: str | None, admins: list[str]) -> RequestView:
    granted = None
    if request.granted_level is not None and (
        request.granted_level != request.level or list(request.granted_paths or []) != list(request.paths)
    ):
        granted = f"{AccessLevel(request.granted_level).label} ({format_paths(tuple(request.granted_paths or []))})"
    return RequestView(
        id=request.id or 0,
        requester=requester,
        source=source,
        level=AccessLevel(request.level),
        paths=tuple(request.paths),
        business_need=request.business_need,
        expires_on=request.expires_on,
        status=RequestStatus(request.status),
        created_at=request.created_at,
        no_line_manager=request.no_line_manager,
        waits_for=_waits_for(request, admins, manager),
        decision_reason=request.decision_reason,
        granted=granted,
    )


def _view(session: Session, request: AccessRequest) -> RequestView:
    return _views(session, AccessRequest.id == request.id)[0]


def my_requests(session: Session, user: User) -> list[RequestView]:
    return _views(session, AccessRequest.requester_id == user.id)


def _page(session: Session, conditions: list[Any], offset: int, limit: int) -> Page[RequestView]:
    """A queue is paged in the database: a heavy admin may have hundreds of requests waiting."""
    total = session.exec(select(func.count()).select_from(AccessRequest).where(*conditions)).one()
    return Page(_views(session, *conditions, offset=offset, limit=limit), total, offset, limit)


def admin_queue(session: Session, admin: User, offset: int = 0, limit: int = 20) -> Page[RequestView]:
    """Requests waiting for an admin, on the sources this user actively administers; never their own."""
    if not is_active(admin):
        return Page([], 0, offset, limit)
    mine = select(Grant.source_id).where(Grant.user_id == admin.id, Grant.level == AccessLevel.ADMIN)
    conditions = [
        AccessRequest.status == RequestStatus.PENDING_ADMIN,
        col(AccessRequest.source_id).in_(mine),
        AccessRequest.requester_id != admin.id,
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


# --- webapp data sources ---------------------------------------------------------------------------------


def request_webapp_source(
    gatehouse: Gatehouse, actor: User, bucket_name: str, app_name: str, business_need: str
) -> SourceRequest:
    """Analysts cannot create webapp sources: they ask the platform team, who create it for the app."""
    bucket = validate_bucket_name(bucket_name, gatehouse.settings.bucket_prefix)
    app = validate_username(app_name) if app_name.strip() else ""
    if not app:
        raise InvalidInput("Name the app that will read the data source.")
    need = check_text(business_need, "business need", 2000)
    check_business_need(need).enforce(InvalidInput)
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_may_own_sources(actor).enforce(InvalidInput)
        if session.exec(select(DataSource.id).where(DataSource.name == bucket)).first() is not None:
            raise InvalidInput(f"A data source called {bucket} already exists: choose another name.")
        request = SourceRequest(
            requester_id=actor.id or 0,
            bucket_name=bucket,
            app_name=app,
            business_need=need,
            status=RequestStatus.PENDING_PLATFORM,
        )
        session.add(request)
        session.flush()
        audit.record(
            session,
            actor.username,
            "source-requested",
            f"{actor.username} asked for the webapp data source {bucket} for the app {app}",
            subject=actor.username,
            request_id=request.id,
        )
        notify(
            session,
            platform_team(session),
            NotificationKind.SOURCE_REQUEST,
            f"{actor.username} asks for a webapp data source",
            f"{actor.username} asks for the webapp data source {bucket} for the app {app}.\nBusiness need: {need}",
        )
    return request


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


def decide_source_request(
    gatehouse: Gatehouse, actor: User, request_id: int, *, approve: bool, reason: str = ""
) -> Created | None:
    """The platform team creates the requested webapp source (requester admin, app read-only) or refuses it."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        request = session.get(SourceRequest, request_id)
        if request is None or request.status != RequestStatus.PENDING_PLATFORM:
            raise InvalidInput("This webapp source request is not waiting for a decision.")
        requester = session.get(User, request.requester_id)
        assert requester is not None
        bucket, app, requester_name, requester_id = (
            request.bucket_name,
            request.app_name,
            requester.username,
            request.requester_id,
        )
    reason = check_text(reason, "reason", 1000)
    if not approve:
        check_refusal_reason(reason).enforce(InvalidInput)
    created = None
    if approve:
        created = create_source(gatehouse, actor, bucket, SourceKind.WEBAPP, admin=requester_name, app_name=app)
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        decided = session.exec(  # type: ignore[call-overload]
            update(SourceRequest)
            .where(col(SourceRequest.id) == request_id, col(SourceRequest.status) == RequestStatus.PENDING_PLATFORM)
            .values(
                status=RequestStatus.APPROVED if approve else RequestStatus.REFUSED,
                decided_by_id=actor.id,
                decided_at=utcnow(),
                decision_reason=reason.strip() or None,
                source_id=session.exec(select(DataSource.id).where(DataSource.name == bucket)).one()
                if approve
                else None,
            )
        )
        if decided.rowcount != 1:  # another member of the platform team decided it meanwhile: one decision stands
            raise InvalidInput("Someone else decided this webapp source request a moment ago: reload to see it.")
        requester = session.get(User, requester_id)
        verb = "created" if approve else "refused"
        notify(
            session,
            [requester] if requester else [],
            NotificationKind.DECISION_MADE,
            f"Your webapp data source {bucket} was {verb}",
            f"{actor.username} {verb} the webapp data source {bucket} for the app {app}"
            + (f": {reason.strip()}" if reason.strip() else ".")
            + (" You are its admin; the app reads it." if approve else ""),
        )
        if not approve:
            audit.record(
                session,
                actor.username,
                "source-request-refused",
                f"{actor.username} refused the webapp data source {bucket}: {reason.strip()}",
                subject=requester_name,
                request_id=request_id,
            )
    return created
