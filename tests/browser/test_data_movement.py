"""Data movement in Chromium: alice completes a form, uploads a CSV into her writable source, finds it in Browse,
previews it, and downloads it after a second form. Screenshots in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from core.adapters.models import AuditEvent
from core.config import Settings
from core.startup import start
from tests.browser.conftest import download
from tests.browser.test_access_stories import open_page, shot, signed_in
from tests.browser.test_browse_in_chromium import browse, in_table, open_row

pytestmark = pytest.mark.browser
CSV = "month,region,orders\n2025-01,North,12\n2025-02,South,7\n"


def complete_form(page, scope) -> None:  # type: ignore[no-untyped-def]
    scope.get_by_role("textbox", name="What the data is").fill("Monthly orders by region, aggregated.")
    scope.get_by_role("textbox", name="Where it comes from").fill("The sales team's reporting system")
    scope.get_by_role("textbox", name="Purpose of the move").fill("Analyse regional trends for the pricing review.")
    scope.get_by_role("textbox", name="How long it will be kept").fill("Two years")
    scope.get_by_text("I declare that the information governance procedures").click()
    scope.get_by_role("button", name="Complete the form").click()
    page.get_by_text("is complete.").first.wait_for()


def test_alice_uploads_browses_previews_and_downloads(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "orders.csv"
    data.write_text(CSV)
    alice = signed_in(browser, app_url, "alice")
    open_page(alice, "Upload")
    assert alice.locator("input[type=file]").count() == 0  # no file before the form
    alice.get_by_role("textbox", name="Folder").fill("../etc")  # refused as typed: no form, no file picker
    alice.get_by_role("textbox", name="Folder").press("Enter")
    alice.get_by_text("The folder must not contain . or .. as a folder name.").first.wait_for()
    assert alice.get_by_text("What the data is").count() == 0
    shot(alice, "movement-0-folder-refused-as-typed")
    alice.get_by_role("textbox", name="Folder").fill("notes")
    alice.get_by_role("textbox", name="Folder").press("Enter")
    complete_form(alice, alice)
    alice.locator("input[type=file]").set_input_files(str(data))
    alice.get_by_role("button", name="Upload", exact=True).click()
    alice.get_by_text("Uploaded notes/orders.csv to alpha-shared-workspace").first.wait_for()
    shot(alice, "movement-1-uploaded")

    browse(alice, "alpha-shared-workspace")
    open_row(alice, "notes/", in_table(alice, "orders.csv"))
    open_row(alice, "orders.csv", alice.get_by_role("tab", name="Preview"))
    alice.get_by_role("button", name="Preview the first rows").click()
    table = alice.get_by_role("tabpanel", name="Preview").locator('[data-testid="stDataFrame"]')
    table.first.wait_for()
    table.hover()  # the table's toolbar shows on hover: search and full screen, but no way to take the rows away
    alice.get_by_role("button", name="Search").first.wait_for()
    assert alice.get_by_role("button", name="Download as CSV").count() == 0
    shot(alice, "movement-2-preview")
    assert actions(tmp_path, moto_reset).count("data-previewed") == 1

    alice.get_by_role("tab", name="Download").click()
    complete_form(alice, alice.get_by_role("tabpanel", name="Download"))
    alice.get_by_role("button", name="Save orders.csv").first.wait_for()
    alice.get_by_role("tab", name="Preview").click()  # the page reruns, the form stays complete: nothing is read
    alice.get_by_role("tab", name="Download").click()
    assert actions(tmp_path, moto_reset).count("data-downloaded") == 0  # nothing has left yet
    saved = tmp_path / "downloaded.csv"
    download(alice, alice.get_by_role("button", name="Save orders.csv")).save_as(saved)
    assert saved.read_text() == CSV
    shot(alice, "movement-3-downloaded")
    assert actions(tmp_path, moto_reset).count("data-downloaded") == 1  # one download, one event


def actions(data_dir: Path, moto_endpoint: str) -> list[str]:
    """The audit trail's actions, read from the app's own database."""
    gatehouse = start(Settings(data_dir=data_dir, local_aws_port=int(moto_endpoint.rsplit(":", 1)[1])))
    try:
        with gatehouse.session() as session:
            return list(session.exec(select(AuditEvent.action)))
    finally:
        gatehouse.engine.dispose()
