"""The data movement form and its rules: who may move which data, and the record kept of what moved.

No object is uploaded, downloaded, copied or moved before its mover has completed a form for it (PRODUCT.md); the
answers are stored, and every object that moves under a form is added to it with its size and SHA-256. Gatehouse
moves data with its own AWS credentials, so the checks here, made on the database grants, are the gate: a page
hiding a button is never what stops anyone.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core import audit
from core.actor import acting
from core.adapters.models import DataMovement, DataSource, Grant, MovementKind, User, utcnow
from core.context import Gatehouse
from core.domain import BIDI_CONTROLS, AccessLevel, InvalidInput, NotAllowed, NotFound, format_paths, shown
from core.queries import get_source, live_grant
from core.rules import ALLOWED, Decision

# What may come onto the platform: data classified SECRET or above never may, so it is not a choice.
CLASSIFICATIONS = ("OFFICIAL", "OFFICIAL-SENSITIVE")
# A form describes one piece of work; a day later it is a new movement and needs its own form (reuse is one click).
FORM_VALID_FOR = timedelta(hours=24)
MAX_KEY_BYTES = 1024  # S3's limit on an object key

_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # line breaks and tabs are fine in a paragraph


class FormNeeded(NotAllowed):
    """No usable data movement form was given for a movement of data: the page shows the form."""


class ObjectExists(InvalidInput):
    """The object is already there: replacing it needs the mover's explicit confirmation."""


# --- the form -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovementForm:
    """The answers of a data movement form, checked as they are made: a bad answer raises one clear sentence."""

    description: str  # what the data is
    origin: str  # where it comes from
    destination: str  # where it goes
    purpose: str
    classification: str
    personal_data: bool
    retention: str
    declaration: bool  # the information governance procedures for this data were followed
    dpia_reference: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: the answers are tidied once, here, then never change
        set_(self, "description", _paragraph(self.description, "Say what the data is", 10, 2000))
        set_(self, "origin", _line(self.origin, "Say where the data comes from", 500))
        set_(self, "destination", _line(self.destination, "Say where the data goes", 500))
        set_(self, "purpose", _paragraph(self.purpose, "Say why the data is moving", 10, 2000))
        set_(self, "classification", _classification(self.classification))
        set_(self, "retention", _line(self.retention, "Say how long the data will be kept", 200))
        if not isinstance(self.personal_data, bool):
            raise InvalidInput("Say whether the data holds personal data: yes or no.")
        set_(self, "dpia_reference", _dpia(self.dpia_reference, self.personal_data))
        if self.declaration is not True:
            raise InvalidInput("Confirm that the information governance procedures for this data were followed.")

    def answers(self) -> dict[str, Any]:
        return asdict(self)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _line(value: object, missing: str, limit: int) -> str:
    text = _text(value)
    if not text:
        raise InvalidInput(f"{missing}.")
    if _LINE_CONTROL.search(text):
        raise InvalidInput(f"{missing} on one line, without control characters such as tabs or line breaks.")
    if len(text) > limit:
        raise InvalidInput(f"{missing} in at most {limit:,} characters; this answer has {len(text):,}.")
    return text


def _paragraph(value: object, missing: str, least: int, limit: int) -> str:
    text = _text(value)
    if len(text) < least:
        raise InvalidInput(f"{missing} in a few words (at least {least} characters).")
    if _TEXT_CONTROL.search(text):
        raise InvalidInput(f"{missing} without control characters (only line breaks and tabs may be used).")
    if len(text) > limit:
        raise InvalidInput(f"{missing} in at most {limit:,} characters; this answer has {len(text):,}.")
    return text


def _classification(value: object) -> str:
    text = re.sub(r"[\s_-]+", "-", _text(value).upper())
    if text not in CLASSIFICATIONS:
        raise InvalidInput(
            f"Choose the security classification, {' or '.join(CLASSIFICATIONS)}: "
            "data classified above OFFICIAL-SENSITIVE must not be moved through Gatehouse."
        )
    return text


def _dpia(value: object, personal_data: bool) -> str | None:
    text = _text(value)
    if personal_data and not text:
        raise InvalidInput(
            "Data that holds personal data needs the reference of its data protection impact assessment (DPIA)."
        )
    if not text:
        return None
    return _line(text, "Give the DPIA reference", 100)


# --- who may move what (pure rules on one grant) --------------------------------------------------------------


@dataclass(frozen=True)
class SourceAccess:
    """What the actor may do with the objects of one source, as their grant in the database says."""

    source: DataSource
    level: AccessLevel
    paths: tuple[str, ...]  # validated, leading /, no trailing /; empty = the whole bucket

    @property
    def bucket(self) -> str:
        return self.source.name

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The key prefixes the paths cover: `/p/q` covers the keys under `p/q/`, as its IAM statement does."""
        return tuple(path.lstrip("/") + "/" for path in self.paths)


def check_can_read(access: SourceAccess, key: str) -> Decision:
    if not isinstance(key, str) or not key:
        return Decision(False, "Choose an object first.")
    if not access.paths or key.startswith(access.prefixes):
        return ALLOWED
    return Decision(
        False, f"Your access to {access.bucket} covers only {format_paths(access.paths)}: {shown(key)} is outside it."
    )


def check_level_writes(access: SourceAccess) -> Decision:
    if access.level.can_write:
        return ALLOWED
    return Decision(False, f"You have read-only access to {access.bucket}: writing to it needs read/write access.")


def check_can_write(access: SourceAccess, key: str) -> Decision:
    level = check_level_writes(access)
    return check_can_read(access, key) if level.allowed else level


def validate_key(key: object) -> str:
    """An object name a person chose for data they are writing: S3's limits and no way to climb out of a path."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("Enter a name for the object, for example reports/2025/summary.csv.")
    if key.startswith("/"):
        raise InvalidInput(
            "The object name must not start with /: write reports/summary.csv, not /reports/summary.csv."
        )
    if _LINE_CONTROL.search(key):
        raise InvalidInput("The object name holds a control character, such as a tab or a line break: remove it.")
    if any(c in BIDI_CONTROLS for c in key):
        raise InvalidInput(
            "The object name holds a text-direction override, which makes a name look like another: remove it."
        )
    if key.endswith("/"):
        raise InvalidInput("The object name must not end with /: that would name a folder, not a file.")
    parts = key.split("/")
    if any(part in (".", "..") for part in parts):
        raise InvalidInput("The object name must not contain . or .. as a folder name.")
    if "" in parts:
        raise InvalidInput("The object name has an empty folder name (//).")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidInput(f"The object name is {len(key.encode()):,} bytes long; S3 allows at most {MAX_KEY_BYTES:,}.")
    return key


def source_access(session: Session, actor: User, source_name: str) -> SourceAccess:
    """The actor's live grant on a live source they may see; refuses with one sentence otherwise."""
    actor = acting(session, actor)
    source = get_source(session, actor, source_name)
    if source.archived_at is not None:
        raise NotAllowed(f"{source.name} is archived: its data can no longer be used through Gatehouse.")
    grant = session.exec(
        select(Grant)
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .join(User, col(User.id) == Grant.user_id)
        .where(Grant.source_id == source.id, Grant.user_id == actor.id, *live_grant(utcnow().date()))
    ).first()
    if grant is None:
        raise NotAllowed(f"You have no access to {source.name}: ask for it on the Request access page.")
    return SourceAccess(source, AccessLevel(grant.level), tuple(grant.paths))


# --- recording a movement -------------------------------------------------------------------------------------

_VERBS = {
    MovementKind.UPLOAD: "an upload",
    MovementKind.DOWNLOAD: "a download",
    MovementKind.COPY: "a copy",
    MovementKind.MOVE: "a move",
}


def _kind(kind: MovementKind | str) -> MovementKind:
    try:
        return MovementKind(kind)
    except ValueError:
        raise InvalidInput("Choose what the movement is: an upload, a download, a copy or a move.") from None


def _check_rights(
    session: Session, actor: User, kind: MovementKind, source: str, target: str | None
) -> tuple[SourceAccess, SourceAccess | None]:
    """Refuse a form for a movement the actor could never make; each object is checked again as it moves."""
    if kind in (MovementKind.COPY, MovementKind.MOVE) and not (target and target.strip()):
        raise InvalidInput(f"Choose the data source to {kind.value} the data to.")
    if kind in (MovementKind.UPLOAD, MovementKind.DOWNLOAD) and target:
        raise InvalidInput(f"{_VERBS[kind].capitalize()} has no second data source: leave the target empty.")
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
        movement = DataMovement(
            user_id=actor.id or 0,
            kind=movement_kind,
            source_id=access.source.id,
            target_source_id=target_access.source.id if target_access else None,
            **form.answers(),
        )
        session.add(movement)
        session.flush()
        where = access.bucket + (f" to {target_access.bucket}" if target_access else "")
        audit.record(
            session,
            actor.username,
            "data-movement-recorded",
            f"{actor.username} completed data movement form {movement.id} for {_VERBS[movement_kind]} ({where})",
            source_id=access.source.id,
            movement_id=movement.id,
            kind=movement_kind.value,
            target=target_access.bucket if target_access else None,
            answers=form.answers(),
        )
        return movement.id or 0


def usable_movement(
    session: Session,
    actor: User,
    movement_id: int | None,
    kinds: tuple[MovementKind, ...],
    source: DataSource,
    target: DataSource | None = None,
) -> DataMovement:
    """The actor's recent form for this very movement, or one sentence saying why it cannot be used."""
    verb = _VERBS[kinds[0]].split()[1]
    if movement_id is None:
        raise FormNeeded(f"Complete a data movement form before you {verb} data.")
    movement = session.get(DataMovement, movement_id) if isinstance(movement_id, int) else None
    if movement is None or movement.user_id != actor.id:
        raise NotFound(f"You have no data movement form {shown(str(movement_id))}.")
    if MovementKind(movement.kind) not in kinds:
        raise FormNeeded(
            f"Data movement form {movement.id} is for {_VERBS[MovementKind(movement.kind)]}: "
            f"complete one for this {verb}."
        )
    if movement.source_id != source.id or (target is not None and movement.target_source_id != target.id):
        raise FormNeeded(f"Data movement form {movement.id} is for other data sources: complete one for this {verb}.")
    if utcnow() - _aware(movement.created_at) > FORM_VALID_FOR:
        raise FormNeeded(
            f"Data movement form {movement.id} was completed more than a day ago: "
            "complete a new one (you can start from it)."
        )
    return movement


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


@dataclass(frozen=True)
class MovedObject:
    bucket: str
    key: str
    size: int
    sha256: str


def add_object(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int,
    moved: MovedObject,
    action: str,
    summary: str,
    source_id: int | None,
    **details: Any,
) -> None:
    """Add a moved object to its form and the audit trail, in one transaction."""
    with gatehouse.session() as session:
        # Writing first takes the row's lock (PostgreSQL) or the database's (SQLite) before the list is read, so
        # uploads that finish together under one form never lose each other's entries.
        session.exec(
            update(DataMovement)
            .where(col(DataMovement.id) == movement_id)
            .values(total_bytes=col(DataMovement.total_bytes) + moved.size, completed_at=utcnow())
        )
        movement = session.get(DataMovement, movement_id, populate_existing=True)
        if movement is None:  # only if the form was deleted, which nothing does: the trail still gets the event
            raise NotFound(f"You have no data movement form {movement_id}.")
        entry = {**asdict(moved), "at": utcnow().isoformat(), **details}
        movement.objects = [*movement.objects, entry]
        session.add(movement)
        audit.record(session, actor.username, action, summary, source_id=source_id, movement_id=movement_id, **entry)


# --- reusing a form -------------------------------------------------------------------------------------------


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
