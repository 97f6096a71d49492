"""Upload: a file streams into a source under the uploader's data movement form (boto3's managed transfer: memory
stays near a few parts whatever the size); its size and SHA-256 are added to the form. An existing object is
replaced only when the uploader confirmed it."""

from __future__ import annotations

import hashlib
import io
import mimetypes
from collections.abc import Callable
from typing import Any, BinaryIO

from core.adapters.aws import Aws, AwsError
from core.adapters.models import MovementKind, User
from core.adapters.s3 import TransferConfig, upload_config
from core.context import Gatehouse
from core.domain import GatehouseError, InvalidInput, plural, shown
from core.movement import MOVEMENT_METADATA, MovedObject, ObjectExists, add_object, usable_movement, validate_key
from core.queries import source_access
from core.rules import check_can_write

MAX_OBJECT_BYTES = 5 * 1024**4  # S3's largest object, 5 TiB

ProgressCallback = Callable[[int], None]  # called with the number of bytes sent since the last call


class HashingReader:
    """A file object that passes reads through and hashes each byte once, in order, for the movement's record.

    The managed transfer reads a file in order, but a retried request seeks back and reads again: bytes already
    hashed are not hashed twice. A skip forward would leave bytes unhashed, so it fails the upload rather than let a
    wrong checksum be recorded."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._seekable = bool(getattr(raw, "seekable", lambda: False)())
        self._start = raw.tell() if self._seekable else 0
        self._position = 0
        self._hashed = 0
        self._sha256 = hashlib.sha256()

    def read(self, size: int | None = -1) -> bytes:
        if self._position > self._hashed:
            raise OSError("The file was read out of order, so its checksum cannot be computed.")
        data = self._raw.read(-1 if size is None else size)
        new = self._position + len(data) - self._hashed
        if new > 0:
            self._sha256.update(memoryview(data)[len(data) - new :])
            self._hashed += new
        self._position += len(data)
        return data

    def seekable(self) -> bool:
        return self._seekable

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        absolute = self._raw.seek(self._start + offset if whence == io.SEEK_SET else offset, whence)
        self._position = absolute - self._start
        return self._position

    def close(self) -> None:
        """The transfer closes what it read from; the file is its caller's, who may still want it."""

    @property
    def size(self) -> int:
        return self._hashed

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


def upload(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int | None,
    source: str,
    key: str,
    fileobj: BinaryIO,
    size: int,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    config: TransferConfig | None = None,
) -> MovedObject:
    """Stream one file into a source under the actor's upload form; several files are several calls with one form.

    The object carries the form's id in its metadata; its size and SHA-256 are added to the form. An existing object
    is replaced only with `overwrite=True`; without it the write is conditional, so an object that appears while the
    file is uploading is not replaced either."""
    key = validate_key(key)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInput("The file's size is not known: choose the file again.")
    if size > MAX_OBJECT_BYTES:
        raise InvalidInput(f"The file is {size / 1024**4:,.1f} TiB: S3 objects hold at most 5 TiB.")
    with gatehouse.session() as session:
        access = source_access(session, actor, source)
        check_can_write(access, key).enforce()
        movement = usable_movement(session, actor, movement_id, (MovementKind.UPLOAD,), access.source)
    replaced = refuse_replacing(gatehouse.aws, access.bucket, key, overwrite)
    reader = HashingReader(fileobj)
    extra: dict[str, Any] = {"Metadata": {MOVEMENT_METADATA: str(movement.id)}}
    if content_type := mimetypes.guess_type(key)[0]:
        extra["ContentType"] = content_type
    try:
        version_id = gatehouse.aws.upload(
            access.bucket, key, reader, extra, config or upload_config(size), progress, create_only=not overwrite
        )
    except AwsError as error:
        raise raced(error, access.bucket, key) from error
    moved = MovedObject(access.bucket, key, reader.size, reader.hexdigest(), version_id)
    verb = "replaced" if replaced else "uploaded"
    summary = (
        f"{actor.username} {verb} {shown(key)} in {access.bucket} ({plural(moved.size, 'byte')}) "
        f"under form {movement.id}"
    )
    add_object(gatehouse, actor, movement.id or 0, moved, "data-uploaded", summary, access.source.id, replaced=replaced)
    return moved


# --- writes that never replace an object unasked (upload, copy, move) ---


def refuse_replacing(aws: Aws, bucket: str, key: str, overwrite: bool) -> bool:
    """Whether the key holds an object; refuses to go on when it does and replacing was not confirmed."""
    exists = aws.head_object(bucket, key) is not None
    if exists and not overwrite:
        raise ObjectExists(f"{shown(key)} already exists in {bucket}: confirm that you want to replace it.")
    return exists


def raced(error: AwsError, bucket: str, key: str) -> GatehouseError:
    """S3 refused a conditional write: the key was taken after Gatehouse looked."""
    if error.code in ("PreconditionFailed", "ConditionalRequestConflict"):
        return ObjectExists(
            f"{shown(key)} appeared in {bucket} while Gatehouse was writing it: confirm that you want to replace it."
        )
    return error
