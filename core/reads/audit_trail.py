"""Reading the append-only audit trail: searched, paged and exported in the database, never loaded whole.

The platform team sees every event; the active admins of a source see that source's events. All times are UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import ColumnElement, exists, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from core import audit
from core.actor import acting
from core.adapters.models import AuditEvent, DataSource, User
from core.csv_export import csv_records
from core.domain import InvalidInput, NotAllowed, moment
from core.queries import administered_by, get_source, is_active_admin
from core.reads.page import Page
from core.rules import check_manages_source, check_platform_admin

MAX_PAGE = 500
EXPORT_BATCH = 1000  # rows fetched per round trip while exporting: memory stays flat however long the trail
EXPORT_FIELDS = ("at", "actor", "action", "source", "subject", "summary", "details")
ExportFormat = Literal["csv", "jsonl"]


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; empty text means no filter. A `date` means the whole UTC day, a naive `datetime` is UTC."""

    since: datetime | date | None = None
    until: datetime | date | None = None
    actor: str | None = None
    action: str | None = None
    source: str | None = None  # a source name
    subject: str | None = None
    text: str | None = None  # found anywhere in the summary, whatever its case
    sign_ins: bool = True  # routine sign-ins and sign-outs; a page hides them until asked (they are most events)


ROUTINE = ("sign-in", "sign-out")  # what a person does every day: most of the trail, seldom what is looked for


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    source: str | None
    subject: str | None
    summary: str
    details: dict[str, Any]

    def exported(self) -> dict[str, Any]:
        """The row in the words of an export: the time as ISO-8601 UTC, everything else as stored."""
        return {
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor,
            "action": self.action,
            "source": self.source,
            "subject": self.subject,
            "summary": self.summary,
            "details": self.details,
        }


def search(
    session: Session, actor: User, filters: AuditFilter = AuditFilter(), offset: int = 0, limit: int = 50
) -> Page[AuditRow]:
    """One page of the events the actor may see, newest first, with the number of all that match."""
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"A page starts at 0 or later and holds 1 to {MAX_PAGE} events.")
    conditions = _conditions(session, actor, filters)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    # The id breaks ties between events of the same instant, so pages never overlap or skip.
    query = _rows(conditions).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    rows = session.exec(query.offset(offset).limit(limit)).all()
    return Page(items=[AuditRow(*row) for row in rows], total=total, offset=offset, limit=limit)


def actions(session: Session) -> list[str]:
    """The action names in the trail, for a filter's choices."""
    return list(session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all())


def export(session: Session, actor: User, fmt: ExportFormat, filters: AuditFilter = AuditFilter()) -> Iterator[str]:
    """The matching events, oldest first, as CSV records or JSON lines, streamed while the session stays open.

    Who may export what is decided now, so a refusal is raised by this call rather than by the first read.
    """
    if fmt not in ("csv", "jsonl"):
        raise InvalidInput(f"An export is either csv or jsonl, not {fmt}.")
    # An export is made at a click, long after the page read its actor: who may, is who they are now.
    actor = acting(session, actor)
    conditions = _conditions(session, actor, filters)
    query = _rows(conditions).order_by(col(AuditEvent.at), col(AuditEvent.id))
    lines = _csv_lines(_stream(session, query)) if fmt == "csv" else _jsonl_lines(_stream(session, query))
    return _then_recorded(session, actor, fmt, filters, lines)


def _then_recorded(
    session: Session, actor: User, fmt: ExportFormat, filters: AuditFilter, lines: Iterator[str]
) -> Iterator[str]:
    """The export's lines, then its own event: committed with the session that streamed it, the trail says who took
    it. Recorded last, because adding to the trail holds its hash chain until the commit (core/audit.py): not for
    as long as an export takes."""
    yield from lines
    audit.record(
        session,
        actor.username,
        "audit-exported",
        f"{actor.username} exported the audit trail as {fmt}",
        filters={k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(filters).items() if v},
    )


# --- who sees what, and the filters ---------------------------------------------------------------------


def _conditions(session: Session, actor: User, filters: AuditFilter) -> list[ColumnElement[bool]]:
    conditions = _visible_to(session, actor, filters)
    since, until = _period(filters)
    if since is not None:
        conditions.append(col(AuditEvent.at) >= since)
    if until is not None:
        conditions.append(col(AuditEvent.at) <= until)
    for column, value in (
        (AuditEvent.actor, filters.actor),
        (AuditEvent.action, filters.action),
        (AuditEvent.subject, filters.subject),
    ):
        if (wanted := _given(value)) is not None:  # names are stored in lower case: `Bob` finds bob's events
            conditions.append(col(column) == (wanted.lower() if column is not AuditEvent.action else wanted))
    if not filters.sign_ins and filters.action not in ROUTINE:
        conditions.append(col(AuditEvent.action).not_in(ROUTINE))
    if text := _given(filters.text):
        # autoescape: a % or _ typed into the search box is looked for, not taken as a wildcard.
        conditions.append(col(AuditEvent.summary).icontains(text, autoescape=True))
    return conditions


def _visible_to(session: Session, actor: User, filters: AuditFilter) -> list[ColumnElement[bool]]:
    """The events the actor may read, narrowed to the one source they asked about, if any."""
    conditions: list[ColumnElement[bool]] = []
    if name := _given(filters.source):
        source = get_source(session, actor, name)
        admin = is_active_admin(session, actor, source)
        if not check_manages_source(actor, source.name, admin_of_it=admin).allowed:
            raise NotAllowed(f"Only the platform team and the admins of {source.name} can see its audit trail.")
        conditions.append(col(AuditEvent.source_id) == source.id)
    if check_platform_admin(actor).allowed:
        return conditions
    # Checked in the database, not on the actor object: someone marked as left since signing in sees nothing.
    administered = administered_by(actor.id or 0)
    if not session.exec(select(exists(administered))).one():
        raise NotAllowed("Only the platform team and the admins of a data source can see the audit trail.")
    conditions.append(col(AuditEvent.source_id).in_(administered))
    return conditions


def _period(filters: AuditFilter) -> tuple[datetime | None, datetime | None]:
    since = _moment(filters.since, time.min) if filters.since is not None else None
    until = _moment(filters.until, time.max) if filters.until is not None else None
    if since is not None and until is not None and since > until:
        raise InvalidInput(
            f"The period starts ({moment(since)}) after it ends ({moment(until)}): choose a start before the end."
        )
    return since, until


def _moment(value: datetime | date, time_of_day: time) -> datetime:
    """A date is a whole UTC day (time.max ends it: both databases keep microseconds, so nothing falls between)."""
    if isinstance(value, datetime):  # checked first: a datetime is also a date
        return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
    return datetime.combine(value, time_of_day, tzinfo=UTC)


def _given(value: str | None) -> str | None:
    """An empty text box means no filter, not "events whose actor is blank"."""
    return value.strip() if value is not None and value.strip() else None


def _rows(conditions: list[ColumnElement[bool]]) -> Select[Any]:
    """The columns of an AuditRow, in its order, with the source's name from one outer join (no query a row)."""
    return (
        select(
            AuditEvent.at,
            AuditEvent.actor,
            AuditEvent.action,
            DataSource.name,
            AuditEvent.subject,
            AuditEvent.summary,
            AuditEvent.details,
        )
        .outerjoin(DataSource, col(DataSource.id) == AuditEvent.source_id)
        .where(*conditions)
    )


# --- export ---------------------------------------------------------------------------------------------


def _stream(session: Session, query: Select[Any]) -> Iterator[AuditRow]:
    """Runs the query at the first read; yield_per fetches in batches (a server-side cursor on PostgreSQL)."""
    for row in session.exec(query.execution_options(yield_per=EXPORT_BATCH)):
        yield AuditRow(*row)


def _csv_lines(rows: Iterable[AuditRow]) -> Iterator[str]:
    """CSV records through the one writer (core/csv_export.py); the details as compact JSON in one cell."""
    records = (row.exported() for row in rows)
    return csv_records(EXPORT_FIELDS, ({**r, "details": _compact_json(r["details"])} for r in records))


def _jsonl_lines(rows: Iterable[AuditRow]) -> Iterator[str]:
    for row in rows:
        yield _compact_json(row.exported()) + "\n"


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
