"""A person's earlier data movement forms, newest first, so that one can be the starting point of the next; forms
for data leaving a personal-data source that wait for someone's sign-off, and where one stands."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.actor import acting
from core.adapters.models import DataMovement, DataSource, MovementKind, User
from core.domain import Classification, InvalidInput, UserStatus
from core.movement import MovementForm
from core.rules import signs_off


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


# --- data leaving a personal-data source (issue #29) ----------------------------------------------------------


@dataclass(frozen=True)
class MovementToSign:
    id: int
    mover: str
    kind: MovementKind
    source: str
    target: str | None
    created_at: datetime
    answers: dict[str, Any]  # the form's answers as the mover gave them: shown as text


def movements_to_sign(session: Session, user: User, limit: int = 50) -> list[MovementToSign]:
    """Forms for data leaving a personal-data source that wait for this person's sign-off, oldest first: those of
    the sources they are the information asset owner of (never their own), and, for the platform team, those whose
    owner cannot sign (the mover, left, or missing)."""
    actor = acting(session, user)
    iao, mover, target = aliased(User), aliased(User), aliased(DataSource)
    theirs = and_(DataSource.iao_id == actor.id, DataMovement.user_id != actor.id, iao.status == UserStatus.ACTIVE)
    cannot = or_(
        col(DataSource.iao_id).is_(None), DataSource.iao_id == DataMovement.user_id, iao.status != UserStatus.ACTIVE
    )
    mine = or_(theirs, and_(cannot, DataMovement.user_id != actor.id)) if actor.is_platform_admin else theirs
    rows = session.exec(
        select(DataMovement, mover.username, DataSource.name, target.name)
        .join(DataSource, col(DataSource.id) == DataMovement.source_id)
        .join(mover, col(mover.id) == DataMovement.user_id)
        .outerjoin(iao, col(iao.id) == DataSource.iao_id)
        .outerjoin(target, col(target.id) == DataMovement.target_source_id)
        .where(
            col(DataMovement.signoff_needed).is_(True),
            col(DataMovement.signed_off_at).is_(None),
            col(DataMovement.signoff_refused_reason).is_(None),
            mine,
        )
        .order_by(col(DataMovement.created_at), col(DataMovement.id))
        .limit(limit)
    ).all()
    return [
        MovementToSign(
            m.id or 0,
            who,
            MovementKind(m.kind),
            source,
            target_name,
            m.created_at,
            {name: getattr(m, name) for name in _ANSWERS},
        )
        for m, who, source, target_name in rows
    ]


@dataclass(frozen=True)
class SignOff:
    """Where a form that waits for a sign-off stands, for its mover."""

    signer: str  # who signs it: the information asset owner's username, or "the platform team"
    signed_by: str | None
    until: datetime | None  # signed: the data may leave until then
    refused: str | None  # refused: why


def sign_off(session: Session, user: User, movement_id: int, hours: int) -> SignOff | None:
    """The sign-off of one of the person's forms (None: it needs none)."""
    movement = session.get(DataMovement, movement_id)
    if movement is None or movement.user_id != user.id or not movement.signoff_needed:
        return None
    source = session.get(DataSource, movement.source_id)
    iao = session.get(User, source.iao_id) if source and source.iao_id else None
    signer = iao.username if iao is not None and signs_off(iao, mover_id=movement.user_id) else "the platform team"
    by = session.get(User, movement.signed_off_by_id) if movement.signed_off_by_id else None
    until = movement.signed_off_at + timedelta(hours=hours) if movement.signed_off_at else None
    return SignOff(signer, by.username if by else None, until, movement.signoff_refused_reason)


def personal_sources(session: Session, names: tuple[str | None, ...]) -> dict[str, str]:
    """Of these sources, those holding personal data, with what they hold ("Personal data"): a movement form in or
    out of one says so."""
    wanted = [n for n in names if n]
    rows = session.exec(
        select(DataSource.name, DataSource.classification).where(col(DataSource.name).in_(wanted))
    ).all()
    return {name: Classification(kind).label for name, kind in rows if Classification(kind).is_personal}
