"""History in Chromium: alice overwrote a file by mistake, finds its earlier version under Versions on Browse, and
restores it after a restore form; the file is as it was, and nothing was lost (a new version)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from core import actions
from core.adapters.models import MovementKind
from core.config import Settings
from core.queries import get_user
from core.startup import start
from tests.browser.conftest import settled, tries
from tests.browser.test_access_stories import choose, open_page, shot, signed_in
from tests.browser.test_data_movement import complete_form
from tests.integration.test_movement import form

pytestmark = pytest.mark.browser

WORKSPACE, KEY = "alpha-shared-workspace", "history/prices.csv"
FIRST, SECOND = b"item,price\napple,1\n", b"item,price\napple,999\n"


def test_alice_restores_the_version_she_overwrote(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gatehouse = start(Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    try:
        with gatehouse.session() as session:
            alice_row = get_user(session, "alice")
        for body, overwrite in ((FIRST, False), (SECOND, True)):
            form_id = actions.record_movement(gatehouse, alice_row, MovementKind.UPLOAD, form(), WORKSPACE)
            actions.upload(gatehouse, alice_row, form_id, WORKSPACE, KEY, io.BytesIO(body), len(body), overwrite)
    finally:
        gatehouse.engine.dispose()

    alice = signed_in(browser, app_url, "alice")
    open_page(alice, "My data")
    choose(alice, 0, WORKSPACE)
    for attempt, wait in enumerate(tries(3)):  # a click while the source's first run still draws can be swallowed
        settled(alice)
        alice.get_by_role("button", name="history").first.click()
        try:
            alice.get_by_text("prices.csv", exact=True).first.wait_for(timeout=wait)
            break
        except Exception:
            if attempt == 2:
                raise
    choose(alice, 1, KEY)
    alice.get_by_role("tab", name="Versions").click()
    panel = alice.get_by_role("tabpanel", name="Versions")
    panel.get_by_role("button", name="Show earlier versions").click()
    panel.get_by_text("Written by").first.wait_for()
    body = alice.inner_text("body")
    assert f"{len(SECOND)} bytes" in body and f"{len(FIRST)} bytes" in body and "current" in body
    assert body.count("alice (form ") == 2  # both written through Gatehouse, each under its own form
    shot(alice, "versions-1-alice-sees-the-history")
    panel.get_by_text("Restore it").click()
    panel.get_by_role("textbox", name="What the data is").first.wait_for()
    settled(alice)  # the form is drawn by the rerun the choice made: fill it once that run is over
    complete_form(alice, panel)
    settled(alice)
    panel.get_by_role("button", name="Restore this version").click()
    alice.get_by_text(f"Restored {KEY}").first.wait_for()
    settled(alice)
    assert alice.inner_text("body").count(f"{len(FIRST)} bytes") >= 2  # the restored version is current, on top
    shot(alice, "versions-2-alice-restored-it")
    assert "Traceback" not in alice.inner_text("body")

    again = start(Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    try:
        assert again.aws.open_object(WORKSPACE, KEY).read() == FIRST
        assert len(again.aws.versions(WORKSPACE, KEY, 10)) == 3  # nothing lost: the restore is a new version
    finally:
        again.engine.dispose()
