"""Grant what was asked (or a lower level, or fewer paths): an active admin of the source, or the platform team for
an orphaned source once the line manager confirmed (and not the same person who confirmed).

Personal data (issue #29): where the source's classification asks it of the terms approved (`rules.needs_iao`), the
admin's approval grants nothing yet: the request waits for the information asset owner (pending-iao) with the terms
the admin approved, and the owner (or, where they cannot, the platform team) approves them, or less, and only then
is access granted; or refuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.access import GrantOutcome, record_grant, record_team_grant
from core.actions.deciding import Deciding, deciding_on
from core.actions.extend_access import grant_extension
from core.adapters.models import RequestStatus, Team, User, utcnow
from core.context import Gatehouse
from core.domain import MAX_REASON, AccessLevel, FieldChecks, InvalidInput, check_text, day
from core.effects import applied
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.queries import owner_for, platform_team, users_named
from core.reads.approval import bounded_by, decision_bounds
from core.reads.queues import iao_step, waiting_for_iao
from core.rules import approval_terms, check_iao_not_first, check_not_confirmer, iao_may_decide, needs_iao


@dataclass(frozen=True)
class ApprovalOutcome(GrantOutcome):
    """An approval's outcome: what AWS took of the grant, or (`next_step`) that nothing is granted yet and who
    approves next, as the approver reads it."""

    next_step: str | None = None


def approve_request(
    gatehouse: Gatehouse,
    actor: User,
    request_id: int,
    level: AccessLevel | None = None,
    paths: Paths | str | None = None,
    expires_on: date | None = None,
    reason: str = "",
) -> ApprovalOutcome:
    """Approve; `reason` (optional) says why, most of all when granting less than was asked. What is wrong with the
    level, paths, end date and reason is refused all at once (InvalidFields), each beside its field: what was asked
    bounds an admin's approval; what the admin approved bounds the information asset owner's."""
    with deciding_on(gatehouse, actor, request_id, RequestStatus.APPROVED) as decision:
        request, source, requester = decision.request, decision.source, decision.requester
        check_not_confirmer(decision.actor, request).enforce()
        owners_step = RequestStatus(request.status) is RequestStatus.PENDING_IAO
        bound = decision_bounds(request)  # what was asked; at the owner's step, what the admin approved
        rule = gatehouse.settings.classification_rules[source.classification]
        checks = FieldChecks()
        with checks.on("reason"):
            reason = check_text(reason, "reason", MAX_REASON)
        granted_level, granted_paths, ends = approval_terms(
            *bound,
            level,
            paths,
            expires_on,
            bucket=source.name,
            today=utcnow().date(),
            checks=checks,
            classification=source.classification,
            rule=rule,
            approved_by=bounded_by(decision.session, request),
        )
        extension = request.extends_grant_id is not None  # asked to extend a grant: its end date moves, nothing else
        if extension and (granted_level, granted_paths) != (request.level, request.paths):
            raise InvalidInput(
                "An extension moves the end date only: approve it as asked or sooner, and change the level or paths "
                "in Admin → Manage access → Edit."
            )
        # personal data: an extension is the owner's to approve too, whatever its terms (issue #29)
        owner_approves = rule.iao_approves != "never" if extension else needs_iao(rule, granted_level, granted_paths)
        if not owners_step and owner_approves:
            check_iao_not_first(decision.actor, source.iao_id).enforce()
            decision.take(RequestStatus.PENDING_IAO)
            said = _send_to_owner(decision, granted_level, granted_paths, ends, reason)
            return ApprovalOutcome([], [], next_step=said)  # nobody is granted anything yet
        decision.take(RequestStatus.APPROVED)
        request.granted_level = granted_level
        request.granted_paths = granted_paths
        request.granted_expires_on = ends
        team = decision.session.get(Team, request.team_id) if request.team_id is not None else None
        if extension:  # the grant keeps its history: the same row, its end date moved (access.record_change)
            grant_extension(decision.session, gatehouse, decision.actor, source, request, ends)
        elif team is None:
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
        if reason:
            request.decision_reason = reason
        _record_approval(decision, team, (granted_level, granted_paths, ends), bound, reason)
        requester_name = requester.username
    return ApprovalOutcome([requester_name], applied(decision.session))


def _send_to_owner(decision: Deciding, level: AccessLevel, paths: Paths, ends: date | None, reason: str) -> str:
    """The admin's step of a personal-data approval: the terms kept, the information asset owner (or the platform
    team in their place) asked, the requester told where it stands. Returns what the approver is told."""
    session, request, source, requester, actor = (
        decision.session,
        decision.request,
        decision.source,
        decision.requester,
        decision.actor,
    )
    request.granted_level, request.granted_paths, request.granted_expires_on = level, paths, ends
    request.admin_approved_by_id, request.admin_approved_at = actor.id, utcnow()
    if reason:
        request.decision_reason = reason
    session.add(request)
    iao = owner_for(session, source, request)  # none: the platform team takes the owner's step
    owner_decides = iao_may_decide(iao, requester_id=request.requester_id, admin_approver_id=actor.id)
    deciders = (
        [iao]
        if owner_decides and iao is not None
        else [u for u in platform_team(session) if u.id not in (actor.id, request.requester_id)]
    )
    who = actor.username
    iao_name = iao.username if iao is not None else None
    next_one = iao_step(iao_name, owner_decides)
    approved = _terms(level, source.name, paths, ends)
    decision.record(
        "request-admin-approved",
        f"{who} approved {requester.username}'s request for {source.name} as admin, for {approved}; it waits for "
        f"{next_one}" + (f": {reason}" if reason else ""),
        deciders,
        NotificationKind.REQUEST_TO_DECIDE,
        f"{requester.username}'s request for {source.name} needs "
        + ("your approval as its information asset owner" if owner_decides else "the information asset owner's step"),
        f"{who} approved {requester.username}'s request as admin, for {approved}. "
        + (
            "As the source's information asset owner, you approve it as approved or less, or refuse it."
            if owner_decides
            else f"The information asset owner{f', {iao_name},' if iao_name else ''} cannot decide it: the platform "
            "team approves it in their place, as approved or less, or refuses it."
        )
        + f"\nBusiness need: {request.business_need}",
        asks=True,
        after={"status": RequestStatus.PENDING_IAO.value, "level": level.value, "paths": list(paths)},
    )
    stands = waiting_for_iao(who, iao_name, owner_decides)
    notify(
        session,
        [requester],
        NotificationKind.REQUEST_MOVED,
        f"Your request for {source.name} was approved by {who}: the information asset owner approves next",
        f"{stands}. Nothing is granted until then: you would have {approved}."
        + (f"\n{who}'s reason: {reason}" if reason else ""),
    )
    return f"Approved: the request now goes to {next_one}, who approves it before anything is granted."


def _record_approval(
    decision: Deciding,
    team: Team | None,
    granted: tuple[AccessLevel, Paths, date | None],
    bound: tuple[AccessLevel, Paths, date | None],
    reason: str,
) -> None:
    """The approval that grants: audited (naming both approvers of personal data), the requester told what they
    have, and the admin who approved first told what the information asset owner decided."""
    session, request, source, requester = decision.session, decision.request, decision.source, decision.requester
    granted_level, granted_paths, ends = granted
    asked_level, asked_paths = request.level, request.paths
    admin = session.get(User, request.admin_approved_by_id) if request.admin_approved_by_id is not None else None
    two_steps = request.admin_approved_at is not None  # the information asset owner's step, after an admin's
    changed = (granted_level, granted_paths, ends) != (asked_level, asked_paths, request.expires_on)
    narrowed = two_steps and (granted_level, granted_paths, ends) != bound
    who = decision.actor.username
    first = (admin.username if admin else "the platform team") if two_steps else None
    by = f"{who} (the information asset owner's step, after {first})" if first else who
    asked = _terms(asked_level, source.name, asked_paths, request.expires_on)
    now_held = _terms(granted_level, source.name, granted_paths, ends)
    decision.record(
        "request-approved",
        f"{by} approved {requester.username}'s request for {source.name}"
        + (f" for the {team.name} team" if team else "")
        + (f", granting {granted_level.label.lower()} ({granted_paths})" if changed else "")
        + (f"; approved first by {first}" if first else "")
        + (f": {reason}" if reason else ""),
        [requester],
        NotificationKind.DECISION_MADE,
        f"Your request for {source.name} was approved" + (" in part" if changed else ""),
        (f"{first} approved your request, then {who} as the information asset owner" if first else f"{who} approved")
        + (
            f" less than you asked. You asked for {asked}; you have {now_held}."
            if changed
            else (f": you have {now_held}." if first else f" your request: you have {now_held}.")
        )
        + (f"\nWhy: {reason}" if reason else ""),
        before={"level": asked_level.value, "paths": list(asked_paths)},
        after={"level": granted_level.value, "paths": list(granted_paths)}
        | ({"admin_approved_by": first} if first else {}),
    )
    if admin is not None and admin.id != decision.actor.id:
        notify(
            session,
            [admin],
            NotificationKind.DECISION_MADE,
            f"{requester.username}'s request for {source.name} is granted",
            f"{who}, after your approval, granted {requester.username} {now_held}"
            + (" (less than you approved)." if narrowed else "."),
        )


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
