"""Using the data of a source: browse, preview, upload, download, copy and move objects, and code that reads them.

Each operation checks the actor's database grant first (core.movement); the moving ones also need a data movement
form and add what moved to it. Large data never sits in memory whole: uploads stream through boto3's managed
transfer, downloads are yielded chunk by chunk, a preview reads a bounded byte range, and a folder is shown one page
(one S3 call) at a time.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from core import audit
from core.adapters.aws import Aws, AwsError, aws_call
from core.adapters.models import DataMovement, MovementKind, User
from core.context import Gatehouse
from core.domain import GatehouseError, InvalidInput, NotAllowed, NotFound, console_url, format_paths, shown
from core.movement import (
    MovedObject,
    ObjectExists,
    SourceAccess,
    add_object,
    check_can_read,
    check_can_write,
    source_access,
    usable_movement,
    validate_key,
)
from core.snippets import file_kind

MiB = 1024 * 1024
MOVEMENT_METADATA = "gatehouse-movement-id"  # S3 returns it as the x-amz-meta-gatehouse-movement-id header
MAX_OBJECT_BYTES = 5 * 1024**4  # S3's largest object, 5 TiB
MAX_PARTS = 10_000  # S3's most parts in one multipart upload

# Parts of 8 MiB, 6 in memory at once (being sent or read ahead): memory stays near 6 parts whatever the file's size
# (boto3's default holds 10), and the throughput is boto3's own (bench/upload.py measures both).
UPLOAD_PART = 8 * MiB
UPLOAD_CONCURRENCY = 6
# A server-side copy moves no bytes through Gatehouse: large parts mean few calls.
COPY_CONFIG = TransferConfig(multipart_threshold=256 * MiB, multipart_chunksize=256 * MiB, max_concurrency=8)
DOWNLOAD_CHUNK = MiB

ProgressCallback = Callable[[int], None]  # called with the number of bytes sent since the last call


# --- writes that never replace an object unasked -----------------------------------------------------------------


def _head(aws: Aws, bucket: str, key: str) -> dict[str, Any] | None:
    """The object's metadata, or None when there is no such object."""
    with aws_call("HeadObject", f"{bucket}/{key}"):
        try:
            return dict(aws.s3.head_object(Bucket=bucket, Key=key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise


def _existing(aws: Aws, bucket: str, key: str, overwrite: bool) -> bool:
    """Whether the key holds an object; refuses to go on when it does and replacing was not confirmed."""
    exists = _head(aws, bucket, key) is not None
    if exists and not overwrite:
        raise ObjectExists(f"{shown(key)} already exists in {bucket}: confirm that you want to replace it.")
    return exists


def _raced(error: AwsError, bucket: str, key: str) -> GatehouseError:
    """S3 refused a conditional write: the key was taken after Gatehouse looked."""
    if error.code in ("PreconditionFailed", "ConditionalRequestConflict"):
        return ObjectExists(
            f"{shown(key)} appeared in {bucket} while Gatehouse was writing it: confirm that you want to replace it."
        )
    return error


# --- upload ------------------------------------------------------------------------------------------------------


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


def upload_config(size: int) -> TransferConfig:
    """Parts big enough that even the largest object needs at most S3's 10,000 of them."""
    config = TransferConfig(
        multipart_threshold=UPLOAD_PART,
        multipart_chunksize=max(UPLOAD_PART, -(-size // MAX_PARTS)),
        max_concurrency=UPLOAD_CONCURRENCY,
    )
    # Parts read ahead of the network wait in memory: no more of them than are being sent (boto3's own default is 10,
    # and its constructor does not take this setting, which s3transfer reads from the attribute).
    config.max_in_memory_upload_chunks = UPLOAD_CONCURRENCY
    return config


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
    replaced = _existing(gatehouse.aws, access.bucket, key, overwrite)
    reader = HashingReader(fileobj)
    client = gatehouse.aws.s3 if overwrite else gatehouse.aws.s3_create_only
    extra: dict[str, Any] = {"Metadata": {MOVEMENT_METADATA: str(movement.id)}}
    if content_type := mimetypes.guess_type(key)[0]:
        extra["ContentType"] = content_type
    try:
        with aws_call("Upload", f"{access.bucket}/{key}"):
            client.upload_fileobj(
                reader, access.bucket, key, ExtraArgs=extra, Config=config or upload_config(size), Callback=progress
            )
    except AwsError as error:
        raise _raced(error, access.bucket, key) from error
    moved = MovedObject(access.bucket, key, reader.size, reader.hexdigest())
    verb = "replaced" if replaced else "uploaded"
    summary = f"{actor.username} {verb} {shown(key)} in {access.bucket} ({moved.size:,} bytes) under form {movement.id}"
    add_object(gatehouse, actor, movement.id or 0, moved, "data-uploaded", summary, access.source.id, replaced=replaced)
    return moved


# --- download ----------------------------------------------------------------------------------------------------


def download(gatehouse: Gatehouse, actor: User, movement_id: int | None, source: str, key: str) -> Iterator[bytes]:
    """The object's bytes in chunks, under the actor's download form; refusals are raised here, before any byte.

    The size and SHA-256 of what was sent are added to the form when the stream ends or is closed (a stream closed
    early is recorded as incomplete): consume it or close it."""
    access, movement = _download_rights(gatehouse, actor, movement_id, source, key)
    body = _get(gatehouse.aws, access.bucket, key)["Body"]
    return _stream(gatehouse, actor, movement.id or 0, access, key, body)


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
        return access, usable_movement(session, actor, movement_id, (MovementKind.DOWNLOAD,), access.source)


def _get(aws: Aws, bucket: str, key: str, **extra: Any) -> dict[str, Any]:
    with aws_call("GetObject", f"{bucket}/{key}"):
        try:
            return dict(aws.s3.get_object(Bucket=bucket, Key=key, **extra))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise NotFound(f"There is no object {shown(key)} in {bucket}.") from None
            raise


def _stream(
    gatehouse: Gatehouse, actor: User, movement_id: int, access: SourceAccess, key: str, body: Any
) -> Iterator[bytes]:
    sha256, size, complete = hashlib.sha256(), 0, False
    try:
        with aws_call("GetObject", f"{access.bucket}/{key}"):
            for chunk in body.iter_chunks(DOWNLOAD_CHUNK):
                sha256.update(chunk)
                size += len(chunk)
                yield chunk
        complete = True
    finally:
        body.close()
        how = "downloaded" if complete else "stopped downloading"
        add_object(
            gatehouse,
            actor,
            movement_id,
            MovedObject(access.bucket, key, size, sha256.hexdigest()),
            "data-downloaded",
            f"{actor.username} {how} {shown(key)} from {access.bucket} ({size:,} bytes) under form {movement_id}",
            access.source.id,
            complete=complete,
        )


def _sha256_of(aws: Aws, bucket: str, key: str) -> tuple[int, str]:
    """Read an object through once, in chunks, for the size and SHA-256 of what S3 now holds."""
    body = _get(aws, bucket, key)["Body"]
    sha256, size = hashlib.sha256(), 0
    with aws_call("GetObject", f"{bucket}/{key}"):
        for chunk in body.iter_chunks(DOWNLOAD_CHUNK):
            sha256.update(chunk)
            size += len(chunk)
    return size, sha256.hexdigest()


# --- copy and move -----------------------------------------------------------------------------------------------


def copy(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int | None,
    source: str,
    key: str,
    target: str,
    target_key: str,
    overwrite: bool = False,
) -> MovedObject:
    """Copy an object the actor may read to a place they may write, under their copy form (S3 copies it itself)."""
    return _transfer(gatehouse, actor, movement_id, source, key, target, target_key, overwrite, remove=False)


def move(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int | None,
    source: str,
    key: str,
    target: str,
    target_key: str,
    overwrite: bool = False,
) -> MovedObject:
    """Copy, then delete the original: needs write access to both places and a move form."""
    return _transfer(gatehouse, actor, movement_id, source, key, target, target_key, overwrite, remove=True)


def _transfer(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int | None,
    source: str,
    key: str,
    target: str,
    target_key: str,
    overwrite: bool,
    *,
    remove: bool,
) -> MovedObject:
    target_key = validate_key(target_key)
    kind = MovementKind.MOVE if remove else MovementKind.COPY
    done = "moved" if remove else "copied"
    with gatehouse.session() as session:
        origin = source_access(session, actor, source)
        (check_can_write if remove else check_can_read)(origin, key).enforce()
        destination = source_access(session, actor, target)
        check_can_write(destination, target_key).enforce()
        movement = usable_movement(session, actor, movement_id, (kind,), origin.source, destination.source)
    if (origin.bucket, key) == (destination.bucket, target_key):
        raise InvalidInput(f"{shown(key)} would be {done} onto itself: choose another name or data source.")
    head = _head(gatehouse.aws, origin.bucket, key)
    if head is None:
        raise NotFound(f"There is no object {shown(key)} in {origin.bucket}.")
    replaced = _existing(gatehouse.aws, destination.bucket, target_key, overwrite)
    extra = {
        "Metadata": {**head.get("Metadata", {}), MOVEMENT_METADATA: str(movement.id)},
        "MetadataDirective": "REPLACE",
        "ContentType": head.get("ContentType") or "binary/octet-stream",
    }
    client = gatehouse.aws.s3 if overwrite else gatehouse.aws.s3_create_only
    try:
        with aws_call("CopyObject", f"{destination.bucket}/{target_key}"):
            client.copy(
                {"Bucket": origin.bucket, "Key": key},
                destination.bucket,
                target_key,
                ExtraArgs=extra,
                Config=COPY_CONFIG,
            )
    except AwsError as error:
        raise _raced(error, destination.bucket, target_key) from error
    # S3 copied the bytes itself; reading the copy back once gives the checksum of what now sits in the target.
    size, sha256 = _sha256_of(gatehouse.aws, destination.bucket, target_key)
    if remove:
        with aws_call("DeleteObject", f"{origin.bucket}/{key}"):
            gatehouse.aws.s3.delete_object(Bucket=origin.bucket, Key=key)
    moved = MovedObject(destination.bucket, target_key, size, sha256)
    summary = (
        f"{actor.username} {done} {shown(key)} from {origin.bucket} to {destination.bucket} as "
        f"{shown(target_key)} ({size:,} bytes) under form {movement.id}"
    )
    add_object(
        gatehouse,
        actor,
        movement.id or 0,
        moved,
        f"data-{done}",
        summary,
        origin.source.id,
        from_bucket=origin.bucket,
        from_key=key,
        replaced=replaced,
    )
    return moved


# --- browse ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Folder:
    name: str
    prefix: str  # the key prefix it stands for, ending with / ("" for the bucket itself)


@dataclass(frozen=True)
class ObjectEntry:
    name: str
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class FolderPage:
    source: str
    prefix: str
    folders: list[Folder]
    objects: list[ObjectEntry]
    next_token: str | None  # pass it back for the next page; None on the last
    console_url: str  # "Open on AWS"


def folder_prefix(prefix: object) -> str:
    """A folder as typed or clicked ("a/b", "/a/b/", "") as the key prefix S3 lists ("a/b/")."""
    if prefix is None:
        return ""
    if not isinstance(prefix, str) or any(ord(c) < 32 or ord(c) == 127 for c in prefix):
        raise InvalidInput("The folder name holds a control character, such as a tab or a line break.")
    text = prefix.strip().lstrip("/")
    return text if not text or text.endswith("/") else text + "/"


def _granted_below(access: SourceAccess, prefix: str) -> list[Folder]:
    """The folders leading from `prefix` towards the actor's granted paths, without listing the bucket."""
    names = sorted({p[len(prefix) :].split("/", 1)[0] for p in access.prefixes if p.startswith(prefix) and p != prefix})
    return [Folder(name, f"{prefix}{name}/") for name in names]


def list_folder(
    gatehouse: Gatehouse,
    actor: User,
    source: str,
    prefix: str = "",
    continuation_token: str | None = None,
    page_size: int = 100,
) -> FolderPage:
    """One page of a folder's subfolders and objects, from one ListObjectsV2 call, within the actor's paths.

    Above a path-restricted grant's paths (the bucket's root, say), the folders that lead to the paths are shown
    instead of a listing: the bucket's other keys are none of the actor's business."""
    prefix = folder_prefix(prefix)
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 1000:
        raise InvalidInput("A page holds 1 to 1,000 entries.")
    with gatehouse.session() as session:
        access = source_access(session, actor, source)
    link = console_url(access.bucket, access.source.region, prefix.rstrip("/"))
    if access.paths and not prefix.startswith(access.prefixes):
        leading = _granted_below(access, prefix)
        if not leading:
            raise NotAllowed(
                f"Your access to {access.bucket} covers only {format_paths(access.paths)}: "
                f"{shown(prefix)} is outside it."
            )
        return FolderPage(access.bucket, prefix, leading, [], None, link)
    request: dict[str, Any] = {"Bucket": access.bucket, "Prefix": prefix, "Delimiter": "/", "MaxKeys": page_size}
    if continuation_token:
        request["ContinuationToken"] = continuation_token
    with aws_call("ListObjectsV2", f"{access.bucket}/{prefix}"):
        response = gatehouse.aws.s3.list_objects_v2(**request)
    folders = [Folder(p["Prefix"][len(prefix) :].rstrip("/"), p["Prefix"]) for p in response.get("CommonPrefixes", [])]
    objects = [
        ObjectEntry(o["Key"][len(prefix) :], o["Key"], o["Size"], o["LastModified"])
        for o in response.get("Contents", [])
        if o["Key"] != prefix  # the empty "folder" object the S3 console makes
    ]
    return FolderPage(access.bucket, prefix, folders, objects, response.get("NextContinuationToken"), link)


def breadcrumbs(bucket: str, prefix: str) -> list[Folder]:
    """The way from the bucket down to a folder: the bucket, then each folder on the way."""
    crumbs = [Folder(bucket, "")]
    for name in folder_prefix(prefix).split("/")[:-1]:
        crumbs.append(Folder(name, f"{crumbs[-1].prefix}{name}/"))
    return crumbs


# --- preview -----------------------------------------------------------------------------------------------------

MAX_PREVIEW_ROWS = 1000
MAX_PREVIEW_BYTES = 1_000_000  # of a text file: a sample to look at, not a way to take the data
PARQUET_PREVIEW_BYTES = 32 * MiB  # the first page of each column, even of a wide table, fits
EXCEL_PREVIEW_BYTES = 10 * MiB  # an Excel file must be read whole: only small ones are previewed
_PARQUET_BUFFER = 64 * 1024


def preview(
    gatehouse: Gatehouse,
    actor: User,
    source: str,
    key: str,
    max_bytes: int = MAX_PREVIEW_BYTES,
    rows: int = 50,
    max_parquet_bytes: int = PARQUET_PREVIEW_BYTES,
) -> pd.DataFrame:
    """The first rows of a data file, reading a bounded part of it: at most `max_bytes` of a text file,
    `max_parquet_bytes` of a Parquet file (its footer and the first pages of its columns), a small Excel file whole."""
    kind = file_kind(key) if isinstance(key, str) else None
    if kind is None:
        raise InvalidInput("Gatehouse can preview CSV, TSV, JSON lines, Parquet and Excel files.")
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_PREVIEW_ROWS:
        raise InvalidInput(f"A preview shows 1 to {MAX_PREVIEW_ROWS:,} rows.")
    if not isinstance(max_bytes, int) or not 1024 <= max_bytes <= MAX_PREVIEW_BYTES:
        raise InvalidInput(f"A preview reads 1,024 to {MAX_PREVIEW_BYTES:,} bytes of a text file.")
    if not isinstance(max_parquet_bytes, int) or not 1024 <= max_parquet_bytes <= PARQUET_PREVIEW_BYTES:
        raise InvalidInput(f"A preview reads at most {PARQUET_PREVIEW_BYTES:,} bytes of a Parquet file.")
    with gatehouse.session() as session:
        access = source_access(session, actor, source)
        check_can_read(access, key).enforce()
    if kind == "Parquet":
        frame = _preview_parquet(gatehouse.aws, access.bucket, key, rows, max_parquet_bytes)
    elif kind == "Excel":
        frame = _preview_excel(gatehouse.aws, access.bucket, key, rows)
    else:
        frame = _preview_text(gatehouse.aws, access.bucket, key, kind, rows, max_bytes)
    with gatehouse.session() as session:  # a preview shows data: who saw which rows is on record, as a read
        audit.record(
            session,
            actor.username,
            "data-previewed",
            f"{actor.username} previewed {len(frame):,} rows of {shown(key)} in {access.bucket}",
            source_id=access.source.id,
            key=key,
            rows=len(frame),
        )
    return frame


def _first_bytes(aws: Aws, bucket: str, key: str, max_bytes: int) -> tuple[bytes, int]:
    """The first `max_bytes` of an object (one ranged GET) and the object's whole size."""
    try:
        response = _get(aws, bucket, key, Range=f"bytes=0-{max_bytes - 1}")
    except AwsError as error:
        if error.code == "InvalidRange":  # S3's answer for any range of an empty object
            return b"", 0
        raise
    with aws_call("GetObject", f"{bucket}/{key}"):
        data = response["Body"].read()
    total = response.get("ContentRange", "").rpartition("/")[2]
    return data, int(total) if total.isdigit() else len(data)


def _preview_text(aws: Aws, bucket: str, key: str, kind: str, rows: int, max_bytes: int) -> pd.DataFrame:
    data, total = _first_bytes(aws, bucket, key, max_bytes)
    if len(data) < total:
        end = data.rfind(b"\n")  # the last line was cut: keep only whole ones
        if end < 0:
            raise InvalidInput(
                f"The first line of {shown(key)} is longer than {max_bytes:,} bytes: Gatehouse cannot preview it."
            )
        data = data[: end + 1]
    if not data.strip():
        return pd.DataFrame()
    try:
        if kind == "JSON lines":
            return pd.read_json(io.BytesIO(data), lines=True, nrows=rows, encoding_errors="replace")
        return pd.read_csv(io.BytesIO(data), sep="\t" if kind == "TSV" else ",", nrows=rows, encoding_errors="replace")
    except ValueError as error:  # pandas' parser errors are ValueErrors
        raise _unreadable(key, kind, error) from error


def _unreadable(key: str, kind: str, error: Exception) -> InvalidInput:
    """The parser's own reason, cut to one short line, inside one sentence."""
    reason = str(error).strip().splitlines()[0].rstrip(".") if str(error).strip() else type(error).__name__
    return InvalidInput(f"Gatehouse could not read {shown(key)} as {kind} ({shown(reason, 120)}).")


class _RangedFile(io.RawIOBase):
    """A seekable, read-only view of an S3 object: each read is one ranged GET, and reading past the budget fails."""

    def __init__(self, aws: Aws, bucket: str, key: str, size: int, budget: int) -> None:
        super().__init__()
        self._aws, self._bucket, self._key = aws, bucket, key
        self._size, self._budget = size, budget
        self._position = 0
        self.fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._position + size)
        if end <= self._position:
            return b""
        if self.fetched + end - self._position > self._budget:
            raise InvalidInput(
                f"Previewing {shown(self._key)} would read more than {self._budget:,} bytes: "
                "read it with code instead (see Read this data)."
            )
        data = _get(self._aws, self._bucket, self._key, Range=f"bytes={self._position}-{end - 1}")["Body"]
        with aws_call("GetObject", f"{self._bucket}/{self._key}"):
            chunk = bytes(data.read())
        self.fetched += len(chunk)
        self._position += len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _preview_parquet(aws: Aws, bucket: str, key: str, rows: int, budget: int) -> pd.DataFrame:
    head = _head(aws, bucket, key)
    if head is None:
        raise NotFound(f"There is no object {shown(key)} in {bucket}.")
    source = _RangedFile(aws, bucket, key, int(head["ContentLength"]), budget)
    try:
        # Unbuffered pre-reading would fetch whole column chunks; a buffered stream reads only the pages needed.
        parquet = pq.ParquetFile(source, buffer_size=_PARQUET_BUFFER, pre_buffer=False)
        batch = next(parquet.iter_batches(batch_size=rows, use_threads=False), None)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise _unreadable(key, "Parquet", error) from error
    if batch is None:
        return parquet.schema_arrow.empty_table().to_pandas()
    return batch.to_pandas()


def _preview_excel(aws: Aws, bucket: str, key: str, rows: int) -> pd.DataFrame:
    head = _head(aws, bucket, key)
    if head is None:
        raise NotFound(f"There is no object {shown(key)} in {bucket}.")
    size = int(head["ContentLength"])
    if size > EXCEL_PREVIEW_BYTES:
        raise InvalidInput(
            f"{shown(key)} is {size / MiB:,.1f} MiB: Gatehouse previews Excel files of up to "
            f"{EXCEL_PREVIEW_BYTES // MiB} MiB, because an Excel file must be read whole."
        )
    response = _get(aws, bucket, key)
    with aws_call("GetObject", f"{bucket}/{key}"):
        data = response["Body"].read()
    try:
        return pd.read_excel(io.BytesIO(data), nrows=rows, engine="openpyxl")
    except Exception as error:  # a damaged workbook fails deep inside openpyxl or zipfile, in many ways
        raise InvalidInput(f"Gatehouse could not read {shown(key)} as an Excel workbook.") from error
