"""A joiner added in password mode (issue #25) opens their one-time link in Chromium, against `streamlit run app.py`:
the sign-in page shows "Choose your password", refuses a short one in one sentence, sets theirs and signs them in;
the link then works no more, and the new password signs them in from another browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import actions
from core.actions.sign_in_link import LINK_UNKNOWN
from core.actor import platform_operator
from core.config import Settings
from core.startup import start
from tests.browser.conftest import settled, sign_in_with_password
from tests.browser.test_access_stories import shot

pytestmark = pytest.mark.browser
PASSWORD = "frank's own long password"


def joiner_link(tmp_path: Path, moto_reset: str, app_url: str) -> str:
    """frank added as the platform team adds him (the CLI's core action), on the app's own database."""
    gatehouse = start(
        Settings(_env_file=None, data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1]), app_url=app_url)
    )
    try:
        link = actions.add_user(gatehouse, platform_operator("ops"), "frank", "frank@example.org").sign_in_link
    finally:
        gatehouse.engine.dispose()
    assert link is not None and link.url.startswith(app_url)
    return link.url


def test_a_joiner_chooses_their_password_with_the_link_and_is_signed_in(  # type: ignore[no-untyped-def]
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:
    url = joiner_link(tmp_path, moto_reset, app_url)
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(url)
    page.get_by_role("heading", name="Choose your password").first.wait_for()
    settled(page)
    page.get_by_role("textbox", name="New password").fill("too short")
    page.get_by_role("textbox", name="The same password again").fill("too short")
    page.get_by_role("button", name="Set my password").click()
    page.get_by_text("The password needs at least 12 characters.").first.wait_for()
    shot(page, "sign-in-link-1-choose-password")
    page.get_by_role("textbox", name="New password").fill(PASSWORD)
    page.get_by_role("textbox", name="The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    page.get_by_role("heading", name="My data").first.wait_for()
    settled(page)
    assert "Signed in as frank" in page.inner_text("body")
    assert "set-password" not in page.url  # used up: a reload is the app, not a refusal
    shot(page, "sign-in-link-2-signed-in")

    again = browser.new_context().new_page()
    again.goto(url)
    again.get_by_text(LINK_UNKNOWN).first.wait_for()
    assert again.get_by_role("button", name="Set my password").count() == 0

    fresh = browser.new_context().new_page()
    sign_in_with_password(fresh, app_url, "frank", PASSWORD)
    assert "Signed in as frank" in fresh.inner_text("body")
