"""Refuse a request with a reason: an active admin (waiting for the admins), the line manager (waiting for their
confirmation), or the platform team (an orphaned source's request)."""

from __future__ import annotations

from core.actions.deciding import deciding
from core.adapters.models import RequestStatus, User
from core.context import Gatehouse
from core.domain import MAX_REASON, InvalidInput, check_text
from core.notify import NotificationKind
from core.rules import check_refusal_reason


def refuse_request(gatehouse: Gatehouse, actor: User, request_id: int, reason: str) -> None:
    reason = check_text(reason, "reason", MAX_REASON)
    check_refusal_reason(reason).enforce(InvalidInput)
    with deciding(gatehouse, actor, request_id, RequestStatus.REFUSED) as decision:
        decision.request.decision_reason = reason
        who, source, requester = decision.actor.username, decision.source.name, decision.requester
        decision.record(
            "request-refused",
            f"{who} refused {requester.username}'s request for {source}: {reason}",
            [requester],
            NotificationKind.DECISION_MADE,
            f"Your request for {source} was refused",
            f"{who} refused your request for access to {source}: {reason}",
        )
