"""A completed data movement form, stored before any data moves: its id is what every object moved under it carries
(upload, download, copy and move each need one for that very movement)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from sqlmodel import Session

from core import audit
from core.adapters.models import DataMovement, MovementKind, User
from core.config import Settings
from core.context import Gatehouse
from core.domain import Classification, InvalidInput
from core.movement import VERBS, MovementForm, usable_movement
from core.notify import NotificationKind, notify
from core.queries import platform_team, source_access
from core.rules import SourceAccess, check_level_writes, leaves_source, signs_off


def _check_says_personal(access: SourceAccess, target_access: SourceAccess | None, answers: dict[str, Any]) -> None:
    """A form for data in or out of a source holding personal data says that it holds personal data."""
    for held in (access, target_access):
        if (
            held is not None
            and Classification(held.source.classification).is_personal
            and not answers.get("personal_data")
        ):
            raise InvalidInput(
                f"{held.bucket} holds {Classification(held.source.classification).label.lower()}: say on the form that "
                "the data holds personal data, and give its DPIA reference."
            )


def _ask_to_sign(
    session: Session, actor: User, movement: DataMovement, access: SourceAccess, target: SourceAccess | None
) -> None:
    """The source's information asset owner (or, where they cannot sign, the platform team) asked to sign the form."""
    source = access.source
    iao = session.get(User, source.iao_id) if source.iao_id is not None else None
    signers = [iao] if iao is not None and signs_off(iao, mover_id=actor.id or 0) else platform_team(session)
    where = f"to {target.bucket}" if target else "out of the platform"
    notify(
        session,
        signers,
        NotificationKind.MOVEMENT_TO_SIGN,
        f"{actor.username}'s {VERBS[movement.kind].split()[1]} from {source.name} waits for your sign-off",
        f"{actor.username} completed data movement form {movement.id} for {VERBS[movement.kind]} from {source.name} "
        f"{where}. {source.name} holds personal data: no data leaves it until you sign the form ("
        + ("Personal data)." if signers == [iao] else "Platform → Requests: its owner cannot sign it)."),
    )


def _kind(kind: MovementKind | str) -> MovementKind:
    try:
        return MovementKind(kind)
    except ValueError:
        raise InvalidInput("Choose what the movement is: an upload, a download, a copy or a move.") from None


def _check_rights(
    session: Session, actor: User, kind: MovementKind, source: str, target: str | None
) -> tuple[SourceAccess, SourceAccess | None]:
    """Refuse a form for a movement the actor could never make; each object is checked again as it moves."""
    if kind is MovementKind.RESTORE:  # forms of this kind were asked for until issue #25; they stay on record
        raise InvalidInput("Restoring a version needs no data movement form: nothing enters or leaves the platform.")
    if kind in (MovementKind.COPY, MovementKind.MOVE) and not (target and target.strip()):
        raise InvalidInput(f"Choose the data source to {kind.value} the data to.")
    if kind in (MovementKind.UPLOAD, MovementKind.DOWNLOAD) and target:
        raise InvalidInput(f"{VERBS[kind].capitalize()} has no second data source: leave the target empty.")
    access = source_access(session, actor, source)
    if kind in (MovementKind.UPLOAD, MovementKind.MOVE):
        check_level_writes(access).enforce()
    target_access = source_access(session, actor, target) if target else None
    if target_access is not None:
        check_level_writes(target_access).enforce()
    return access, target_access


def record_movement(
    gatehouse: Gatehouse,
    actor: User,
    kind: MovementKind | str,
    form: MovementForm,
    source: str,
    target: str | None = None,
) -> int:
    """Store a completed form before any data moves; returns its id, which every object moved under it carries.

    `source` is the data source the data goes into (an upload) or comes out of (download, copy, move); `target` is
    where a copy or move goes."""
    movement_kind = _kind(kind)
    if not isinstance(form, MovementForm):
        raise InvalidInput("Complete the data movement form first.")
    with gatehouse.session() as session:
        access, target_access = _check_rights(session, actor, movement_kind, source, target)
        return _record(
            gatehouse.settings,
            session,
            actor,
            movement_kind,
            access,
            target_access,
            form.answers(),
            lambda new: f"completed data movement form {new}",
            answers=form.answers(),
        )


def reuse_movement(
    gatehouse: Gatehouse,
    actor: User,
    form_id: int,
    kind: MovementKind | str,
    source: str,
    target: str | None = None,
) -> int:
    """One click instead of nine fields: a form the actor completed for the same direction and the same data
    sources, while it is valid (a day), is used again for another movement. That movement is still its own record,
    with the same answers, and says which form it reused; returns its id."""
    movement_kind = _kind(kind)
    with gatehouse.session() as session:
        access, target_access = _check_rights(session, actor, movement_kind, source, target)
        earlier = usable_movement(
            session, actor, form_id, (movement_kind,), access.source, target_access.source if target_access else None
        )
        answers = {f.name: getattr(earlier, f.name) for f in fields(MovementForm)}
        return _record(
            gatehouse.settings,
            session,
            actor,
            movement_kind,
            access,
            target_access,
            answers,
            lambda new: f"used data movement form {earlier.id} again",
            lambda new: f": form {new}",
            reuses=earlier.id,
        )


def _record(
    settings: Settings,
    session: Session,
    actor: User,
    kind: MovementKind,
    access: SourceAccess,
    target_access: SourceAccess | None,
    form_answers: dict[str, Any],
    what: Callable[[int | None], str],
    after: Callable[[int | None], str] = lambda new: "",
    **details: Any,
) -> int:
    """The movement's row with its answers, and its audit event: "{actor} {what} for {verb} ({where}){after}", each
    given the new form's id. Data leaving a personal-data source waits for its information asset owner's sign-off
    (`signoff_needed`), who is asked."""
    _check_says_personal(access, target_access, form_answers)
    rule = settings.classification_rules[Classification(access.source.classification)]
    target_id = target_access.source.id if target_access else None
    movement = DataMovement(
        user_id=actor.id or 0,
        kind=kind,
        source_id=access.source.id,
        target_source_id=target_id,
        signoff_needed=leaves_source(rule.signoff_to_leave, kind, access.source.id, target_id),
        **form_answers,
    )
    session.add(movement)
    session.flush()
    if movement.signoff_needed:
        _ask_to_sign(session, actor, movement, access, target_access)
        details["signoff_needed"] = True
    where = access.bucket + (f" to {target_access.bucket}" if target_access else "")
    audit.record(
        session,
        actor.username,
        "data-movement-recorded",
        f"{actor.username} {what(movement.id)} for {VERBS[kind]} ({where}){after(movement.id)}",
        source_id=access.source.id,
        movement_id=movement.id,
        kind=kind.value,
        target=target_access.bucket if target_access else None,
        **details,
    )
    return movement.id or 0
