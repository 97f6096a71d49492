"""Download: an object's bytes, chunk by chunk, under the person's download form; what was sent (size, SHA-256, or
that it stopped early) is added to the form when the stream ends. One download, one event."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from core.adapters.models import DataMovement, MovementKind, User
from core.adapters.s3 import ObjectBody
from core.context import Gatehouse
from core.domain import plural, shown
from core.movement import MovedObject, add_object, check_signed, usable_movement
from core.queries import source_access
from core.rules import SourceAccess, check_can_read

DOWNLOAD_CHUNK = 1024 * 1024


def download(
    gatehouse: Gatehouse, actor: User, movement_id: int | None, source: str, key: str, version_id: str | None = None
) -> Iterator[bytes]:
    """The object's bytes in chunks (or an earlier version's: `version_id`), under the actor's download form;
    refusals are raised here, before any byte.

    The size and SHA-256 of what was sent are added to the form when the stream ends or is closed (a stream closed
    early is recorded as incomplete): consume it or close it."""
    access, movement = _download_rights(gatehouse, actor, movement_id, source, key)
    body = gatehouse.aws.open_object(access.bucket, key, version_id=version_id)
    return _stream(gatehouse, actor, movement.id or 0, access, key, body, version_id)


def check_download(gatehouse: Gatehouse, actor: User, movement_id: int | None, source: str, key: str) -> None:
    """Refuse now, in one sentence, what `download` would refuse: a page asks before it offers to save the file,
    so that nothing is read, and nothing recorded, until the person saves it."""
    _download_rights(gatehouse, actor, movement_id, source, key)


def _download_rights(
    gatehouse: Gatehouse, actor: User, movement_id: int | None, source: str, key: str
) -> tuple[SourceAccess, DataMovement]:
    with gatehouse.session() as session:
        access = source_access(session, actor, source)
        check_can_read(access, key).enforce()
        movement = usable_movement(session, actor, movement_id, (MovementKind.DOWNLOAD,), access.source)
        check_signed(gatehouse.settings, movement, access.source, None)  # personal data: under a signed form
        return access, movement


def _stream(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int,
    access: SourceAccess,
    key: str,
    body: ObjectBody,
    version_id: str | None,
) -> Iterator[bytes]:
    sha256, size, complete = hashlib.sha256(), 0, False
    try:
        for chunk in body.chunks(DOWNLOAD_CHUNK):
            sha256.update(chunk)
            size += len(chunk)
            yield chunk
        complete = True
    finally:
        body.close()
        how = "downloaded" if complete else "stopped downloading"
        what = f"{shown(key)} (version {shown(version_id, 40)})" if version_id else shown(key)
        add_object(
            gatehouse,
            actor,
            movement_id,
            MovedObject(access.bucket, key, size, sha256.hexdigest()),
            "data-downloaded",
            f"{actor.username} {how} {what} from {access.bucket} ({plural(size, 'byte')}) under form {movement_id}",
            access.source.id,
            complete=complete,
            **({"version_id": version_id} if version_id else {}),
        )
