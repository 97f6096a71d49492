"""A holder whose access is about to end asks to extend it (issue #29): a request for the same level and paths with a
new end date and why (`extends_grant_id`), routed as any request is (`rules.route_request`). Approved, the grant's
end date moves (`actions/extend_access.py`), and the grant keeps its history."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from core import audit
from core.access import changing_access
from core.actions.request_access import route
from core.actor import acting
from core.adapters.db import taken_means
from core.adapters.models import AccessRequest, DataSource, Grant, Team, User, utcnow
from core.context import Gatehouse
from core.domain import MAX_BUSINESS_NEED, Classification, FieldChecks, InvalidInput, NotFound, check_text, day
from core.notify import NotificationKind, notify
from core.queries import in_team, open_request
from core.reads.queues import RequestView, view_of
from core.rules import (
    check_access_may_change,
    check_business_need,
    check_end_date,
    check_terms,
)


def ask_to_extend(gatehouse: Gatehouse, actor: User, grant_id: int, until: date, why: str) -> RequestView:
    """Ask for one's grant (or one's team's) to end later, on `until`, because `why`: refused at once, each beside
    its field ("until", "need"), where the date or the reason is wrong."""
    checks = FieldChecks()
    today = utcnow().date()
    with checks.on("need"):
        need = check_text(why, "business need", MAX_BUSINESS_NEED)
        check_business_need(need).enforce(InvalidInput)
    with checks.on("until"):
        if until is None:
            raise InvalidInput("Choose the new end date.")
        check_end_date(until, today).enforce(InvalidInput)
    with gatehouse.session() as session:
        requester = acting(session, actor)
        grant = session.get(Grant, grant_id) if isinstance(grant_id, int) else None
        team = session.get(Team, grant.team_id) if grant is not None and grant.team_id is not None else None
        if grant is None or not (grant.user_id == requester.id or (team and in_team(session, requester, team.id))):
            raise NotFound("You hold no such access: it may have ended. Ask for access again.")
        source = session.get(DataSource, grant.source_id)
        assert source is not None
        with checks.on("until"):
            if grant.expires_on is None:
                raise InvalidInput(f"Your access to {source.name} does not end: there is nothing to extend.")
            if until <= grant.expires_on:
                raise InvalidInput(
                    f"Your access to {source.name} already lasts until {day(grant.expires_on)}: choose a later date."
                )
            classification = Classification(source.classification)
            check_terms(
                classification,
                gatehouse.settings.classification_rules[classification],
                grant.paths,
                until,
                today,
                checks,
            )
        checks.enforce()
        changing_access(session, source)
        check_access_may_change(source.name, source.archived_at).enforce(InvalidInput)
        pending = session.exec(
            select(AccessRequest).where(
                AccessRequest.requester_id == requester.id, AccessRequest.source_id == source.id, open_request()
            )
        ).first()
        taken = f"You already asked for access to {source.name}: withdraw that request to ask again."
        if pending is not None:
            raise InvalidInput(taken)
        request, deciders, kind = _routed(session, requester, source, team, grant, until, need)
        session.add(request)
        with taken_means(taken):
            session.flush()
        for_whom = f" for the {team.name} team" if team else ""
        audit.record(
            session,
            requester.username,
            "extension-asked",
            f"{requester.username} asked to extend their {grant.level.label.lower()} access to {source.name} "
            f"({grant.paths}){for_whom} from {day(grant.expires_on)} to {day(until)}",
            source_id=source.id,
            subject=requester.username,
            request_id=request.id,
            extends_grant_id=grant.id,
            before={"expires_on": str(grant.expires_on)},
            after={"expires_on": str(until), "status": request.status.value},
        )
        notify(
            session,
            deciders,
            kind,
            f"{requester.username} asks to extend their access to {source.name}",
            f"{requester.username} asks to extend their {grant.level.label.lower()} access to {source.name} "
            f"({grant.paths}){for_whom} from {day(grant.expires_on)} to {day(until)}.\nWhy: {need}",
            request_id=request.id,
        )
        return view_of(session, request)


def _routed(
    session: Session, requester: User, source: DataSource, team: Team | None, grant: Grant, until: date, need: str
) -> tuple[AccessRequest, list[User], NotificationKind]:
    """The extension as a request, where `rules.route_request` sends it (as `request_access` does), and whom to ask."""
    request = AccessRequest(
        requester_id=requester.id or 0,
        source_id=source.id or 0,
        team_id=team.id if team else None,
        level=grant.level,
        paths=grant.paths,
        business_need=need,
        expires_on=until,
        extends_grant_id=grant.id,
    )
    deciders, kind = route(session, requester, source, team, request)
    return request, deciders, kind
