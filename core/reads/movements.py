"""A person's earlier data movement forms, newest first, so that one can be the starting point of the next."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.adapters.models import DataMovement, DataSource, MovementKind, User
from core.domain import InvalidInput
from core.movement import MovementForm


@dataclass(frozen=True)
class PreviousForm:
    id: int
    kind: MovementKind
    source: str | None
    target: str | None
    created_at: datetime
    objects: int
    total_bytes: int
    answers: dict[str, Any]  # every answer but the declaration, which is made afresh for each movement


_ANSWERS = tuple(f.name for f in fields(MovementForm) if f.name != "declaration")


def previous_forms(session: Session, user: User, limit: int = 10) -> list[PreviousForm]:
    """The user's latest forms, newest first, so that one can be the starting point of the next."""
    if not 1 <= limit <= 100:
        raise InvalidInput("Ask for 1 to 100 previous forms.")
    target = aliased(DataSource)
    rows = session.exec(
        select(DataMovement, DataSource.name, target.name)
        .outerjoin(DataSource, col(DataSource.id) == DataMovement.source_id)
        .outerjoin(target, col(target.id) == DataMovement.target_source_id)
        .where(DataMovement.user_id == user.id)
        .order_by(col(DataMovement.created_at).desc(), col(DataMovement.id).desc())
        .limit(limit)
    ).all()
    return [
        PreviousForm(
            id=movement.id or 0,
            kind=MovementKind(movement.kind),
            source=source,
            target=target_name,
            created_at=movement.created_at,
            objects=len(movement.objects),
            total_bytes=movement.total_bytes,
            answers={name: getattr(movement, name) for name in _ANSWERS},
        )
        for movement, source, target_name in rows
    ]
