"""An analyst asks for access to a source with a business need; the request goes where `rules.route_request` says:
the source's active admins, or for an orphaned source the line manager, then the platform team. A source holding
personal data asks more of the terms (`rules.check_terms`: an end date, not too far; named paths)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from core import audit
from core.access import changing_access
from core.actor import acting
from core.adapters.db import taken_means
from core.adapters.models import AccessRequest, DataSource, RequestStatus, Team, User, utcnow
from core.context import Gatehouse
from core.domain import MAX_BUSINESS_NEED, AccessLevel, FieldChecks, InvalidInput, check_text, day
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.queries import (
    admins_of,
    get_source,
    get_team,
    held,
    held_grants,
    holder_name,
    in_team,
    open_request,
    platform_team,
    team_members,
    through_teams,
    users_named,
)
from core.reads.queues import RequestView, view_of
from core.rules import (
    check_access_may_change,
    check_business_need,
    check_end_date,
    check_may_hold,
    check_terms,
    covers_held,
    is_active,
    place_grant,
    route_request,
)


def request_access(
    gatehouse: Gatehouse,
    actor: User,
    source_name: str,
    level: AccessLevel,
    paths: str | None,
    business_need: str,
    expires_on: date | None = None,
    *,
    team: str | None = None,
) -> RequestView:
    """Ask for access, for oneself or (`team`) for a team one is in: approved, the team holds it. What is wrong in the
    paths, the business need and the end date is refused all at once (InvalidFields), each beside its field."""
    checks = FieldChecks()
    with checks.on("need"):
        need = check_text(business_need, "business need", MAX_BUSINESS_NEED)
        check_business_need(need).enforce(InvalidInput)
    with checks.on("until"):
        check_end_date(expires_on, utcnow().date()).enforce(InvalidInput)
    with gatehouse.session() as session:
        requester = acting(session, actor)
        for_team = None if team is None else get_team(session, team)
        if for_team is None:
            check_may_hold(requester, level).enforce(InvalidInput)
        elif not in_team(session, requester, for_team.id):
            raise InvalidInput(f"You are not in the {for_team.name} team: only its members ask for access for it.")
        source = get_source(session, requester, source_name)
        parsed = Paths.WHOLE
        with checks.on("paths"):
            parsed = Paths.parse(paths, source.name)
        # personal data (issue #29): what the source's classification asks of the terms, beside the same fields
        rule = gatehouse.settings.classification_rules[source.classification]
        check_terms(source.classification, rule, parsed, expires_on, utcnow().date(), checks)
        checks.enforce()
        changing_access(session, source)  # one request at a time a source: a second one sees the first
        check_access_may_change(source.name, source.archived_at).enforce(InvalidInput)
        holding = held(held_grants(session, source, for_team or requester))
        reaching = holding if for_team else holding + through_teams(session, source, requester)
        if covers_held(reaching, level, parsed):
            raise InvalidInput(
                f"{'The ' + for_team.name + ' team already has' if for_team else 'You already have'} that access to "
                f"{source.name}: "
                + "; ".join(f"{h.level.label.lower()} on {h.where(source.name)}" for h in reaching)
                + "."
            )
        # Asked for what could not be granted beside what is held (a path inside a held one): said now, not at approval
        if for_team is None:
            place_grant(holding, level, parsed, requester.username, source.name, asking=True)[1].enforce(InvalidInput)
        else:
            place_grant(holding, level, parsed, holder_name(for_team, starts=True), source.name)[1].enforce(
                InvalidInput
            )
        pending = session.exec(
            select(AccessRequest).where(
                AccessRequest.requester_id == requester.id, AccessRequest.source_id == source.id, open_request()
            )
        ).first()
        if pending is not None:
            raise InvalidInput(
                f"You already asked for access to {source.name} on {day(pending.created_at)}: "
                "withdraw that request to ask again."
            )
        request = AccessRequest(
            requester_id=requester.id or 0,
            source_id=source.id or 0,
            team_id=None if for_team is None else for_team.id,
            level=level,
            paths=parsed,
            business_need=need,
            expires_on=expires_on,
        )
        deciders, kind = route(session, requester, source, for_team, request)
        for_whom = f" for the {for_team.name} team" if for_team else ""
        session.add(request)
        with taken_means(f"You already asked for access to {source.name}: withdraw that request to ask again."):
            session.flush()  # the index of open requests (one a person a source) backs the check above
        audit.record(
            session,
            requester.username,
            "request-made",
            f"{requester.username} asked for {level.label.lower()} access to {source.name} ({parsed}){for_whom}",
            source_id=source.id,
            subject=requester.username,
            request_id=request.id,
            after={"level": level.value, "paths": list(parsed), "status": request.status.value}
            | ({"team": for_team.name} if for_team else {}),
        )
        notify(
            session,
            deciders,
            kind,
            f"{requester.username} asks for access to {source.name}",
            f"{requester.username} asks for {level.label.lower()} access to {source.name} ({parsed}){for_whom}.\n"
            f"Business need: {need}",
            request_id=request.id,
        )
        view = view_of(session, request)
    return view


def route(
    session: Session, requester: User, source: DataSource, team: Team | None, request: AccessRequest
) -> tuple[list[User], NotificationKind]:
    """Where a new request (or an extension) waits, `rules.route_request`, set on `request` (its status, and its line
    manager or that it has none), and whom to ask, and how. Nobody decides their own request, nor one for their
    team: those admins are not asked, and with none else the source is as good as orphaned for it."""
    theirs = {m.username for m in team_members(session, [team.id or 0])} if team else set()
    admins = [a for a in admins_of(session, source) if a != requester.username and a not in theirs]
    manager = session.get(User, requester.line_manager_id) if requester.line_manager_id else None
    request.status = route_request(
        source_has_active_admins=bool(admins), line_manager_active=None if manager is None else is_active(manager)
    )
    if request.status is RequestStatus.PENDING_ADMIN:
        return users_named(session, admins), NotificationKind.REQUEST_TO_DECIDE
    if request.status is RequestStatus.PENDING_LINE_MANAGER and manager is not None:
        request.line_manager_id = manager.id
        return [manager], NotificationKind.CONFIRMATION_NEEDED
    request.no_line_manager = True  # none on record, or they have left
    return platform_team(session), NotificationKind.REQUEST_TO_DECIDE
