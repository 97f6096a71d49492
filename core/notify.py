"""Notifications: always in the in-app inbox, and emailed too when an SMTP host is configured.

A notification is added in the caller's unit of work, so it exists only if the decision it announces was committed.
Email goes out afterwards (`deliver_email`), outside any decision: a mail server that is down delays the email,
never the decision, and the notification is in the inbox all along.

Retry policy. Every failure is recorded in `email_error` and retried at the next call, except one: a message the
server refused for good (a 5xx reply such as an unknown address, or an address that cannot be encoded) would be
refused again, so those refusals are counted, in the error's prefix since the table has no column for it
("(2/5) 550 no such user"), and the email is given up after the fifth; the notification stays in the inbox. A
server that is down, slow, refuses our login or answers 4xx ("try later") says nothing against the message: it is
retried without limit, so an outage of any length loses no email.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from core import effects
from core.adapters import email
from core.adapters.models import AccessRequest, DataSource, Notification, User, utcnow
from core.domain import RequestStatus
from core.reads import reviews
from core.reads.page import Page
from core.reads.queues import waiting_for_iao
from core.rules import iao_may_decide

if TYPE_CHECKING:
    from core.context import Gatehouse

BATCH_SIZE = 50  # notifications locked and sent per transaction
MAX_REFUSALS = 5
_GIVEN_UP = f"({MAX_REFUSALS}/{MAX_REFUSALS})%"
_REFUSALS = re.compile(r"^\((\d+)/\d+\) ")
_ERROR_LENGTH = 500  # the column's size
_SQLITE_DELIVERY = threading.Lock()
_SUBJECT_LENGTH = 200  # the column's size: PostgreSQL would refuse longer, and roll the decision back with it


class NotificationKind(StrEnum):
    REQUEST_TO_DECIDE = "request-to-decide"
    DECISION_MADE = "decision-made"
    REQUEST_MOVED = "request-moved"  # a request waits for someone else now (whom it waited for has left)
    CONFIRMATION_NEEDED = "confirmation-needed"
    ACCESS_ENDING = "access-ending"
    ACCESS_ENDED = "access-ended"
    SOURCE_REQUEST = "source-request"
    ACCESS_CHANGED = "access-changed"
    JOIN_REQUEST = "join-request"
    REVIEW = "review"  # an access review asks, reminds or tells (issue #17)
    REVIEW_QUESTION = "review-question"  # an access review asks a holder whether they still need their access
    SOURCE_CLASSIFIED = "source-classified"  # a source's information asset owner named, replaced or to be named
    ANSWER_NEEDED = "answer-needed"  # a decider asks the requester a question: the request needs their answer
    QUESTION_ANSWERED = "question-answered"  # the requester answered: the request is the decider's again
    REQUEST_CLOSED = "request-closed"  # nobody decided it in GATEHOUSE_REQUEST_MAX_AGE_DAYS: closed
    MOVEMENT_TO_SIGN = "movement-to-sign"  # data leaving a personal-data source waits for its owner's sign-off
    MOVEMENT_SIGNED = "movement-signed"  # … signed (or refused): the mover told


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    skipped_reason: str | None = None


def notify(
    session: Session,
    users: Iterable[User],
    kind: NotificationKind,
    subject: str,
    body: str,
    *,
    request_id: int | None = None,
) -> list[Notification]:
    """Add one notification per distinct active user to the session's unit of work; leavers are not told.

    `request_id`: the request a decider is asked about; their message then shows where it stands (`standings`)."""
    added: dict[int, Notification] = {}
    for user in users:
        # No id: an operator acting from outside the app (platform_operator), who has no inbox.
        if user.is_active and user.id is not None and user.id not in added:
            added[user.id] = Notification(
                user_id=user.id,
                kind=kind.value,
                subject=subject[:_SUBJECT_LENGTH],
                body=body,
                request_id=request_id,
            )
    session.add_all(added.values())
    if added:
        effects.send_mail(session)  # emailed after the commit: a decision rolled back tells nobody
    return list(added.values())


def inbox(session: Session, user: User, offset: int = 0, limit: int = 20) -> Page[Notification]:
    """The user's notifications, newest first, one page at a time."""
    total = session.exec(select(func.count()).where(Notification.user_id == user.id)).one()
    items = session.exec(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return Page(list(items), total, offset, limit)


def moved_on(session: Session, request_id: int, actor: User) -> None:
    """A request moved on (withdrawn, confirmed, decided): the messages that asked its deciders about it are new again
    for all but the one who moved it, and show where it stands now (`standings`): nobody is left asked to decide
    what is settled."""
    query = update(Notification).where(col(Notification.request_id) == request_id)
    if actor.id is not None:  # an operator outside the app (no id) has no inbox: everyone asked hears it
        query = query.where(col(Notification.user_id) != actor.id)
    session.exec(query.values(read_at=None))  # type: ignore[call-overload]


def standings(session: Session, user: User, notification_ids: tuple[int, ...]) -> dict[int, str]:
    """Where what each of the user's messages asks about stands now, by the message's id: the request a decider was
    asked about ("Withdrawn by alice"), or an access review's question once nothing is left to answer. Read with the
    inbox, so it is never out of date. Messages that ask nothing are left out."""
    rows = session.exec(
        select(Notification.id, Notification.kind, AccessRequest)
        .outerjoin(AccessRequest, col(AccessRequest.id) == Notification.request_id)
        .where(col(Notification.id).in_(notification_ids), Notification.user_id == user.id)
    ).all()
    asked = [(message, request) for message, _, request in rows if request is not None]
    questions = [message or 0 for message, kind, _ in rows if kind == NotificationKind.REVIEW_QUESTION]
    people = {r.requester_id for _, r in asked}
    people |= {
        i for _, r in asked for i in (r.decided_by_id, r.confirmed_by_id, r.admin_approved_by_id) if i is not None
    }
    at_owner = {r.source_id for _, r in asked if r.status == RequestStatus.PENDING_IAO}
    owner_of = dict(
        session.exec(select(DataSource.id, DataSource.iao_id).where(col(DataSource.id).in_(at_owner))).all()
    )
    people |= {i for i in owner_of.values() if i is not None}
    found = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(people)))}
    names: dict[int | None, str] = {i: u.username for i, u in found.items()}
    done = reviews.question_standings(session, user, questions)
    return done | {
        message: "Needs your answer"
        if request.requester_id == user.id and request.status == RequestStatus.PENDING_ANSWER
        else standing(request, names, found.get(owner_of.get(request.source_id)))
        for message, request in asked
        if message is not None
    }


def standing(request: AccessRequest, names: dict[int | None, str], iao: User | None = None) -> str:
    """A request's state in one line, naming who moved it there (`names`: usernames by id); `iao`: its source's
    information asset owner, for a request waiting for their step."""
    # no id: the platform team's operator, acting from outside the app
    decider = names.get(request.decided_by_id, "the platform team")
    confirmer = names.get(request.confirmed_by_id, "the line manager")
    match RequestStatus(request.status):
        case RequestStatus.WITHDRAWN:
            return f"Withdrawn by {names.get(request.requester_id, '?')}"
        case RequestStatus.APPROVED:
            return f"Approved by {decider}"
        case RequestStatus.REFUSED:
            return f"Refused by {decider}: {request.decision_reason}"
        case RequestStatus.PENDING_PLATFORM if request.confirmed_by_id is not None:
            return f"Confirmed by {confirmer}: waiting for the platform team"
        case RequestStatus.PENDING_PLATFORM:
            return "Waiting for the platform team"
        case RequestStatus.PENDING_LINE_MANAGER:
            return "Waiting for the line manager's confirmation"
        case RequestStatus.PENDING_ANSWER:
            return f"Waiting for {names.get(request.requester_id, 'the requester')}'s answer to a question"
        case RequestStatus.CLOSED:
            return "Closed: nobody decided it in time"
        case RequestStatus.PENDING_IAO:
            owner_decides = iao_may_decide(
                iao, requester_id=request.requester_id, admin_approver_id=request.admin_approved_by_id
            )
            admin = names.get(request.admin_approved_by_id)
            return waiting_for_iao(admin, iao.username if iao else None, owner_decides)
        case _:
            return "Waiting for a decision"


def mark_read(session: Session, user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications read (all of them, or those listed); others' ids are ignored."""
    query = update(Notification).where(col(Notification.user_id) == user.id, col(Notification.read_at).is_(None))
    if notification_ids is not None:
        ids = set(notification_ids)
        if not ids:
            return 0
        query = query.where(col(Notification.id).in_(ids))
    return session.exec(query.values(read_at=utcnow())).rowcount  # type: ignore[call-overload]


def deliver_email(gatehouse: Gatehouse) -> DeliveryReport:
    """Email every notification not yet emailed, in batches over one connection. Never raises for the mail server."""
    if not gatehouse.settings.smtp_host:
        return DeliveryReport(0, 0, "No SMTP host is configured: notifications are shown in the app only.")
    # PostgreSQL's row locks keep concurrent deliveries apart; SQLite ignores FOR UPDATE, so there the
    # deliveries of this process (one Streamlit thread per browser session) take turns instead.
    with _SQLITE_DELIVERY if gatehouse.engine.dialect.name == "sqlite" else nullcontext():
        return _deliver(gatehouse)


def _deliver(gatehouse: Gatehouse) -> DeliveryReport:
    settings = gatehouse.settings
    sent = failed = 0
    after_id = 0  # each notification is tried at most once per call, even when it fails
    with email.Mailer(settings) as mailer:
        while True:
            with gatehouse.session() as session:
                batch = _next_batch(session, after_id)
                if not batch:
                    break
                after_id = batch[-1][0].id or after_id
                for position, (notification, address) in enumerate(batch):
                    try:
                        mailer.send(notification.subject, notification.body, address)
                    except email.ABOUT_MESSAGE as error:
                        _record_failure(notification, error, counts=email.is_permanent(error))
                        failed += 1
                    except OSError as error:  # refused connection, timeout, disconnection: the rest waits
                        for unsent, _ in batch[position:]:
                            _record_failure(unsent, error, counts=False)
                        return DeliveryReport(sent, failed + len(batch) - position)
                    else:
                        notification.emailed_at, notification.email_error = utcnow(), None
                        sent += 1
    return DeliveryReport(sent, failed)


def _next_batch(session: Session, after_id: int) -> list[tuple[Notification, str]]:
    # FOR UPDATE SKIP LOCKED: two Gatehouse processes delivering at once on PostgreSQL never send one email twice.
    query = (
        select(Notification, User.email)
        .join(User, col(User.id) == Notification.user_id)
        .where(
            col(Notification.id) > after_id,
            col(Notification.emailed_at).is_(None),
            or_(col(Notification.email_error).is_(None), col(Notification.email_error).not_like(_GIVEN_UP)),
        )
        .order_by(col(Notification.id))
        .limit(BATCH_SIZE)
        .with_for_update(skip_locked=True, of=Notification)
    )
    return [(notification, address) for notification, address in session.exec(query).all()]


def _record_failure(notification: Notification, error: Exception, *, counts: bool) -> None:
    refusals = _refusals(notification.email_error) + counts
    prefix = f"({refusals}/{MAX_REFUSALS}) " if refusals else ""
    notification.email_error = f"{prefix}{email.describe(error)}"[:_ERROR_LENGTH]


def _refusals(error_text: str | None) -> int:
    found = _REFUSALS.match(error_text or "")
    return int(found.group(1)) if found else 0
