"""The data movement form: its answers checked as they are made, the form a movement may use, an object name a
person chose, and each object that moved added to its form's record.

No object is uploaded, downloaded, copied or moved before its mover has completed a form for it (PRODUCT.md); the
answers are stored, and every object that moves under a form is added to it with its size and SHA-256. Gatehouse
moves data with its own AWS credentials, so the checks made on the database grants (core/rules/data.py)
are the gate: a page hiding a button is never what stops anyone.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from core import audit
from core.adapters.models import DataMovement, DataSource, MovementKind, ObjectWrite, User, utcnow
from core.config import Settings
from core.context import Gatehouse
from core.domain import (
    BIDI_CONTROLS,
    Classification,
    InvalidInput,
    NotAllowed,
    NotFound,
    format_paths,
    path_covers,
    plural,
    shown,
)
from core.rules import check_download_signed, leaves_source

# What may come onto the platform: data classified SECRET or above never may, so it is not a choice.
CLASSIFICATIONS = ("OFFICIAL", "OFFICIAL-SENSITIVE")
# A form describes one piece of work; a day later it is a new movement and needs its own form (reuse is one click).
FORM_VALID_FOR = timedelta(hours=24)
MAX_KEY_BYTES = 1024  # S3's limit on an object key
# Each object written under a form carries the form's id (S3 returns it as the x-amz-meta-gatehouse-movement-id
# header), for whoever reads the object with other tools. Who wrote a version is never taken from it (anyone with
# write access can set it): Gatehouse records the VersionId of each of its own writes (ObjectWrite).
MOVEMENT_METADATA = "gatehouse-movement-id"

_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # line breaks and tabs are fine in a paragraph


class FormNeeded(NotAllowed):
    """No usable data movement form was given for a movement of data: the page shows the form."""


class ObjectExists(InvalidInput):
    """The object is already there: replacing it needs the mover's explicit confirmation."""


# --- the form -------------------------------------------------------------------------------------------------


ASKS = "asks"  # a field's metadata: what the answer says, for the CLI's help on the YAML keys of `upload --form`


def _asks(question: str) -> Any:
    return field(metadata={ASKS: question})


@dataclass(frozen=True)
class MovementForm:
    """The answers of a data movement form, checked as they are made: a bad answer raises one clear sentence."""

    description: str = _asks("what the data is (10 to 2,000 characters)")
    origin: str = _asks("where it comes from")
    destination: str = _asks("where it goes")
    purpose: str = _asks("why it moves (10 to 2,000 characters)")
    classification: str = _asks(" or ".join(CLASSIFICATIONS))
    personal_data: bool = _asks("true or false: whether it holds personal data")
    retention: str = _asks("how long it will be kept")
    declaration: bool = _asks("true: the information governance procedures for this data were followed")
    dpia_reference: str | None = field(
        default=None, metadata={ASKS: "the DPIA's reference; required when personal_data is true"}
    )

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


def form_questions() -> dict[str, str]:
    """Each answer's key (a field of MovementForm) and what it asks, in the form's order."""
    return {f.name: f.metadata[ASKS] for f in fields(MovementForm)}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _line(value: object, missing: str, limit: int) -> str:
    text = _text(value)
    if not text:
        raise InvalidInput(f"{missing}.")
    if _LINE_CONTROL.search(text):
        raise InvalidInput(f"{missing} on one line, without control characters such as tabs or line breaks.")
    if len(text) > limit:
        raise InvalidInput(f"{missing} in at most {plural(limit, 'character')}; this answer has {len(text):,}.")
    return text


def _paragraph(value: object, missing: str, least: int, limit: int) -> str:
    text = _text(value)
    if len(text) < least:
        raise InvalidInput(f"{missing} in a few words (at least {least} characters).")
    if _TEXT_CONTROL.search(text):
        raise InvalidInput(f"{missing} without control characters (only line breaks and tabs may be used).")
    if len(text) > limit:
        raise InvalidInput(f"{missing} in at most {plural(limit, 'character')}; this answer has {len(text):,}.")
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


def validate_key(key: object, what: str = "object name", example: str = "reports/2025/summary.csv") -> str:
    """An object name (or a folder, `what`) a person chose for data they are writing: S3's limits and no way to climb
    out of a path."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(f"Enter a name for the object, for example {example}.")
    if key.startswith("/"):
        like = shown(key.lstrip("/"), 40) or example
        raise InvalidInput(f"The {what} must not start with /: write {like}, not /{like}.")
    if _LINE_CONTROL.search(key):
        raise InvalidInput(f"The {what} holds a control character, such as a tab or a line break: remove it.")
    if any(c in BIDI_CONTROLS for c in key):
        raise InvalidInput(
            f"The {what} holds a text-direction override, which makes a name look like another: remove it."
        )
    if "\\" in key:  # a folder separator elsewhere: `..\etc` climbs out of a folder once downloaded there
        raise InvalidInput(f"The {what} holds a backslash (\\): separate folders with /, as in {example}.")
    if key.endswith("/"):
        raise InvalidInput(f"The {what} must not end with /: that would name a folder, not a file.")
    parts = key.split("/")
    if any(part in (".", "..") for part in parts):
        raise InvalidInput(f"The {what} must not contain . or .. as a folder name.")
    if "" in parts:
        raise InvalidInput(f"The {what} has an empty folder name (//).")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidInput(
            f"The {what} is {plural(len(key.encode()), 'byte')} long; S3 allows at most {MAX_KEY_BYTES:,}."
        )
    return key


def upload_folder(folder: str, write_paths: tuple[str, ...]) -> str:
    """The folder a person typed to put files in, as a key prefix ("" for the top of the bucket): by the rules of an
    object name, and inside the paths they may write (empty: the whole bucket). Checked as it is typed, before any
    file is chosen; each upload checks its key again."""
    folder = folder.strip()
    prefix = folder.removesuffix("/")  # a folder written as models/ is the folder models
    if prefix:
        validate_key(prefix, "folder", "reports/2025")
    if not write_paths or any(path_covers(path.lstrip("/"), prefix) for path in write_paths):
        return prefix
    inside = format_paths([path.lstrip("/") for path in write_paths])
    raise InvalidInput(
        f"You may put files only in {inside}: {shown(folder, 40) if prefix else 'the top of the bucket'} is outside"
        + (" them." if len(write_paths) > 1 else " it.")
    )


VERBS = {
    MovementKind.UPLOAD: "an upload",
    MovementKind.DOWNLOAD: "a download",
    MovementKind.COPY: "a copy",
    MovementKind.MOVE: "a move",
    MovementKind.RESTORE: "a restore",
}


def usable_movement(
    session: Session,
    actor: User,
    movement_id: int | None,
    kinds: tuple[MovementKind, ...],
    source: DataSource,
    target: DataSource | None = None,
) -> DataMovement:
    """The actor's recent form for this very movement, or one sentence saying why it cannot be used."""
    verb = VERBS[kinds[0]].split()[1]
    if movement_id is None:
        raise FormNeeded(f"Complete a data movement form before you {verb} data.")
    movement = session.get(DataMovement, movement_id) if isinstance(movement_id, int) else None
    if movement is None or movement.user_id != actor.id:
        raise NotFound(f"You have no data movement form {shown(str(movement_id))}.")
    if MovementKind(movement.kind) not in kinds:
        raise FormNeeded(
            f"Data movement form {movement.id} is for {VERBS[MovementKind(movement.kind)]}: "
            f"complete one for this {verb}."
        )
    if movement.source_id != source.id or (target is not None and movement.target_source_id != target.id):
        raise FormNeeded(f"Data movement form {movement.id} is for other data sources: complete one for this {verb}.")
    # a form its information asset owner signs is usable for the hours after the signature instead (`check_signed`)
    if not movement.signoff_needed and utcnow() - _aware(movement.created_at) > FORM_VALID_FOR:
        raise FormNeeded(
            f"Data movement form {movement.id} was completed more than a day ago: "
            "complete a new one (you can start from it)."
        )
    return movement


class AwaitingSignoff(NotAllowed):
    """The movement's form waits for the information asset owner's sign-off: no byte leaves yet."""


def check_signed(settings: Settings, movement: DataMovement, source: DataSource, target: DataSource | None) -> None:
    """Data leaves a personal-data source only under a form its information asset owner signed, and for
    `signed_download_hours` after: refused in one sentence before any byte (`AwaitingSignoff` while it waits)."""
    rule = settings.classification_rules[Classification(source.classification)]
    if not leaves_source(rule.signoff_to_leave, movement.kind, source.id, target.id if target else None):
        return
    if not movement.signoff_needed:  # completed before the source held personal data: its owner never saw it
        raise FormNeeded(
            f"{source.name} holds {Classification(source.classification).label.lower()} since you completed form "
            f"{movement.id}: complete a new form, which its information asset owner signs."
        )
    signed_at = _aware(movement.signed_off_at) if movement.signed_off_at else None
    decision = check_download_signed(
        Classification(source.classification),
        rule,
        signed_at,
        movement.signoff_refused_reason,
        utcnow(),
        settings.signed_download_hours,
    )
    if signed_at is None and not movement.signoff_refused_reason:
        decision.enforce(AwaitingSignoff)
    decision.enforce()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


@dataclass(frozen=True)
class MovedObject:
    bucket: str
    key: str
    size: int
    sha256: str
    version_id: str | None = None  # what S3 answered the write with (None in a bucket without versioning)


def add_object(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int,
    moved: MovedObject,
    action: str,
    summary: str,
    source_id: int | None,
    *,
    deleted: tuple[str, str, str | None] | None = None,
    **details: Any,
) -> None:
    """Add a moved object to its form and the audit trail, in one transaction; the version it wrote (and the delete
    marker a move left where the object was: `deleted`, bucket, key and version) credited to the mover."""
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
        if deleted is not None:
            entry["deleted_version"] = deleted[2]
        movement.objects = [*movement.objects, entry]
        session.add(movement)
        for bucket, key, version_id in ((moved.bucket, moved.key, moved.version_id), deleted or ("", "", None)):
            if version_id is not None:
                session.add(
                    ObjectWrite(
                        bucket=bucket, key=key, version_id=version_id, user_id=actor.id, movement_id=movement_id
                    )
                )
        audit.record(session, actor.username, action, summary, source_id=source_id, movement_id=movement_id, **entry)
