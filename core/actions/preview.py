"""Preview: the first rows of a data file, reading a bounded part of it, recorded in the audit trail as a read (a
sample to look at, which no table on a page lets anyone export: .streamlit/config.toml). The bytes are fetched here;
they are parsed in a worker process bounded in time, memory and width (core/preview_worker.py)."""

from __future__ import annotations

import pandas as pd

from core import audit, preview_worker
from core.adapters.aws import Aws, AwsError
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import InvalidInput, NotFound, plural, shown
from core.queries import source_access
from core.rules import check_can_read
from core.snippets import file_kind

MiB = 1024 * 1024
MAX_PREVIEW_ROWS = 1000
MAX_PREVIEW_BYTES = 1_000_000  # of a text file: a sample to look at, not a way to take the data
PARQUET_PREVIEW_BYTES = 32 * MiB  # the first page of each column, even of a wide table, fits
EXCEL_PREVIEW_BYTES = 10 * MiB  # an Excel file must be read whole: only small ones are previewed
# Sent with a Parquet preview's job: pyarrow's first read of a footer, and all of a small file (no round trips).
PARQUET_TAIL_BYTES = 64 * 1024


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
            f"{actor.username} previewed {plural(len(frame), 'row')} of {shown(key)} in {access.bucket}",
            source_id=access.source.id,
            key=key,
            rows=len(frame),
        )
    return frame


def _first_bytes(aws: Aws, bucket: str, key: str, max_bytes: int) -> tuple[bytes, int]:
    """The first `max_bytes` of an object (one ranged GET) and the object's whole size."""
    try:
        body = aws.open_object(bucket, key, f"bytes=0-{max_bytes - 1}")
    except AwsError as error:
        if error.code == "InvalidRange":  # S3's answer for any range of an empty object
            return b"", 0
        raise
    data = body.read()
    total = body.content_range.rpartition("/")[2]
    return data, int(total) if total.isdigit() else len(data)


def _preview_text(aws: Aws, bucket: str, key: str, kind: str, rows: int, max_bytes: int) -> pd.DataFrame:
    data, total = _first_bytes(aws, bucket, key, max_bytes)
    if len(data) < total:
        end = data.rfind(b"\n")  # the last line was cut: keep only whole ones
        if end < 0:
            raise InvalidInput(
                f"The first line of {shown(key)} is longer than {plural(max_bytes, 'byte')}: Gatehouse cannot "
                "preview it."
            )
        data = data[: end + 1]
    return preview_worker.parse(preview_worker.Job(key, kind, rows, data=data))


class _Ranges:
    """The parts of an S3 object a preview's worker reads: each one ranged GET, within a budget for the whole
    preview."""

    def __init__(self, aws: Aws, bucket: str, key: str, budget: int) -> None:
        self._aws, self._bucket, self._key, self._budget = aws, bucket, key, budget
        self.fetched = 0

    def __call__(self, offset: int, length: int) -> bytes:
        if self.fetched + length > self._budget:
            raise InvalidInput(
                f"Previewing {shown(self._key)} would read more than {plural(self._budget, 'byte')}: "
                "read it with code instead (see Read this data)."
            )
        chunk = self._aws.open_object(self._bucket, self._key, f"bytes={offset}-{offset + length - 1}").read()
        self.fetched += len(chunk)
        return chunk


def _preview_parquet(aws: Aws, bucket: str, key: str, rows: int, budget: int) -> pd.DataFrame:
    head = aws.head_object(bucket, key)
    if head is None:
        raise NotFound(f"There is no object {shown(key)} in {bucket}.")
    size = int(head["ContentLength"])
    ranges = _Ranges(aws, bucket, key, budget)
    tail = ranges(size - min(size, PARQUET_TAIL_BYTES), min(size, PARQUET_TAIL_BYTES)) if size else b""
    return preview_worker.parse(preview_worker.Job(key, "Parquet", rows, data=tail, size=size), ranges)


def _preview_excel(aws: Aws, bucket: str, key: str, rows: int) -> pd.DataFrame:
    head = aws.head_object(bucket, key)
    if head is None:
        raise NotFound(f"There is no object {shown(key)} in {bucket}.")
    size = int(head["ContentLength"])
    if size > EXCEL_PREVIEW_BYTES:
        raise InvalidInput(
            f"{shown(key)} is {size / MiB:,.1f} MiB: Gatehouse previews Excel files of up to "
            f"{EXCEL_PREVIEW_BYTES // MiB} MiB, because an Excel file must be read whole."
        )
    return preview_worker.parse(preview_worker.Job(key, "Excel", rows, data=aws.open_object(bucket, key).read()))
