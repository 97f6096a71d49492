"""The append-only audit trail: every change of access, decision, data movement and sign-in.

The trail is a hash chain: each event stores sha256(the previous event's hash + its own fields, canonically
serialised), so an event altered, removed or slipped in behind the trail's back (by someone owning the table, who
can switch its triggers off) breaks the chain at that event, and `gatehouse audit verify` says where. Events are
chained as they are inserted, one transaction at a time (`lock_audit_chain`), so the chain stays one line under
concurrent writers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import event, inspect
from sqlmodel import Session, col, select

from core.adapters.db import lock_audit_chain
from core.adapters.models import AuditEvent
from core.domain import InvalidInput

SYSTEM = "system"
GENESIS = ""  # what the first event's hash is chained to
VERIFY_BATCH = 1000


def record(
    session: Session,
    actor: str,
    action: str,
    summary: str,
    *,
    source_id: int | None = None,
    subject: str | None = None,
    request_id: int | None = None,
    before: Any = None,
    after: Any = None,
    **details: Any,
) -> AuditEvent:
    """Add one event to the session's unit of work: it is committed with the change it describes, or not at all.
    Its hash is computed as it is inserted (at the next flush)."""
    if before is not None:
        details["before"] = before
    if after is not None:
        details["after"] = after
    event = AuditEvent(
        actor=actor,
        action=action,
        summary=summary,
        source_id=source_id,
        subject=subject,
        request_id=request_id,
        details=details,
    )
    session.add(event)
    return event


def canonical(event: AuditEvent) -> str:
    """The event's fields as one text that is the same before the insert and after any read back: the time in
    UTC to the microsecond, the details as JSON with sorted keys (as the JSON column stores them)."""
    fields = [
        event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        event.actor,
        event.action,
        event.source_id,
        event.subject,
        event.request_id,
        event.summary,
        json.loads(json.dumps(event.details)),
    ]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chained(previous: str, event: AuditEvent) -> str:
    return hashlib.sha256((previous + canonical(event)).encode()).hexdigest()


@event.listens_for(Session, "before_flush")
def _chain(session: Session, _context: object, _instances: object) -> None:
    """Just before new events are inserted: take the chain (held until this transaction ends, so the last hash read
    is still the last when this one commits), and chain each event, in the order the flush inserts them."""
    new = sorted((obj for obj in session.new if isinstance(obj, AuditEvent)), key=lambda obj: inspect(obj).insert_order)
    if not new:
        return
    # Read afresh at every flush (this transaction's own earlier events included): right after a savepoint too.
    previous = lock_audit_chain(session) or GENESIS
    for audit_event in new:
        audit_event.hash = previous = chained(previous, audit_event)


# --- verifying -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainCheck:
    events: int  # how many were checked
    broken_at: int | None  # the id of the first event whose hash is not what the chain before it makes
    head: Anchor | None = None  # the last event and its hash, to keep outside the database


@dataclass(frozen=True)
class Anchor:
    """An event's id and hash, written down outside the database (a scheduler's log, a ticket): the chain proves
    what follows it, and the anchor what it was, against someone who may rewrite the whole trail (its owner role)."""

    event: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        event, _, digest = text.partition(":")
        if not event.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidInput(f"An anchor is an event's id and hash as verify printed it (12:3fa9…), not {text!r}.")
        return cls(int(event), digest)

    def __str__(self) -> str:
        return f"{self.event}:{self.hash}"


def verify(session: Session, anchor: Anchor | None = None) -> ChainCheck:
    """Walk the whole trail in order (in batches: memory stays flat) and recompute every hash; the anchored event,
    if one is given, must still be there with the hash it had."""
    previous, count, head, anchored = GENESIS, 0, None, anchor is None
    for audit_event in _in_order(session):
        count += 1
        event_id, digest = int(audit_event.id or 0), str(audit_event.hash)
        if digest != chained(previous, audit_event):
            return ChainCheck(count, event_id)
        if anchor is not None and not anchored and event_id >= anchor.event:
            if (event_id, digest) != (anchor.event, anchor.hash):
                return ChainCheck(count, anchor.event)  # the anchored event is gone, or the trail was rewritten
            anchored = True
        previous, head = digest, Anchor(event_id, digest)
    if anchor is not None and not anchored:
        return ChainCheck(count, anchor.event)  # the trail ends before the anchored event
    return ChainCheck(count, None, head)


def _in_order(session: Session) -> Iterator[AuditEvent]:
    rows: Iterable[AuditEvent] = session.exec(
        select(AuditEvent).order_by(col(AuditEvent.id)).execution_options(yield_per=VERIFY_BATCH)
    )
    yield from rows
