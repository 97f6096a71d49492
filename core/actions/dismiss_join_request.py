"""The platform team dismisses a request to join (the person is not to be a member)."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select

from core import audit
from core.actor import acting
from core.adapters.models import User, utcnow
from core.adapters.sign_in_models import JoinRequest
from core.context import Gatehouse
from core.domain import NotFound, shown
from core.rules import check_platform_admin


def dismiss_join_request(gatehouse: Gatehouse, actor: User, request_id: int) -> JoinRequest:
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        request = session.exec(
            select(JoinRequest).where(JoinRequest.id == request_id, col(JoinRequest.closed_at).is_(None))
        ).first()
        if request is None:
            raise NotFound("That request to join is no longer open.")
        closed = session.exec(  # type: ignore[call-overload]
            update(JoinRequest)
            .where(col(JoinRequest.id) == request_id, col(JoinRequest.closed_at).is_(None))
            .values(closed_at=utcnow(), outcome="dismissed", closed_by=actor.username)
        )
        if closed.rowcount != 1:  # added or dismissed by someone else since it was read
            raise NotFound("That request to join is no longer open.")
        session.refresh(request)
        audit.record(
            session,
            actor.username,
            "join-request-dismissed",
            f"{actor.username} dismissed {shown(request.identity, 60)}'s request to join",
            subject=request.identity[:64],
        )
    return request
