"""The steps every browser journey takes, as a person takes them in Chromium against the running app: sign in, open a
page by the sidebar, ask for access, choose in a select box, browse a source's folders by clicking rows, complete a
data movement form, confirm in a dialog, take a screenshot. The stories themselves are the persona journeys
(test_persona_*.py): alice asks bob for /reports and gets exactly that in IAM (bob's), alice asks for an orphaned
source, carol confirms (carol's), dave grants (dave's)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.config import Settings
from core.context import Gatehouse
from core.seed import DEMO_PASSWORD
from core.startup import start
from tests.browser.conftest import click_row, settled, sign_in_with_password, tries
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


def shot(page, name: str, settle: bool = True) -> None:  # type: ignore[no-untyped-def]
    """A screenshot of the whole page, once the widgets have finished drawing: `settle=False` where the caller has
    just waited for that and only read the page since (a settled page costs half a second to tell from a busy one)."""
    ARTIFACTS.mkdir(exist_ok=True)
    if settle:
        settled(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@contextmanager
def beside_the_app(data_dir: Path, moto_endpoint: str) -> Iterator[Gatehouse]:
    """Gatehouse on the app's own database and emulation, for what others do meanwhile (through core, as the CLI
    would) and for what a journey checks behind the pages (IAM, the audit trail)."""
    gatehouse = start(Settings(_env_file=None, data_dir=data_dir, local_aws_port=int(moto_endpoint.rsplit(":", 1)[1])))
    try:
        yield gatehouse
    finally:
        gatehouse.engine.dispose()


def confirmed(page, done: str, scope=None) -> None:  # type: ignore[no-untyped-def]
    """After a click that acts at once or first asks in a dialog (widgets.confirm): the dialog's primary button,
    which repeats the action, when one opens; then what the action says when done."""
    scope = scope or page
    said, dialog = scope.get_by_text(done), page.get_by_role("dialog")
    said.or_(dialog).first.wait_for()
    if said.count() == 0 and dialog.count():
        settled(page)
        dialog.locator('[data-testid="stBaseButton-primary"]').first.click()
    said.first.wait_for()


# --- Browse: the folder's table, its rows opened by a click ---------------------------------------------------------


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


# --- the data movement form --------------------------------------------------------------------------------------

CSV = "month,region,orders\n2025-01,North,12\n2025-02,South,7\n"


def complete_form(page, scope) -> None:  # type: ignore[no-untyped-def]
    scope.get_by_role("textbox", name="What the data is").fill("Monthly orders by region, aggregated.")
    scope.get_by_role("textbox", name="Where it comes from").fill("The sales team's reporting system")
    scope.get_by_role("textbox", name="Purpose of the move").fill("Analyse regional trends for the pricing review.")
    scope.get_by_role("textbox", name="How long it will be kept").fill("Two years")
    scope.get_by_text("I declare that the information governance procedures").click()
    scope.get_by_role("button", name="Complete the form").click()
    page.get_by_text("is complete.").first.wait_for()
