"""Stale requests close (issue #29): an open request nobody moved (decided, asked about, answered) for
`GATEHOUSE_REQUEST_MAX_AGE_DAYS` is closed, its requester told to ask again if they still need it and the deciders
it waited for told that it no longer waits. A request waiting for its requester's answer closes too: they did not
answer. Run by `gatehouse expire` (`expire.expire`); idempotent, and safe beside decisions made at the same moment
(each request closes in a unit of work of its own, by the one-winner step)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from core import audit
from core.access import changing_access
from core.actions.answer_question import open_question
from core.actions.deciding import step
from core.adapters.models import AccessRequest, DataSource, RequestStatus, User, utcnow
from core.context import Gatehouse
from core.domain import InvalidInput, UserStatus
from core.notify import NotificationKind, notify
from core.queries import deciders, open_request
from core.rules import asked_for, is_stale


def close_stale(gatehouse: Gatehouse, now: datetime | None = None) -> list[str]:
    """Close every stale open request; what was closed, one line each ("alice's request for alpha-sales")."""
    now = now or utcnow()
    days = gatehouse.settings.request_max_age_days
    with gatehouse.session() as session:
        candidates = session.exec(
            select(AccessRequest.id)
            .where(open_request(), col(AccessRequest.updated_at) <= now - timedelta(days=days))
            .order_by(col(AccessRequest.id))
        ).all()
    closed: list[str] = []
    for request_id in candidates:
        try:
            line = _close(gatehouse, request_id or 0, now, days)
        except InvalidInput:  # moved a moment ago by someone else: it is no longer stale
            continue
        if line:
            closed.append(line)
    return closed


def _close(gatehouse: Gatehouse, request_id: int, now: datetime, days: int) -> str | None:
    with gatehouse.session() as session:
        request = session.get(AccessRequest, request_id)
        source = session.get(DataSource, request.source_id) if request is not None else None
        if request is None or source is None:
            return None
        changing_access(session, source)  # its turn, as every move of a request on the source takes
        session.refresh(request)
        status = RequestStatus(request.status)
        if not status.is_open or not is_stale(_aware(request.updated_at), now, days):
            return None
        requester = session.get(User, request.requester_id)
        assert requester is not None
        question = open_question(session, request_id) if status is RequestStatus.PENDING_ANSWER else None
        asker = session.get(User, question.asked_by_id) if question is not None else None
        waited_for = ([asker] if asker is not None else []) if question is not None else deciders(session, request)
        # closed by nobody in the app (the audit trail says "system"), who has no id and no inbox
        step(session, request, RequestStatus.CLOSED, User(username=audit.SYSTEM, email="", status=UserStatus.ACTIVE))
        asked = asked_for(request.level, source.name, request.paths)
        why = (
            f"{requester.username} did not answer the question asked about it"
            if question is not None
            else "nobody decided it"
        )
        audit.record(
            session,
            audit.SYSTEM,
            "request-closed-stale",
            f"{requester.username}'s request for {asked} was closed: {why} in {days} days",
            source_id=source.id,
            subject=requester.username,
            request_id=request.id,
            before={"status": status.value},
            after={"status": RequestStatus.CLOSED.value},
        )
        notify(
            session,
            [requester],
            NotificationKind.REQUEST_CLOSED,
            f"Your request for {source.name} was closed",
            (
                f"You did not answer the question about your request for {asked} in {days} days"
                if question is not None
                else f"No one decided your request for {asked} in {days} days"
            )
            + ": it is closed. Ask again if you still need it.",
        )
        notify(
            session,
            [u for u in waited_for if u.id != requester.id],
            NotificationKind.REQUEST_CLOSED,
            f"{requester.username}'s request for {source.name} was closed",
            f"{requester.username}'s request for {asked}, which waited for "
            + ("their answer to your question" if question is not None else "your decision")
            + f", was closed: {why} in {days} days. They may ask again.",
        )
        return f"{requester.username}'s request for {source.name}"


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives back naive UTC
