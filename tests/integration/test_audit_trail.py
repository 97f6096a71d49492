"""Reading the audit trail on both databases: who sees which events, the filters, paging and streamed exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, func, select

from core import audit
from core.actor import platform_operator
from core.adapters.models import AuditEvent, DataSource
from core.context import Gatehouse
from core.domain import InvalidInput, NotAllowed, NotFound
from core.queries import get_user
from core.reads import audit_trail
from core.reads.audit_trail import AuditFilter, AuditRow
from core.reads.page import Page

SALES, PRICING, SHARED, HIDDEN = (
    "alpha-sales-analysis",
    "alpha-pricing-models",
    "alpha-shared-workspace",
    "alpha-de-raw-intake",
)

# (at, actor, action, source, subject, summary, details): days in the past, so the demo's own events (made at
# start, now) fall outside them. Bob administers sales and pricing; carol shared; dave the hidden source.
pytestmark = pytest.mark.both_databases  # its filters compare dates and search text in SQL


EVENTS = (
    (datetime(2024, 3, 1, 9, tzinfo=UTC), "alice", "access-requested", SALES, "alice",
     "alice asked for read-only on 100 files", {"level": "read-only"}),
    (datetime(2024, 3, 1, 10, tzinfo=UTC), "bob", "request-approved", SALES, "alice",
     "bob approved Alice's request", {"before": {"level": None}, "after": {"level": "read-only"}}),
    (datetime(2024, 3, 2, 23, 59, 59, 999999, tzinfo=UTC), "bob", "grant-edited", PRICING, "carol",
     "bob gave carol 100% of the paths", {"paths": ["/a", "/b"]}),
    (datetime(2024, 3, 3, tzinfo=UTC), "carol", "grant-revoked", SHARED, "bob",
     "carol revoked bob's access", {}),
    (datetime(2024, 3, 3, 12, tzinfo=UTC), "dave", "grant-added", HIDDEN, "alice",
     "dave granted alice read-only", {"level": "read-only"}),
    (datetime(2024, 3, 3, 13, tzinfo=UTC), "cli:ops", "user-added", None, "erin",
     'cli:ops added erin, "the contractor"\non a second line: é', {"external": True}),
)  # fmt: skip


@pytest.fixture
def trail(gatehouse: Gatehouse) -> Gatehouse:
    with gatehouse.session() as session:
        ids = _source_ids(session)
        for at, actor, action, source, subject, summary, details in EVENTS:
            _record(session, at, actor, action, ids[source] if source else None, subject, summary, **details)
    return gatehouse


def _source_ids(session: Session) -> dict[str, int]:
    return {name: id_ for name, id_ in session.exec(select(DataSource.name, DataSource.id)) if id_ is not None}


def _record(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    source_id: int | None,
    subject: str | None,
    summary: str,
    **details: Any,
) -> None:
    event = audit.record(session, actor, action, summary, source_id=source_id, subject=subject, **details)
    event.at = at  # set before the insert: the trail itself is never updated


def _search(gatehouse: Gatehouse, username: str, **filters: Any) -> Page[AuditRow]:
    with gatehouse.session() as session:
        actor = get_user(session, username)
        return audit_trail.search(session, actor, AuditFilter(**filters), limit=500)


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, bool]]]:
    """The SQL run against the audit trail meanwhile, each with whether its rows were asked to be streamed."""
    seen: list[tuple[str, bool]] = []

    def spy(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if "audit_events" in statement:
            seen.append((statement, bool(context.execution_options.get("stream_results"))))

    event.listen(engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", spy)


def _summaries(page: Page[AuditRow]) -> set[str]:
    return {row.summary for row in page.items}


def _mine(*indexes: int) -> set[str]:
    return {EVENTS[i][5] for i in indexes}


def test_the_platform_team_sees_every_event_newest_first(trail: Gatehouse) -> None:
    with trail.session() as session:
        everything = session.exec(select(func.count()).select_from(AuditEvent)).one()
        by_operator = audit_trail.search(session, platform_operator("ops"), limit=500)
        names = audit_trail.actions(session)
    with _statements(trail.engine) as statements:
        page = _search(trail, "dave")
    assert len(statements) == 2  # the count and the page, whatever the number of rows: no query a row
    assert page.total == len(page.items) == everything == by_operator.total
    assert _mine(0, 1, 2, 3, 4, 5) <= _summaries(page)
    assert [row.at for row in page.items] == sorted((row.at for row in page.items), reverse=True)
    assert all(row.at.tzinfo is not None for row in page.items)
    hidden = next(row for row in page.items if row.action == "grant-added")
    assert (hidden.source, hidden.subject, hidden.details) == (HIDDEN, "alice", {"level": "read-only"})
    assert names == sorted(set(names)) and {"demo-seeded", "grant-edited", "user-added"} <= set(names)


def test_a_source_admin_sees_only_the_events_of_the_sources_they_administer(trail: Gatehouse) -> None:
    page = _search(trail, "bob")
    assert _summaries(page) == _mine(0, 1, 2) and page.total == 3
    assert {row.source for row in page.items} == {SALES, PRICING}
    assert _summaries(_search(trail, "bob", source=SALES)) == _mine(0, 1)
    with pytest.raises(NotAllowed, match=f"admins of {SHARED} can see its audit trail"):
        _search(trail, "bob", source=SHARED)  # he may read it, but does not administer it
    with pytest.raises(NotFound, match=HIDDEN):
        _search(trail, "bob", source=HIDDEN)  # hidden from standard users: not even its name is confirmed
    with trail.session() as session:
        bob = get_user(session, "bob")
        with pytest.raises(NotAllowed):
            audit_trail.export(session, bob, "csv", AuditFilter(source=SHARED))  # refused at the call
        lines = list(audit_trail.export(session, bob, "jsonl"))
    assert {json.loads(line)["summary"] for line in lines} == _mine(0, 1, 2)


def test_someone_who_administers_nothing_sees_nothing(trail: Gatehouse) -> None:
    for username in ("alice", "erin"):  # erin administered a source, but has left
        with pytest.raises(NotAllowed, match="Only the platform team and the admins of a data source"):
            _search(trail, username)
        with pytest.raises(NotAllowed, match=f"admins of {SALES}"):
            _search(trail, username, source=SALES)
    with trail.session() as session, pytest.raises(NotAllowed):
        audit_trail.export(session, get_user(session, "alice"), "jsonl")


def test_each_filter_narrows_the_trail(trail: Gatehouse) -> None:
    plus_one_hour = timezone(timedelta(hours=1))
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"since": date(2024, 3, 2), "until": date(2024, 3, 2)}, _mine(2)),  # a day ends at its last microsecond
        ({"since": date(2024, 3, 1), "until": date(2024, 3, 1)}, _mine(0, 1)),
        ({"until": date(2024, 3, 2)}, _mine(0, 1, 2)),
        ({"since": datetime(2024, 3, 1, 10, tzinfo=UTC), "until": datetime(2024, 3, 3, tzinfo=UTC)}, _mine(1, 2, 3)),
        ({"since": datetime(2024, 3, 3, 13, tzinfo=plus_one_hour), "until": date(2024, 3, 3)}, _mine(4, 5)),
        ({"since": datetime(2024, 3, 3, 13), "until": date(2024, 3, 3)}, _mine(5)),  # naive: taken as UTC
        ({"actor": "bob"}, _mine(1, 2)),
        ({"action": "grant-revoked"}, _mine(3)),
        ({"source": PRICING}, _mine(2)),
        ({"source": HIDDEN}, _mine(4)),
        ({"subject": "alice", "until": date(2024, 3, 3)}, _mine(0, 1, 4)),
        ({"text": "ALICE'S"}, _mine(1)),
        ({"text": "100%"}, _mine(2)),  # the % is looked for, not a wildcard ("100 files" stays out)
        ({"actor": "bob", "subject": "carol"}, _mine(2)),
        ({"actor": "  ", "text": "", "until": date(2024, 3, 3)}, _mine(0, 1, 2, 3, 4, 5)),  # blank means no filter
        ({"actor": "nobody"}, set()),
    ]
    for filters, expected in cases:
        page = _search(trail, "dave", **filters)
        assert _summaries(page) == expected and page.total == len(expected), filters
    with pytest.raises(InvalidInput, match=r"The period starts \(2 Mar 2024 00:00 UTC\) after it ends"):
        _search(trail, "dave", since=date(2024, 3, 2), until=date(2024, 3, 1))
    with pytest.raises(NotFound):
        _search(trail, "dave", source="alpha-no-such-source")


def test_paging_is_stable_even_among_events_of_the_same_instant(trail: Gatehouse) -> None:
    same_instant = datetime(2024, 3, 2, 8, tzinfo=UTC)
    with trail.session() as session:
        pricing = _source_ids(session)[PRICING]
        for number in range(23):
            _record(session, same_instant, "bob", "grant-edited", pricing, "carol", f"tie {number}")
    for username in ("dave", "bob"):
        whole = _search(trail, username)
        pages = [_page(trail, username, offset, 7) for offset in range(0, whole.total + 7, 7)]
        seen = [row for page in pages for row in page.items]
        assert seen == whole.items  # no overlap, nothing skipped, and the same order every time
        assert {page.total for page in pages} == {whole.total}
        assert pages[-1].items == [] and all(0 < len(page.items) <= 7 for page in pages[:-1])
    assert _search(trail, "bob").total == 3 + 23
    with pytest.raises(InvalidInput):
        _page(trail, "dave", -1, 7)


def _page(gatehouse: Gatehouse, username: str, offset: int, limit: int) -> Page[AuditRow]:
    with gatehouse.session() as session:
        return audit_trail.search(session, get_user(session, username), offset=offset, limit=limit)


def test_exports_read_back_to_the_searched_rows_oldest_first(trail: Gatehouse) -> None:
    expected = list(reversed(_search(trail, "dave").items))
    with trail.session() as session:
        dave = get_user(session, "dave")
        csv_text = "".join(audit_trail.export(session, dave, "csv"))
    with trail.session() as session:  # the first export is on record now: the second one shows it, last
        jsonl = list(audit_trail.export(session, dave, "jsonl"))
        with pytest.raises(InvalidInput):
            audit_trail.export(session, dave, "xlsx")  # type: ignore[arg-type]
    records = list(csv.DictReader(io.StringIO(csv_text, newline="")))
    assert list(records[0]) == ["at", "actor", "action", "source", "subject", "summary", "details"]
    assert [_from_csv(record) for record in records] == expected
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in jsonl)
    *before, exported = [_from_json(json.loads(line)) for line in jsonl]
    assert before == expected
    assert (exported.actor, exported.action, exported.summary) == (
        "dave",
        "audit-exported",
        "dave exported the audit trail as csv",
    )


def test_a_csv_export_opens_formulas_as_text_and_jsonl_keeps_them(gatehouse: Gatehouse) -> None:
    # what a spreadsheet would run if the platform team opened the export: every cell starting with a formula sign
    formulas = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
    with gatehouse.session() as session:
        for number, summary in enumerate(formulas):
            _record(session, datetime(2024, 5, 1, number, tzinfo=UTC), "dave", "formula-test", None, None, summary)
        _record(session, datetime(2024, 5, 2, tzinfo=UTC), "dave", "formula-test", None, None, "dave did 1+1=2")
        session.commit()
    with gatehouse.session() as session:
        dave = get_user(session, "dave")
        only = AuditFilter(action="formula-test")
        records = list(csv.DictReader(io.StringIO("".join(audit_trail.export(session, dave, "csv", only)), newline="")))
        jsonl = [json.loads(line) for line in audit_trail.export(session, dave, "jsonl", only)]
    assert [record["summary"] for record in records] == [*(f"'{f}" for f in formulas), "dave did 1+1=2"]
    assert {record["action"] for record in records} == {"formula-test"}  # a plain cell is left as it is
    assert [record["summary"] for record in jsonl] == [*formulas, "dave did 1+1=2"]


def _from_csv(record: dict[str, str]) -> AuditRow:
    return AuditRow(
        at=datetime.fromisoformat(record["at"]),
        actor=record["actor"],
        action=record["action"],
        source=record["source"] or None,
        subject=record["subject"] or None,
        summary=record["summary"],
        details=json.loads(record["details"]),
    )


def _from_json(record: dict[str, Any]) -> AuditRow:
    return AuditRow(**{**record, "at": datetime.fromisoformat(record["at"])})


def test_an_export_of_five_thousand_events_streams(gatehouse: Gatehouse) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with gatehouse.session() as session:
        sales = _source_ids(session)[SALES]
        for number in range(5000):
            _record(
                session,
                start + timedelta(seconds=number),
                "bob",
                "object-read",
                sales,
                "alice",
                f"alice read object {number}",
                key=f"data/{number}.csv",
            )
    with _statements(gatehouse.engine) as statements, gatehouse.session() as session:  # its commit too
        lines = audit_trail.export(session, get_user(session, "bob"), "csv", AuditFilter(action="object-read"))
        assert isinstance(lines, Iterator)
        assert next(lines).startswith("at,actor,action")
        assert next(lines).startswith("2024-01-01T00:00:00.000000+00:00,bob,object-read,alpha-sales-analysis,alice")
        rest = sum(1 for _ in lines)
    assert rest == 4999
    reads = [streamed for sql, streamed in statements if sql.lstrip().upper().startswith("SELECT") and "summary" in sql]
    assert reads == [True]  # the events fetched in batches, never all at once
    assert [sql.split()[0].upper() for sql, _ in statements].count("INSERT") == 1  # the export's own record, at the end
    with gatehouse.session() as session:
        assert next(audit_trail.export(session, get_user(session, "dave"), "jsonl")).startswith('{"at":')
