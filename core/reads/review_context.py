"""What helps a reviewer decide, for one page of items (core/reads/reviews.py `to_review`): since when and from whom
each holder has had the grant (the audit trail), and each member holder's last data movement on its source."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from core.adapters.models import AuditEvent, DataMovement
from core.adapters.review_models import ReviewItem

GRANTED = ("access-granted", "access-imported")  # the audit events that start a holding


def granted_events(session: Session, items: list[tuple[ReviewItem, str]]) -> dict[int, tuple[datetime, str]]:
    """Since when, and from whom, each item's holder has had the grant: the latest granting event on the source for
    them at or before the grant was made (the audit trail), for one page of items in one query."""
    if not items:
        return {}
    events = session.exec(
        select(AuditEvent.source_id, AuditEvent.subject, AuditEvent.at, AuditEvent.actor)
        .where(
            col(AuditEvent.action).in_(GRANTED),
            col(AuditEvent.source_id).in_({i.source_id for i, _ in items}),
            col(AuditEvent.subject).in_({name for _, name in items}),
        )
        .order_by(col(AuditEvent.at))
    ).all()
    found: dict[int, tuple[datetime, str]] = {}
    for item, name in items:
        made = item.granted_at + timedelta(seconds=5) if item.granted_at else None
        for source_id, subject, at, who in events:
            if source_id == item.source_id and subject == name and (made is None or at <= made):
                found[item.id or 0] = (at, who)
    return found


def last_movements(session: Session, items: list[ReviewItem]) -> dict[tuple[int, int], datetime]:
    """Each holder's last data movement through Gatehouse on (or into) the item's source, for one page of items."""
    if not items:
        return {}
    sources = {i.source_id for i in items}
    rows = session.exec(
        select(
            DataMovement.user_id,
            DataMovement.source_id,
            DataMovement.target_source_id,
            func.max(DataMovement.created_at),
        )
        .where(
            col(DataMovement.user_id).in_({i.user_id for i in items}),
            or_(col(DataMovement.source_id).in_(sources), col(DataMovement.target_source_id).in_(sources)),
        )
        .group_by(DataMovement.user_id, DataMovement.source_id, DataMovement.target_source_id)
    ).all()
    last: dict[tuple[int, int], datetime] = {}
    for user_id, source_id, target_id, at in rows:
        for key in {(user_id, source_id), (user_id, target_id)}:
            if key[1] is not None and (key not in last or at > last[key]):
                last[key] = at
    return last
