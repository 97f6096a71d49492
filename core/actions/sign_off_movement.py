"""The information asset owner signs off (or refuses) a movement form for data leaving their personal-data source
(issue #29): once signed, the data may leave under it for GATEHOUSE_SIGNED_DOWNLOAD_HOURS; refused, never. Where the
owner is the person moving the data (or has left, or is missing), the platform team decides in their place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col

from core import audit
from core.actor import acting
from core.adapters.models import DataMovement, DataSource, MovementKind, User, utcnow
from core.context import Gatehouse
from core.domain import MAX_REASON, InvalidInput, NotFound, check_text, moment
from core.movement import VERBS
from core.notify import NotificationKind, notify
from core.rules import check_may_sign_off


@dataclass(frozen=True)
class _Deciding:
    session: Session
    actor: User
    movement: DataMovement
    source: DataSource
    mover: User

    @property
    def what(self) -> str:
        """ "download", "copy", "move"."""
        return VERBS[MovementKind(self.movement.kind)].split()[1]


@contextmanager
def _deciding(gatehouse: Gatehouse, actor: User, movement_id: int) -> Iterator[_Deciding]:
    """The form, its source and mover, loaded and checked in one unit of work: who may decide, and that nobody
    decided it yet."""
    with gatehouse.session() as session:
        who = acting(session, actor)
        movement = session.get(DataMovement, movement_id) if isinstance(movement_id, int) else None
        if movement is None:
            raise NotFound(f"There is no data movement form {movement_id}.")
        source = session.get(DataSource, movement.source_id)
        mover = session.get(User, movement.user_id)
        if not movement.signoff_needed or source is None or mover is None:
            raise InvalidInput(f"Data movement form {movement.id} needs nobody's sign-off.")
        iao = session.get(User, source.iao_id) if source.iao_id is not None else None
        check_may_sign_off(who, iao, mover_id=mover.id or 0).enforce()
        _check_undecided(session, movement)
        yield _Deciding(session, who, movement, source, mover)


def _check_undecided(session: Session, movement: DataMovement) -> None:
    if movement.signed_off_at is not None:
        signer = session.get(User, movement.signed_off_by_id)
        raise InvalidInput(
            f"Data movement form {movement.id} was already signed off by {signer.username if signer else 'someone'} "
            f"at {moment(movement.signed_off_at)}."
        )
    if movement.signoff_refused_reason:
        signer = session.get(User, movement.signed_off_by_id)
        raise InvalidInput(
            f"Data movement form {movement.id} was already refused by {signer.username if signer else 'someone'}."
        )


def _one_decision(session: Session, movement: DataMovement, **values: object) -> None:
    """A conditional UPDATE: of two deciders at once, one wins; the other reads who did."""
    done = session.exec(  # type: ignore[call-overload]
        update(DataMovement)
        .where(
            col(DataMovement.id) == movement.id,
            col(DataMovement.signed_off_at).is_(None),
            col(DataMovement.signoff_refused_reason).is_(None),
        )
        .values(**values)
    )
    if done.rowcount != 1:
        session.refresh(movement)
        _check_undecided(session, movement)
        raise InvalidInput(f"Data movement form {movement.id} was decided a moment ago.")
    session.refresh(movement)


def sign_off_movement(gatehouse: Gatehouse, actor: User, movement_id: int) -> datetime:
    """Sign the form: the data may leave under it until the moment returned."""
    with _deciding(gatehouse, actor, movement_id) as d:
        now = utcnow()
        _one_decision(d.session, d.movement, signed_off_by_id=d.actor.id, signed_off_at=now)
        until = now + timedelta(hours=gatehouse.settings.signed_download_hours)
        audit.record(
            d.session,
            d.actor.username,
            "movement-signed-off",
            f"{d.actor.username} signed off {d.mover.username}'s data movement form {d.movement.id} for "
            f"{VERBS[MovementKind(d.movement.kind)]} from {d.source.name}",
            source_id=d.source.id,
            movement_id=d.movement.id,
            until=until.isoformat(),
        )
        notify(
            d.session,
            [d.mover],
            NotificationKind.MOVEMENT_SIGNED,
            f"Your {d.what} from {d.source.name} is signed off",
            f"{d.actor.username} signed your data movement form {d.movement.id}: your {d.what} from {d.source.name} "
            f"is available until {moment(until)}.",
        )
        return until


def refuse_movement(gatehouse: Gatehouse, actor: User, movement_id: int, reason: str) -> None:
    """Refuse the form, with a reason the mover reads: no data ever leaves under it."""
    reason = check_text(reason, "reason", MAX_REASON)
    if len(reason) < 5:
        raise InvalidInput("Give the person moving the data a reason for the refusal (a few words at least).")
    with _deciding(gatehouse, actor, movement_id) as d:
        _one_decision(d.session, d.movement, signed_off_by_id=d.actor.id, signoff_refused_reason=reason)
        audit.record(
            d.session,
            d.actor.username,
            "movement-signoff-refused",
            f"{d.actor.username} refused {d.mover.username}'s data movement form {d.movement.id} for "
            f"{VERBS[MovementKind(d.movement.kind)]} from {d.source.name}: {reason}",
            source_id=d.source.id,
            movement_id=d.movement.id,
            reason=reason,
        )
        notify(
            d.session,
            [d.mover],
            NotificationKind.MOVEMENT_SIGNED,
            f"Your {d.what} from {d.source.name} was refused",
            f"{d.actor.username} refused to sign your data movement form {d.movement.id}: no data leaves "
            f"{d.source.name} under it. Their reason: {reason}",
        )
