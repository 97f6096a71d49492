"""The line manager confirms the business need of a request for an orphaned source; the platform team grants it."""

from __future__ import annotations

from core.actions.deciding import deciding
from core.adapters.models import RequestStatus, User, utcnow
from core.context import Gatehouse
from core.notify import NotificationKind, notify
from core.queries import platform_team


def confirm_request(gatehouse: Gatehouse, actor: User, request_id: int) -> None:
    with deciding(gatehouse, actor, request_id, RequestStatus.PENDING_PLATFORM) as decision:
        request, who, source, requester = decision.request, decision.actor, decision.source, decision.requester
        request.confirmed_by_id = who.id
        request.confirmed_at = utcnow()
        decision.record(
            "request-confirmed",
            f"{who.username} confirmed {requester.username}'s request for the orphaned source {source.name}",
            platform_team(decision.session),
            NotificationKind.REQUEST_TO_DECIDE,
            f"Confirmed request for {source.name} to grant",
            f"{who.username}, line manager of {requester.username}, confirmed their request for "
            f"{request.level.label.lower()} access to the orphaned source {source.name}.",
            asks=True,
        )
        notify(
            decision.session,
            [requester],
            NotificationKind.DECISION_MADE,
            f"Your request for {source.name} was confirmed",
            f"{who.username}, your line manager, confirmed your request for access to {source.name}: it now waits "
            "for the platform team, who grant it.",
        )
