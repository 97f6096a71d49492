"""The requester withdraws a request that still waits for someone."""

from __future__ import annotations

from core import audit
from core.access import changing_access
from core.actions.deciding import step
from core.actor import acting
from core.adapters.models import DataSource, RequestStatus, User
from core.context import Gatehouse
from core.queries import load_request
from core.rules import asked_for, check_withdrawer


def withdraw_request(gatehouse: Gatehouse, actor: User, request_id: int) -> None:
    with gatehouse.session() as session:
        actor = acting(session, actor)
        request = load_request(session, request_id)
        source = session.get(DataSource, request.source_id)
        assert source is not None
        changing_access(session, source)  # not while the source is archived (which refuses its open requests)
        session.refresh(request)
        check_withdrawer(actor, request).enforce()
        step(session, request, RequestStatus.WITHDRAWN, actor)
        audit.record(
            session,
            actor.username,
            "request-withdrawn",
            f"{actor.username} withdrew their request for {asked_for(request.level, source.name, request.paths)}",
            source_id=request.source_id,
            subject=actor.username,
            request_id=request_id,
        )
