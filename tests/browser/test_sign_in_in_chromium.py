"""The password sign-in page in Chromium (issue 25): a narrow card in the middle of a wide page, not a banner 1,150 px
wide for two fields; erin, who has left, is told so once she gives her right password (a wrong one reads as anyone's),
an empty form asks for both fields, a browser still signed in as someone who left since is told so, and every
refusal is on record. Screenshots: sign-in-1 … sign-in-4."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import actions, auth
from core.config import Settings
from core.queries import get_user
from core.seed import DEMO_PASSWORD
from core.startup import start
from tests.browser.conftest import card_is_narrow_and_centred, settled, sign_in_with_password, tries
from tests.browser.test_access_stories import shot
from tests.browser.test_oidc_in_chromium import audit

pytestmark = pytest.mark.browser
WIDE = {"width": 1600, "height": 1000}


def send(page, username: str, password: str, answer: str) -> None:  # type: ignore[no-untyped-def]
    """The form filled and sent until `answer` shows (a click on what a run is still drawing can be dropped)."""
    for attempt, wait in enumerate(tries(3)):
        page.get_by_role("textbox", name="Username").fill(username)
        page.get_by_role("textbox", name="Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        try:
            page.get_by_text(answer).first.wait_for(timeout=wait)
            break
        except Exception:
            if attempt == 2:
                raise
            settled(page)
    settled(page)


def test_the_sign_in_form_is_a_narrow_card_in_the_middle(app_url: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=WIDE).new_page()
    page.goto(app_url)
    form = page.locator('[data-testid="stForm"]')
    form.first.wait_for()
    settled(page)
    card_is_narrow_and_centred(page)
    box = form.first.bounding_box()
    assert box is not None and box["width"] < 600, box
    shot(page, "sign-in-1-card")


def test_erin_who_has_left_is_told_so_after_her_right_password(
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=WIDE).new_page()
    page.goto(app_url)
    page.get_by_role("textbox", name="Username").first.wait_for()
    settled(page)

    send(page, "erin", "not-her-password", auth.SIGN_IN_FAILED)  # anyone guessing learns nothing
    send(page, "erin", DEMO_PASSWORD, "You have left the platform, so you cannot sign in")
    body = page.inner_text("body")
    assert auth.SIGN_IN_FAILED not in body and "My data" not in body
    card_is_narrow_and_centred(page)
    shot(page, "sign-in-2-erin-has-left")

    send(page, "", "", "Enter your username and password.")
    shot(page, "sign-in-3-empty-form")

    events = audit(tmp_path, moto_reset)
    assert ("erin", "sign-in-refused", "erin has left and could not sign in") in events
    wrong = [summary for actor, action, summary in events if (actor, action) == ("system", "sign-in-refused")]
    assert wrong and all(s.startswith("A password sign-in as erin from ") for s in wrong), wrong
    assert wrong[0].endswith(" was refused: the password was wrong")
    assert not [e for e in events if e[1] == "sign-in"]  # nobody got in


def test_a_browser_still_signed_in_as_a_leaver_is_told_they_have_left(
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=WIDE)
    sign_in_with_password(context.new_page(), app_url, "bob", DEMO_PASSWORD)
    gatehouse = start(Settings(_env_file=None, data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    try:
        with gatehouse.session() as session:
            dave = get_user(session, "dave")
        actions.mark_left(gatehouse, dave, "bob")
    finally:
        gatehouse.engine.dispose()

    again = context.new_page()  # the browser's sign-in cookie still names bob
    again.goto(app_url)
    again.get_by_text(auth.LEFT_THE_PLATFORM).first.wait_for()
    settled(again)
    assert "My data" not in again.inner_text("body")
    shot(again, "sign-in-4-bob-left-since")
    assert ("bob", "sign-in-refused", "bob has left and could not sign in") in audit(tmp_path, moto_reset)
