"""Browse in Chromium: alice goes from My data to Browse, opens a folder and a file by clicking their rows, reads
the file's first rows in its panel, and climbs back to the bucket's root by the breadcrumb, where a file opens just
the same. The page stays short: a file's preview, code, download and versions are tabs of one panel. Screenshots in
test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings
from core.startup import start
from tests.browser.conftest import click_row, settled
from tests.browser.test_access_stories import choose, open_page, shot, signed_in

pytestmark = pytest.mark.browser
WORKSPACE = "alpha-shared-workspace"  # alice: read/write; holds notes/regions.csv


def folder_table(page):  # type: ignore[no-untyped-def]
    """The folder's table: the first data grid on Browse (a preview's comes after it)."""
    return page.locator('[data-testid="stDataFrame"]').first


def in_table(page, name: str):  # type: ignore[no-untyped-def]
    """A row's text in the grid's accessible table (its cells are drawn on a canvas)."""
    return folder_table(page).get_by_text(name, exact=True)


def open_row(page, name: str, then) -> None:  # type: ignore[no-untyped-def]
    """Click the row of this name (a folder ends with /), once the page is still, and wait for what it opens."""
    settled(page)
    table = folder_table(page)
    row = table.locator("tr", has=page.get_by_text(name, exact=True)).first
    row.first.wait_for(state="attached")
    click_row(page, table, int(row.get_attribute("aria-rowindex") or 0) - 2)  # the header's row is the first
    then.first.wait_for(state="attached")
    settled(page)


def main_height(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"))


def browse(page, source: str) -> None:  # type: ignore[no-untyped-def]
    """Browse, with the source chosen and its root's table drawn."""
    open_page(page, "Browse")
    choose(page, 0, source)
    folder_table(page).first.wait_for()
    settled(page)


def test_alice_opens_a_folder_and_a_file_by_clicking_their_rows(  # type: ignore[no-untyped-def]
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:
    gatehouse = start(Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    try:
        gatehouse.aws.put_object(WORKSPACE, "top.csv", b"item,price\napple,1\n")  # a file at the bucket's root
    finally:
        gatehouse.engine.dispose()

    alice = signed_in(browser, app_url, "alice")
    alice.get_by_role("link", name="Open their folders and files").click()  # My data leads to Browse
    alice.get_by_role("heading", name="Browse").first.wait_for()
    settled(alice)
    choose(alice, 0, WORKSPACE)
    in_table(alice, "top.csv").first.wait_for(state="attached")
    assert in_table(alice, "notes/").count() == 1
    assert alice.get_by_role("combobox").count() == 1  # the source; no dropdown of the folder's files
    shot(alice, "browse-1-alice-at-the-root")

    open_row(alice, "notes/", in_table(alice, "regions.csv"))
    assert in_table(alice, "top.csv").count() == 0
    crumbs = alice.get_by_role("radiogroup", name="Folder")  # the breadcrumb, one line: the bucket, then notes
    assert crumbs.get_by_role("radio").all_inner_texts() == [WORKSPACE, "notes"]
    assert crumbs.get_by_role("radio", name="notes", checked=True).count() == 1  # where she is
    shot(alice, "browse-2-alice-opened-a-folder")

    open_row(alice, "regions.csv", alice.get_by_role("tab", name="Preview"))
    assert [alice.get_by_role("tab").nth(i).inner_text() for i in range(5)] == [
        "Preview",
        "Code",
        "Download",
        "Copy or move",
        "Versions",
    ]
    alice.get_by_role("button", name="Preview the first rows").click()
    alice.locator('[data-testid="stDataFrame"]').nth(1).first.wait_for()
    settled(alice)
    assert main_height(alice) < 1_800  # one panel of tabs, not a stack of forms (2,900 px on My data before)
    shot(alice, "browse-3-alice-opened-a-file")

    crumbs.get_by_role("radio", name=WORKSPACE).click()  # back up by the breadcrumb
    in_table(alice, "top.csv").first.wait_for(state="attached")
    open_row(alice, "top.csv", alice.get_by_text("top.csv · 19 bytes", exact=False))  # a file at the root opens too
    alice.get_by_role("tab", name="Code").click()
    alice.locator('[data-testid="stCode"]').filter(has_text="top.csv").first.wait_for()  # code that reads it
    assert "Traceback" not in alice.inner_text("body")
    shot(alice, "browse-4-alice-opened-a-file-at-the-root")
