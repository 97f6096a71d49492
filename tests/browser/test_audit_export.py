"""The platform team's audit trail export in Chromium: one click on Download CSV gives the events that match the
filters on the page, made at that click (nothing is prepared or kept beforehand)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from core import audit
from core.config import Settings
from core.startup import start
from tests.browser.conftest import download
from tests.browser.test_access_stories import open_page, settled, shot, signed_in

pytestmark = pytest.mark.browser


def test_dave_downloads_the_filtered_audit_trail_as_csv(app_url: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    dave.get_by_role("tab", name="Audit trail").click()
    actor = dave.get_by_role("textbox", name="Actor")
    actor.fill("dave")
    actor.press("Enter")
    settled(dave)
    dave.get_by_text("Show sign-ins").click()  # dave's own events here are his sign-ins, left out until asked for
    dave.get_by_text(re.compile(r"^\d+ events?, newest first")).first.wait_for()  # 1 event when his sign-in is alone
    file = download(dave, dave.get_by_role("button", name="Download CSV"))
    assert file.suggested_filename == "gatehouse-audit.csv"
    saved = tmp_path / "audit.csv"
    file.save_as(saved)
    with saved.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert rows, "the export is empty"
    assert {row["actor"] for row in rows} == {"dave"}  # the filter on the page applies to the file
    assert any(row["action"] == "sign-in" and row["summary"] == "dave signed in" for row in rows)
    assert [row["at"] for row in rows] == sorted(row["at"] for row in rows)  # oldest first
    shot(dave, "audit-export")


def test_a_long_summary_wraps_in_its_row_not_cut(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The Summary column once cut what did not fit: a long summary now wraps over its row's lines."""
    gatehouse = start(Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    long = "alice uploaded " + "/".join(["quarterly-reports"] * 6) + "/summary.csv in alpha-shared-workspace"
    with gatehouse.session() as session:
        audit.record(session, "alice", "data-uploaded", long)
    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    dave.get_by_role("tab", name="Audit trail").click()
    dave.get_by_text(long).first.wait_for(state="attached")  # the grid's cell, as assistive technology reads it
    shot(dave, "audit-trail-long-summary-wraps")
