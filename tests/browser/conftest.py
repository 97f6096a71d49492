"""Browser fixtures: the app as a user starts it (`streamlit run app.py`), and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, DemoPlatform, free_port, missing, stop

HEADLESS = ("--server.headless", "true")

# Every wait of a browser test is for something it needs, bounded by WAIT_MS: a loaded machine (another suite beside
# this one, a load average of 5) is slow, never wrong, so no test waits a fixed short time. NUDGE_MS is the wait of a
# step retried because a rerun can swallow a click; the retry's last try waits the full bound (see `tries`).
WAIT_MS = 180_000
NUDGE_MS = 15_000

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GATEHOUSE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def demo_data_dir(demo_platform: DemoPlatform, moto_reset: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """tmp_path as a demo started there leaves it, for the app and the test alike: the started demo's SQLite file
    where the app looks for its embedded database (Settings.db_url: gatehouse.db in the data dir, the only file a
    start keeps there), and the worker's emulation put back to the state that start left it in. The app's start is
    then a restart, with nothing to seed or make in AWS (tests/conftest.py: DemoPlatform)."""
    shutil.copyfile(demo_platform.sqlite(request), tmp_path / "gatehouse.db")
    demo_platform.emulations["sqlite"].put_back()
    return tmp_path


@pytest.fixture
def app_url(demo_data_dir: Path, moto_reset: str) -> Iterator[str]:
    """The app on the default embedded SQLite database (in tmp_path, the demo's copy: demo_data_dir), as
    `streamlit run app.py` starts it."""
    with streamlit_server(demo_data_dir, None, moto_reset) as url:
        yield url


@contextmanager
def streamlit_server(
    data_dir: Path,
    database_url: str | None,
    moto_endpoint: str,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
) -> Iterator[str]:
    """`streamlit run app.py` on a port of its own, with its own data dir, on the given database (None: the
    embedded SQLite file in the data dir) and emulation; `env` and `args` add settings and Streamlit options."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {
        **os.environ,
        "GATEHOUSE_DATA_DIR": str(data_dir),
        "GATEHOUSE_LOCAL_AWS_PORT": moto_endpoint.rsplit(":", 1)[1],
        **(env or {}),
    }
    environment.pop("GATEHOUSE_DATABASE_URL", None)
    if database_url:
        environment["GATEHOUSE_DATABASE_URL"] = database_url
    log_path = data_dir / "streamlit.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", *("--server.port", str(port)), *HEADLESS, *args],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + WAIT_MS / 1000
            while not healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit in {data_dir.name} did not start: " + log_path.read_text()[-2000:])
                time.sleep(0.3)
            yield url
        finally:
            stop(process)


def healthy(url: str) -> bool:
    """A Streamlit server answers its health check (it has started)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def browser(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        missing(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed: pip install playwright (no browser download is needed)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield Patient(launched)
        if request.node.stash.get(FAILED, False):
            _keep_evidence(launched, request.node.name)
        launched.close()


class Patient:
    """Chromium whose every page waits up to WAIT_MS for what it is asked to find (Playwright's own default is 30 s,
    which a busy machine outlasts)."""

    def __init__(self, browser) -> None:  # type: ignore[no-untyped-def]
        self._browser = browser

    def new_context(self, **options):  # type: ignore[no-untyped-def]
        context = self._browser.new_context(**options)
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(WAIT_MS)
        return context

    def new_page(self, **options):  # type: ignore[no-untyped-def]
        return self.new_context(**options).new_page()

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._browser, name)


def tries(count: int = 3) -> list[int]:
    """The waits of a step retried because a rerun can swallow a click: a nudge each, and the full bound last."""
    return [NUDGE_MS] * (count - 1) + [WAIT_MS]


def eventually(page, done, poll_ms: int = 250, within_ms: int = WAIT_MS) -> bool:  # type: ignore[no-untyped-def]
    """Whether `done()` comes true within `within_ms`, asked every `poll_ms` (for what no locator can wait for)."""
    deadline = time.monotonic() + within_ms / 1000
    while not done():
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(poll_ms)
    return True


def _keep_evidence(browser, test_name: str) -> None:  # type: ignore[no-untyped-def]
    """A failed browser test leaves each open page's screenshot and HTML in test-artifacts/ for whoever reads CI."""
    ARTIFACTS.mkdir(exist_ok=True)
    for c, context in enumerate(browser.contexts):
        for p, page in enumerate(context.pages):
            stem = ARTIFACTS / f"failed-{test_name}-{c}-{p}"
            try:
                page.screenshot(path=f"{stem}.png", full_page=True)
                stem.with_suffix(".html").write_text(page.content())
            except Exception as error:  # the evidence is a courtesy: never hide the test's own failure
                print(f"could not keep evidence of {stem.name}: {error}")


def settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app's run has finished: a click on something a run is still redrawing can be lost, or act on
    what the run is replacing. Streamlit marks its root with the script's state as the server reports it
    (`data-test-script-state`, what Streamlit's own browser tests wait on); its running icon, which this looked for
    before, appears only once a run has lasted half a second, so a run that had just started passed for finished.
    Connected and not running at five looks 100 ms apart counts as finished (a rerun that a run or a click asks for
    starts within that)."""
    app = page.locator('[data-testid="stApp"]')
    quiet = [0]

    def finished() -> bool:
        idle = app.get_attribute("data-test-script-state") == "notRunning"
        connected = app.get_attribute("data-test-connection-state") == "CONNECTED"
        quiet[0] = quiet[0] + 1 if idle and connected else 0
        return quiet[0] >= 5

    eventually(page, finished, poll_ms=100)


def sign_in_with_password(page, url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """The sign-in form filled and sent as a person would, until My data shows: on a loaded machine the form's first
    run can still be drawing when the click lands, and Streamlit drops a click on what a run is replacing."""
    page.goto(url)
    page.get_by_role("textbox", name="Username").first.wait_for()
    settled(page)
    for attempt, wait in enumerate(tries(3)):
        page.get_by_role("textbox", name="Username").fill(username)
        page.get_by_role("textbox", name="Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        try:
            page.get_by_role("heading", name="My data").first.wait_for(timeout=wait)
            return
        except Exception:
            if attempt == 2 or page.get_by_role("button", name="Sign in").count() == 0:
                raise
            settled(page)


def card_is_narrow_and_centred(page) -> None:  # type: ignore[no-untyped-def]
    """The sign-in page's title spans its card (password form or identity provider alike): under 600 px wide, its
    middle within 5% of the page's."""
    box = page.get_by_role("heading", name="Gatehouse").first.bounding_box()
    assert box is not None and box["width"] < 600, box
    width = page.viewport_size["width"]
    assert abs(box["x"] + box["width"] / 2 - width / 2) < width * 0.05, box


def click_row(page, table, index: int) -> None:  # type: ignore[no-untyped-def]
    """Tick the box of a data grid's row, as a person does: the grid is drawn on a canvas, its row boxes at the left
    edge, under a header as high as a row (Streamlit's 35 px)."""
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 35 * index + 17)


def download(page, button):  # type: ignore[no-untyped-def]
    """What a download button gives, clicked as a person does once the page is still: the file is made at the click
    by the button the last run drew, so a click while a run redraws it asks for a file the end of that run drops (the
    download never comes). Returns Playwright's Download."""
    settled(page)
    with page.expect_download() as downloaded:
        button.click()
    return downloaded.value
