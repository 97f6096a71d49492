"""frank, a joiner in password mode, walks issue 25's item 2 in Chromium against one running app, with a screenshot at
each telling moment (test-artifacts/persona-frank-*.png): dave adds him on Platform → Users and is shown his one-time
link, once; frank opens it, is refused a short password in one sentence, chooses his, and is signed in; the link then
works no more, and his password signs him in from another browser."""

from __future__ import annotations

import pytest

from core.actions.sign_in_link import LINK_UNKNOWN
from tests.browser.conftest import settled, sign_in_with_password
from tests.browser.test_access_stories import open_page, shot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]  # one app, many steps
PASSWORD = "frank's own long password"


def test_frank_joins_through_his_sign_in_link(app_url: str, browser, moto_reset: str) -> None:  # type: ignore[no-untyped-def]
    # 01 dave adds frank: told how frank gets in, and shown the link once
    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    dave.get_by_role("tab", name="Users").click()
    settled(dave)
    dave.get_by_role("textbox", name="Username (as on GitHub)").fill("frank")
    dave.get_by_role("textbox", name="Email").first.fill("frank@example.org")
    dave.get_by_role("textbox", name="Line manager's username (optional)").fill("carol")
    dave.get_by_role("button", name="Add", exact=True).click()
    dave.get_by_text("Added frank. frank chooses their password with the one-time link below").first.wait_for()
    shown = dave.locator('[data-testid="stCode"]').first
    shown.first.wait_for()
    link = shown.inner_text().strip()
    assert "/?set-password=" in link, link  # at GATEHOUSE_APP_URL (the default here: this app is on a port of its own)
    settled(dave)
    assert dave.get_by_role("textbox", name="Username (as on GitHub)").input_value() == ""  # a fresh form
    shot(dave, "persona-frank-01-dave-is-shown-the-link")
    dave.get_by_role("tab", name="Audit trail").click()  # shown once: the next run has it no more
    settled(dave)
    assert dave.locator('[data-testid="stCode"]').filter(has_text="set-password").count() == 0
    dave.context.close()

    # 02 frank opens it: a short password is refused in one sentence; his own signs him in
    url = f"{app_url}/?{link.split('?', 1)[1]}"
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(url)
    page.get_by_role("heading", name="Choose your password").first.wait_for()
    settled(page)
    page.get_by_role("textbox", name="New password").fill("too short")
    page.get_by_role("textbox", name="The same password again").fill("too short")
    page.get_by_role("button", name="Set my password").click()
    page.get_by_text("The password needs at least 12 characters.").first.wait_for()
    shot(page, "persona-frank-02-choose-password")
    page.get_by_role("textbox", name="New password").fill(PASSWORD)
    page.get_by_role("textbox", name="The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    page.get_by_role("heading", name="My data").first.wait_for()
    settled(page)
    assert "Signed in as frank" in page.inner_text("body")
    assert "set-password" not in page.url  # used up: a reload is the app, not a refusal
    shot(page, "persona-frank-03-signed-in")

    # 04 The link works once; his password signs him in from another browser
    again = browser.new_context().new_page()
    again.goto(url)
    again.get_by_text(LINK_UNKNOWN).first.wait_for()
    assert again.get_by_role("button", name="Set my password").count() == 0
    shot(again, "persona-frank-04-link-used")
    fresh = browser.new_context().new_page()
    sign_in_with_password(fresh, app_url, "frank", PASSWORD)
    assert "Signed in as frank" in fresh.inner_text("body")
