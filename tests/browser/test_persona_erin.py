"""erin, who has left, walks what issue 25 asks of the sign-in page (items 7 and 16), in Chromium, with a screenshot
at each item's telling moment (test-artifacts/persona-erin-*.png): a narrow card in the middle of a wide page, not a
banner 1,150 px wide for two fields; a wrong password reads as anyone's; her right one tells her she has left; an
empty form asks for both fields; every refusal is on record, and nobody got in."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import auth
from core.seed import DEMO_PASSWORD
from tests.browser.conftest import card_is_narrow_and_centred, settled, tries
from tests.browser.test_access_stories import shot
from tests.browser.test_oidc_in_chromium import audit

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]  # one app, many steps


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


def test_erin_walks_her_items_of_issue_25(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    page.goto(app_url)
    form = page.locator('[data-testid="stForm"]')
    form.first.wait_for()
    settled(page)
    card_is_narrow_and_centred(page)
    box = form.first.bounding_box()
    assert box is not None and box["width"] < 600, box
    shot(page, "persona-erin-01-sign-in-card")

    send(page, "erin", "not-her-password", auth.SIGN_IN_FAILED)  # anyone guessing learns nothing
    send(page, "erin", DEMO_PASSWORD, "You have left the platform, so you cannot sign in")
    body = page.inner_text("body")
    assert auth.SIGN_IN_FAILED not in body and "My data" not in body
    card_is_narrow_and_centred(page)
    shot(page, "persona-erin-02-told-she-has-left")

    send(page, "", "", "Enter your username and password.")
    shot(page, "persona-erin-03-empty-form")

    events = audit(tmp_path, moto_reset)
    assert ("erin", "sign-in-refused", "erin has left and could not sign in") in events
    wrong = [summary for actor, action, summary in events if (actor, action) == ("system", "sign-in-refused")]
    assert wrong and all(s.startswith("A password sign-in as erin from ") for s in wrong), wrong
    assert wrong[0].endswith(" was refused: the password was wrong")
    assert not [e for e in events if e[1] == "sign-in"]  # nobody got in
