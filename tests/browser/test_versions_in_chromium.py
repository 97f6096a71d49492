"""History in Chromium: alice overwrote a file by mistake, finds its earlier version under Versions on Browse, and
restores it with no form (nothing enters or leaves the platform); the file is as it was, and nothing was lost (a new
version, credited to her)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from core import actions
from core.adapters.models import MovementKind
from core.config import Settings
from core.queries import get_user
from core.startup import start
from tests.browser.conftest import settled
from tests.browser.test_access_stories import shot, signed_in
from tests.browser.test_browse_in_chromium import browse, in_table, open_row
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
    browse(alice, WORKSPACE)
    open_row(alice, "history/", in_table(alice, "prices.csv"))
    open_row(alice, "prices.csv", alice.get_by_role("tab", name="Versions"))
    alice.get_by_role("tab", name="Versions").click()
    panel = alice.get_by_role("tabpanel", name="Versions")
    panel.get_by_text("Written by").first.wait_for()
    body = alice.inner_text("body")
    assert f"{len(SECOND)} bytes" in body and f"{len(FIRST)} bytes" in body and "current" in body
    assert body.count("alice (form ") == 2  # both written through Gatehouse, each under its own form
    shot(alice, "versions-1-alice-sees-the-history")
    settled(alice)
    panel.get_by_text("Restore it").click()
    panel.get_by_role("button", name="Restore this version").first.wait_for()
    settled(alice)
    assert panel.get_by_role("textbox", name="What the data is").count() == 0  # no data movement form
    shot(alice, "versions-2-alice-restores-with-no-form")
    panel.get_by_role("button", name="Restore this version").click()
    alice.get_by_text(f"Restored {KEY}").first.wait_for()
    settled(alice)
    body = alice.inner_text("body")
    assert body.count(f"{len(FIRST)} bytes") >= 2 and "alice (restored)" in body  # current again, on top, hers
    shot(alice, "versions-3-alice-restored-it")
    assert "Traceback" not in alice.inner_text("body")

    again = start(Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    try:
        assert again.aws.open_object(WORKSPACE, KEY).read() == FIRST
        assert len(again.aws.versions(WORKSPACE, KEY, 10)) == 3  # nothing lost: the restore is a new version
    finally:
        again.engine.dispose()
