"""The platform team decides a webapp source asked for: creates it (the requester its admin, the app reading it) or
refuses it with a reason. Each is a decision as deciding.py takes one (its unit of work, in which exactly one
decision wins); the bucket is made after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col

from core import audit
from core.actions.create_source import Created, make_in_aws, record_source
from core.actions.deciding import decision, one_decision_wins
from core.adapters.models import RequestStatus, SourceRequest, User, utcnow
from core.context import Gatehouse
from core.domain import MAX_REASON, InvalidInput, SourceKind, check_text
from core.effects import applied
from core.notify import NotificationKind, notify
from core.rules import check_platform_admin, check_refusal_reason


@dataclass
class _Deciding:
    session: Session
    actor: User
    request: SourceRequest
    requester: User


@contextmanager
def _deciding(gatehouse: Gatehouse, actor: User, request_id: int) -> Iterator[_Deciding]:
    with decision(gatehouse, actor) as (session, actor):
        check_platform_admin(actor).enforce()
        request = session.get(SourceRequest, request_id)
        if request is None or request.status != RequestStatus.PENDING_PLATFORM:
            raise InvalidInput("This webapp source request is not waiting for a decision.")
        requester = session.get(User, request.requester_id)
        assert requester is not None
        yield _Deciding(session, actor, request, requester)


def _decide(deciding: _Deciding, status: RequestStatus, reason: str, source_id: int | None) -> None:
    """The final write, only if the request still waits: another member of the platform team may have decided."""
    one_decision_wins(
        deciding.session,
        update(SourceRequest)
        .where(
            col(SourceRequest.id) == deciding.request.id, col(SourceRequest.status) == RequestStatus.PENDING_PLATFORM
        )
        .values(
            status=status,
            decided_by_id=deciding.actor.id,
            decided_at=utcnow(),
            decision_reason=reason or None,
            source_id=source_id,
        ),
        "Someone else decided this webapp source request a moment ago: reload to see it.",
    )


def create_webapp_source(gatehouse: Gatehouse, actor: User, request_id: int, reason: str = "") -> Created:
    reason = check_text(reason, "reason", MAX_REASON)
    with _deciding(gatehouse, actor, request_id) as deciding:
        bucket, app = deciding.request.bucket_name, deciding.request.app_name
        recorded = record_source(
            gatehouse,
            deciding.session,
            deciding.actor,
            bucket,
            SourceKind.WEBAPP,
            admin=deciding.requester.username,
            app_name=app,
        )
        _decide(deciding, RequestStatus.APPROVED, reason, recorded.source_id)
        notify(
            deciding.session,
            [deciding.requester],
            NotificationKind.DECISION_MADE,
            f"Your webapp data source {bucket} was created",
            f"{deciding.actor.username} created the webapp data source {bucket} for the app {app}"
            + (f": {reason}" if reason else ".")
            + " You are its admin; the app reads it.",
        )
    return make_in_aws(gatehouse, recorded, applied(deciding.session))


def refuse_webapp_source(gatehouse: Gatehouse, actor: User, request_id: int, reason: str) -> None:
    reason = check_text(reason, "reason", MAX_REASON)
    check_refusal_reason(reason).enforce(InvalidInput)
    with _deciding(gatehouse, actor, request_id) as deciding:
        bucket, app, who = deciding.request.bucket_name, deciding.request.app_name, deciding.actor.username
        _decide(deciding, RequestStatus.REFUSED, reason, None)
        notify(
            deciding.session,
            [deciding.requester],
            NotificationKind.DECISION_MADE,
            f"Your webapp data source {bucket} was refused",
            f"{who} refused the webapp data source {bucket} for the app {app}: {reason}",
        )
        audit.record(
            deciding.session,
            who,
            "source-request-refused",
            f"{who} refused the webapp data source {bucket}: {reason}",
            subject=deciding.requester.username,
            request_id=request_id,
        )
