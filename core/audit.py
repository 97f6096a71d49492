"""The append-only audit trail: every change of access, decision, data movement and sign-in."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core.adapters.models import AuditEvent

SYSTEM = "system"


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
    """Add one event to the session's unit of work: it is committed with the change it describes, or not at all."""
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
