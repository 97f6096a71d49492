"""Refuse a request with a reason: an active admin (waiting for the admins), the line manager (waiting for their
confirmation), the platform team (an orphaned source's request), or the information asset owner (personal data,
after an admin approved: or the platform team in their place)."""

from __future__ import annotations

from core.actions.deciding import deciding
from core.adapters.models import RequestStatus, User
from core.context import Gatehouse
from core.domain import MAX_REASON, InvalidInput, check_text
from core.notify import NotificationKind, notify
from core.rules import check_refusal_reason


def refuse_request(gatehouse: Gatehouse, actor: User, request_id: int, reason: str) -> None:
    reason = check_text(reason, "reason", MAX_REASON)
    check_refusal_reason(reason).enforce(InvalidInput)
    with deciding(gatehouse, actor, request_id, RequestStatus.REFUSED) as decision:
        request = decision.request
        request.decision_reason = reason
        who, source, requester = decision.actor.username, decision.source.name, decision.requester
        if request.admin_approved_at is None:
            decision.record(
                "request-refused",
                f"{who} refused {requester.username}'s request for {source}: {reason}",
                [requester],
                NotificationKind.DECISION_MADE,
                f"Your request for {source} was refused",
                f"{who} refused your request for access to {source}: {reason}",
            )
            return
        # the information asset owner's step (personal data), after an admin approved: both are told
        session = decision.session
        admin = session.get(User, request.admin_approved_by_id) if request.admin_approved_by_id is not None else None
        first = admin.username if admin else "the platform team"
        owner = decision.actor.id == decision.source.iao_id
        as_whom = "the information asset owner"
        if not owner:
            as_whom = "the platform team, in the information asset owner's place"
        decision.record(
            "request-refused",
            f"{who} ({as_whom}) refused {requester.username}'s request for {source}, which {first} approved as "
            f"admin: {reason}",
            [requester],
            NotificationKind.DECISION_MADE,
            f"Your request for {source} was refused by the information asset owner"
            if owner
            else f"Your request for {source} was refused",
            f"{who}, {as_whom}, refused your request for access to {source} after {first} approved it: {reason}",
        )
        if admin is not None:
            notify(
                session,
                [admin],
                NotificationKind.DECISION_MADE,
                f"{requester.username}'s request for {source} was refused",
                f"{who}, {as_whom}, refused {requester.username}'s request for {source}, which you approved: {reason}",
            )
