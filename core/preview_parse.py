"""The first rows of a file for a preview, parsed inside a worker (core/preview_worker.py): what the file's own metadata
says is too big (the first line's columns, a workbook's unpacked size and shared strings, a Parquet file's columns
and the size of its first rows unpacked) is refused before parsing, and long text is cut."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zipfile
from typing import Any, BinaryIO

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.io.parsers import TextParser

from core.config import (
    EXCEL_UNPACKED_MIB,
    MAX_PREVIEW_CELL_CHARS,
    MAX_PREVIEW_COLUMNS,
    MAX_SHARED_STRINGS,
    PARQUET_UNPACKED_MIB,
    PREVIEW_INSTEAD,
    PREVIEW_RESULT_MIB,
    MiB,
)
from core.domain import InvalidInput, plural, shown

_PARQUET_BUFFER = 64 * 1024  # a buffered stream reads only the pages needed, not whole column chunks
# A shared string in a workbook's XML: <si>, <si ...> or <x:si> (a namespace prefix of up to 8 characters).
_SHARED_STRING = re.compile(rb"<(?:\w{1,8}:)?si[\s>/]")
_LONGEST_TAG = 16


def parse(key: str, kind: str, rows: int, source: BinaryIO) -> pd.DataFrame:
    if kind == "Parquet":
        frame = _parquet(key, rows, source)
    elif kind == "Excel":
        frame = _excel(key, rows, source)
    else:
        frame = _text(key, kind, rows, source.read())
    if len(frame.columns) > MAX_PREVIEW_COLUMNS:  # a JSON lines file whose later rows bring new keys
        raise too_wide(key, f"{len(frame.columns):,}")
    frame = _cut(frame)
    if frame.memory_usage(deep=True).sum() > PREVIEW_RESULT_MIB * MiB:
        raise InvalidInput(
            f"The first rows of {shown(key)} hold more than {PREVIEW_RESULT_MIB} MiB: {PREVIEW_INSTEAD}."
        )
    return frame


def too_wide(key: str, columns: str) -> InvalidInput:
    return InvalidInput(
        f"{shown(key)} is too wide to preview: {columns} columns, where a preview shows up to "
        f"{MAX_PREVIEW_COLUMNS:,}; {PREVIEW_INSTEAD}."
    )


def unreadable(key: str, kind: str, error: Exception) -> InvalidInput:
    """The parser's own reason, cut to one short line, inside one sentence."""
    reason = str(error).strip().splitlines()[0].rstrip(".") if str(error).strip() else type(error).__name__
    return InvalidInput(f"Gatehouse could not read {shown(key)} as {kind} ({shown(reason, 120)}).")


def _text(key: str, kind: str, rows: int, data: bytes) -> pd.DataFrame:
    width = _json_width(data, rows) if kind == "JSON lines" else _first_line_width(data, "\t" if kind == "TSV" else ",")
    if width > MAX_PREVIEW_COLUMNS:
        raise too_wide(key, f"{width:,}")
    if not data.strip():
        return pd.DataFrame()
    try:
        if kind == "JSON lines":
            return pd.read_json(io.BytesIO(data), lines=True, nrows=rows, encoding_errors="replace")
        return pd.read_csv(io.BytesIO(data), sep="\t" if kind == "TSV" else ",", nrows=rows, encoding_errors="replace")
    except ValueError as error:  # pandas' parser errors are ValueErrors
        raise unreadable(key, kind, error) from error


def _first_line_width(data: bytes, separator: str) -> int:
    first = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    try:
        return len(next(csv.reader([first], delimiter=separator), []))
    except csv.Error:  # a field longer than the csv module takes: count the separators, an upper bound
        return first.count(separator) + 1


def _json_width(data: bytes, rows: int) -> int:
    """The keys of the first rows' objects, all of them: each one is a column."""
    keys: set[str] = set()
    for line in itertools.islice((line for line in data.splitlines() if line.strip()), rows):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # pandas says what is wrong with it, in its own words
            break
        if isinstance(record, dict):
            keys.update(record)
    return len(keys)


def _excel(key: str, rows: int, source: BinaryIO) -> pd.DataFrame:
    damaged = InvalidInput(f"Gatehouse could not read {shown(key)} as an Excel workbook.")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise damaged from error
    with archive:
        unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > EXCEL_UNPACKED_MIB * MiB:
            raise InvalidInput(
                f"{shown(key)} unpacks to {unpacked / MiB:,.0f} MiB: Gatehouse previews Excel files that unpack to "
                f"at most {EXCEL_UNPACKED_MIB} MiB; {PREVIEW_INSTEAD}."
            )
        strings = _shared_strings(archive)
    if strings > MAX_SHARED_STRINGS:
        raise InvalidInput(
            f"{shown(key)} holds {plural(strings, 'different text')}: Gatehouse previews Excel files of up to "
            f"{MAX_SHARED_STRINGS:,}; {PREVIEW_INSTEAD}."
        )
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True, keep_links=False)
        try:
            # Read only up to one column past the bound: openpyxl still parses a wider row, but keeps none of it.
            sheet = book.worksheets[0]
            table = list(sheet.iter_rows(max_row=rows + 1, max_col=MAX_PREVIEW_COLUMNS + 1, values_only=True))
        finally:
            book.close()
    except MemoryError:
        raise
    except Exception as error:  # a damaged workbook fails deep inside openpyxl or zipfile, in many ways
        raise damaged from error
    width = max((i + 1 for row in table for i, value in enumerate(row) if value is not None), default=0)
    if width > MAX_PREVIEW_COLUMNS:
        raise too_wide(key, f"more than {MAX_PREVIEW_COLUMNS:,}")
    if not width:
        return pd.DataFrame()
    # As pandas' read_excel reads a sheet (which is slow on a wide row: 40,000 cells took over a minute): empty
    # cells as empty text, whole numbers as integers, the first row as the header.
    cells = [[_excel_value(value) for value in row[:width]] + [""] * (width - len(row)) for row in table]
    return TextParser(cells, header=0).read()


def _excel_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _shared_strings(archive: zipfile.ZipFile) -> int:
    """How many shared strings the workbook holds, counted in its XML as it unpacks (the count it declares may lie);
    openpyxl would read them all before the first row."""
    count = 0
    for member in archive.infolist():
        if "sharedstrings" not in member.filename.lower():
            continue
        with archive.open(member) as stream:
            tail = b""
            while chunk := stream.read(MiB):
                text = tail + chunk
                whole = len(text) - _LONGEST_TAG  # a tag starting before here ends inside this text
                count += sum(1 for found in _SHARED_STRING.finditer(text) if found.start() < whole)
                tail = text[whole:]
            count += len(_SHARED_STRING.findall(tail))
    return count


def _parquet(key: str, rows: int, source: BinaryIO) -> pd.DataFrame:
    try:
        parquet = pq.ParquetFile(source, buffer_size=_PARQUET_BUFFER, pre_buffer=False)
        metadata = parquet.metadata
        if metadata.num_columns > MAX_PREVIEW_COLUMNS:
            raise too_wide(key, f"{metadata.num_columns:,}")
        if metadata.num_row_groups and (group := metadata.row_group(0)).num_rows:
            unpacked = group.total_byte_size * min(1.0, rows / group.num_rows)  # uncompressed, as written
            if unpacked > PARQUET_UNPACKED_MIB * MiB:
                raise InvalidInput(
                    f"The first rows of {shown(key)} unpack to {unpacked / MiB:,.0f} MiB: Gatehouse previews at most "
                    f"{PARQUET_UNPACKED_MIB} MiB; {PREVIEW_INSTEAD}."
                )
        batch = next(parquet.iter_batches(batch_size=rows, use_threads=False), None)
    except MemoryError:  # pyarrow's ArrowMemoryError is an ArrowException too: the worker says it ran out
        raise
    except (pa.ArrowException, OSError, ValueError) as error:
        raise unreadable(key, "Parquet", error) from error
    if batch is None:
        return parquet.schema_arrow.empty_table().to_pandas()
    return batch.to_pandas()


def _cut(frame: pd.DataFrame) -> pd.DataFrame:
    """Text and bytes longer than a cell shows are cut, in the header too."""
    frame.columns = [_cut_value(name) for name in frame.columns]
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if pd.api.types.is_string_dtype(column.dtype):  # object columns too
            frame.isetitem(position, column.map(_cut_value))
    return frame


def _cut_value(value: Any) -> Any:
    if isinstance(value, str | bytes) and len(value) > MAX_PREVIEW_CELL_CHARS:
        return value[:MAX_PREVIEW_CELL_CHARS] + ("…" if isinstance(value, str) else b"...")
    return value


def _warm() -> None:
    """A tiny file of each kind parsed once, where this module is imported: in the fork server, what pandas, pyarrow
    and openpyxl import and build at their first use is then done once, not again in every worker (40 ms a preview)."""
    workbook, table = io.BytesIO(), io.BytesIO()
    book = openpyxl.Workbook(write_only=True)
    book.create_sheet().append(["a"])
    book.save(workbook)
    pq.write_table(pa.table({"a": [1]}), table)
    for kind, sample in (("CSV", b"a\n1\n"), ("JSON lines", b'{"a": 1}\n'), ("Excel", workbook), ("Parquet", table)):
        parse("warm-up", kind, 1, io.BytesIO(sample) if isinstance(sample, bytes) else sample)


_warm()
