"""The two main stories, in Chromium against the running app, with screenshots:
alice asks bob for /reports and gets exactly that in IAM; alice asks for an orphaned source, carol confirms, dave
grants."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings
from core.seed import DEMO_PASSWORD
from core.startup import start
from tests.aws_helpers import as_user
from tests.browser.conftest import settled, sign_in_with_password, tries
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
NEED = "I prepare the quarterly pricing review for the finance committee and need these reports."


def signed_in(browser, url: str, username: str):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    sign_in_with_password(page, url, username, DEMO_PASSWORD)
    settled(page)  # the sign-in's last reruns (its cookie) end on My data: a page opened before them is left again
    return page


def open_page(page, heading: str) -> None:  # type: ignore[no-untyped-def]
    """Through the sidebar navigation, as a person would (the session and sign-in stay)."""
    for attempt, wait in enumerate(tries(3)):
        # A click that lands while the app is still rerunning after sign-in can be swallowed: click again.
        page.get_by_role("link", name=heading).click()
        try:
            page.get_by_role("heading", name=heading).first.wait_for(timeout=wait)
            settled(page)
            if page.get_by_role("heading", name=heading).count() == 0:  # a late rerun went back elsewhere
                raise TimeoutError(f"{heading} was left again")
            return
        except Exception:
            if attempt == 2:
                shot(page, f"failed-{heading}")
                raise


def ask(page, url: str, source: str, paths: str = "") -> None:  # type: ignore[no-untyped-def]
    open_page(page, "Request access")
    search = page.get_by_role("textbox", name="Find a data source")
    for attempt, wait in enumerate(tries(3)):
        # The page can still be redrawing after the navigation: type again if the box was replaced meanwhile.
        try:
            search.fill(source, timeout=wait)
            search.press("Enter", timeout=wait)
            break
        except Exception:
            if attempt == 2:
                raise
    settled(page)
    choose(page, 0, source)  # the picker is redrawn by the search's rerun: choose opens it again if it was
    if paths:
        page.get_by_role("textbox", name="Paths (optional)").fill(paths)
    page.get_by_role("textbox", name="Business need").fill(NEED)
    page.get_by_role("button", name="Send request").click()
    page.get_by_text(f"Request sent for {source}").first.wait_for()


def choose(page, nth: int, option: str) -> None:  # type: ignore[no-untyped-def]
    """Pick an option in the nth select box; retried, as the box can be redrawn while the app reruns."""
    for attempt, wait in enumerate(tries(4)):
        page.get_by_role("combobox").nth(nth).click()
        try:
            page.get_by_role("option", name=option).click(timeout=wait)
            return
        except Exception:
            page.keyboard.press("Escape")
            if attempt == 3:
                raise


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    settled(page)  # let the widgets finish drawing
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_alice_asks_bob_for_reports_and_gets_exactly_that(
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    alice = signed_in(browser, app_url, "alice")
    ask(alice, app_url, "alpha-pricing-models", "/reports")
    alice.get_by_role("tab", name="My requests").click()
    alice.get_by_text("waits for an admin of the source: bob", exact=True).first.wait_for()
    shot(alice, "story1-1-alice-asked")

    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Admin")
    bob.get_by_text(NEED).first.wait_for()
    shot(bob, "story1-2-bob-queue")
    bob.get_by_role("button", name="Approve").first.click()
    bob.get_by_text("Approved: alice has read only access to alpha-pricing-models").first.wait_for()

    open_page(alice, "My data")
    alice.get_by_role("strong").filter(has_text="alpha-pricing-models").first.wait_for()
    body = alice.inner_text("body")
    assert "/reports" in body and "Traceback" not in body
    shot(alice, "story1-3-alice-my-data")

    gatehouse = start(Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    with as_user(gatehouse, "alice") as role:
        assert role.can("get", "alpha-pricing-models", "reports/prices_q3.csv")
        assert not role.can("get", "alpha-pricing-models", "models/elasticity.parquet")
        assert not role.can("put", "alpha-pricing-models", "reports/mine.csv")


def test_alice_asks_for_an_orphan_carol_confirms_dave_grants(
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    alice = signed_in(browser, app_url, "alice")
    ask(alice, app_url, "alpha-legacy-orphan")
    alice.get_by_role("tab", name="My requests").click()
    alice.get_by_text("waits for your line manager, carol", exact=True).first.wait_for()

    carol = signed_in(browser, app_url, "carol")
    open_page(carol, "Confirmations")
    shot(carol, "story2-1-carol-confirmations")
    carol.get_by_role("button", name="Confirm the business need").click()
    carol.get_by_text("now goes to the platform team").first.wait_for()

    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    dave.get_by_text("Confirmed by the requester's line manager.").first.wait_for()
    shot(dave, "story2-2-dave-platform")
    dave.get_by_role("button", name="Grant as asked").click()
    dave.get_by_text("Granted to alice.").first.wait_for()

    open_page(alice, "My data")
    alice.get_by_role("strong").filter(has_text="alpha-legacy-orphan").first.wait_for()
    shot(alice, "story2-3-alice-my-data")
    gatehouse = start(Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    with as_user(gatehouse, "alice") as role:
        assert role.can("get", "alpha-legacy-orphan", "archive/legacy_2019.csv")
