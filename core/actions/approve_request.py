"""Grant what was asked (or a lower level, or fewer paths): an active admin of the source, or the platform team for
an orphaned source once the line manager confirmed (and not the same person who confirmed)."""

from __future__ import annotations

from datetime import date

from core.access import GrantOutcome, record_grant, record_team_grant
from core.actions.deciding import Deciding, deciding
from core.adapters.models import RequestStatus, Team, User, utcnow
from core.context import Gatehouse
from core.domain import MAX_REASON, AccessLevel, FieldChecks, check_text, day
from core.effects import applied
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.queries import users_named
from core.rules import approval_terms, check_not_confirmer


def approve_request(
    gatehouse: Gatehouse,
    actor: User,
    request_id: int,
    level: AccessLevel | None = None,
    paths: Paths | str | None = None,
    expires_on: date | None = None,
    reason: str = "",
) -> GrantOutcome:
    """Approve; `reason` (optional) says why, most of all when granting less than was asked. What is wrong with the
    level, paths, end date and reason is refused all at once (InvalidFields), each beside its field."""
    with deciding(gatehouse, actor, request_id, RequestStatus.APPROVED) as decision:
        request, source, requester = decision.request, decision.source, decision.requester
        check_not_confirmer(decision.actor, request).enforce()
        asked_level, asked_paths = request.level, request.paths
        checks = FieldChecks()
        with checks.on("reason"):
            reason = check_text(reason, "reason", MAX_REASON)
        granted_level, granted_paths, ends = approval_terms(
            asked_level,
            asked_paths,
            request.expires_on,
            level,
            paths,
            expires_on,
            bucket=source.name,
            today=utcnow().date(),
            checks=checks,
        )
        request.granted_level = granted_level
        request.granted_paths = granted_paths
        team = decision.session.get(Team, request.team_id) if request.team_id is not None else None
        if team is None:
            record_grant(
                gatehouse,
                decision.session,
                decision.actor,
                source,
                [requester.username],
                granted_level,
                granted_paths,
                ends,
                confirm_external=True,  # the approver saw who asked, external or not
                request_id=request.id,
                announce=False,  # the decision's own message says what was granted
            )
        else:  # asked for a team of the requester's: the team holds it, and its other members are told
            _grant_team(gatehouse, decision, team, granted_level, granted_paths, ends)
        changed = (granted_level, granted_paths, ends) != (asked_level, asked_paths, request.expires_on)
        who = decision.actor.username
        if reason:
            request.decision_reason = reason
        asked = _terms(asked_level, source.name, asked_paths, request.expires_on)
        granted = _terms(granted_level, source.name, granted_paths, ends)
        decision.record(
            "request-approved",
            f"{who} approved {requester.username}'s request for {source.name}"
            + (f" for the {team.name} team" if team else "")
            + (f", granting {granted_level.label.lower()} ({granted_paths})" if changed else "")
            + (f": {reason}" if reason else ""),
            [requester],
            NotificationKind.DECISION_MADE,
            f"Your request for {source.name} was approved" + (" in part" if changed else ""),
            (
                f"{who} approved less than you asked. You asked for {asked}; you have {granted}."
                if changed
                else f"{who} approved your request: you have {granted}."
            )
            + (f"\nWhy: {reason}" if reason else ""),
            before={"level": asked_level.value, "paths": list(asked_paths)},
            after={"level": granted_level.value, "paths": list(granted_paths)},
        )
        requester_name = requester.username
    return GrantOutcome([requester_name], applied(decision.session))


def _grant_team(
    gatehouse: Gatehouse, decision: Deciding, team: Team, level: AccessLevel, paths: Paths, ends: date | None
) -> None:
    session, source, actor, requester = decision.session, decision.source, decision.actor, decision.requester
    request_id = decision.request.id
    reached = record_team_grant(
        gatehouse, session, actor, source, team, level, paths, ends, request_id=request_id, announce=False
    )
    notify(
        session,
        [u for u in users_named(session, reached) if u.id not in (actor.id, requester.id)],
        NotificationKind.ACCESS_CHANGED,
        f"You have {level.label.lower()} access to {source.name} through the {team.name} team",
        f"{actor.username} approved {requester.username}'s request for the {team.name} team: the team has "
        f"{_terms(level, source.name, paths, ends)}, and you have it as a member of the team.",
    )


def _terms(level: AccessLevel, source: str, paths: Paths, ends: date | None) -> str:
    """Access as the requester reads it: "read only access to sales (whole bucket) until 31 March 2027"."""
    return f"{level.label.lower()} access to {source} ({paths})" + (f" until {day(ends)}" if ends else "")
