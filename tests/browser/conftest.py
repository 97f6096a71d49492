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


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """Chromium started once a worker (Playwright's driver and the browser process take a second or two to start);
    each test gets contexts of its own from it (`browser`), which share no cookie, storage or page."""
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        missing(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed: pip install playwright (no browser download is needed)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def browser(chromium, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The worker's Chromium as a test sees it: every context it opens is its own, closed when the test ends (after
    its pages' screenshots and HTML are kept, if it failed)."""
    patient = Patient(chromium)
    try:
        yield patient
    finally:
        if request.node.stash.get(FAILED, False):
            _keep_evidence(patient.contexts, request.node.name)
        for context in patient.contexts:
            try:
                context.close()
            except Exception as error:  # a context the test closed itself, or a page that hangs: the next test's is new
                print(f"could not close a browser context: {error}")


class Patient:
    """Chromium whose every page waits up to WAIT_MS for what it is asked to find (Playwright's own default is 30 s,
    which a busy machine outlasts), and tells `settled` what the app is doing (TRACKER)."""

    def __init__(self, browser) -> None:  # type: ignore[no-untyped-def]
        self._browser = browser
        self.contexts: list = []  # type: ignore[type-arg]

    def new_context(self, **options):  # type: ignore[no-untyped-def]
        context = self._browser.new_context(**options)
        self.contexts.append(context)
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(WAIT_MS)
        context.add_init_script(TRACKER)
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


def _keep_evidence(contexts, test_name: str) -> None:  # type: ignore[no-untyped-def]
    """A failed browser test leaves each open page's screenshot and HTML in test-artifacts/ for whoever reads CI."""
    ARTIFACTS.mkdir(exist_ok=True)
    for c, context in enumerate(contexts):
        for p, page in enumerate(context.pages):
            stem = ARTIFACTS / f"failed-{test_name}-{c}-{p}"
            try:
                page.screenshot(path=f"{stem}.png", full_page=True)
                stem.with_suffix(".html").write_text(page.content())
            except Exception as error:  # the evidence is a courtesy: never hide the test's own failure
                print(f"could not keep evidence of {stem.name}: {error}")


# What the page itself sees of the app's work, installed in every page before the app's own scripts: the last moment
# something happened (a message to or from the server, a user's input, a message from a component's frame, the app's
# run or connection state changing), how many messages to the server are still unanswered (each has an answer: a
# rerun its run's start, a heartbeat its ack, a request its response), and which component frames have loaded.
TRACKER = """
(() => {
  if (window.__gatehouse) return;
  const seen = (window.__gatehouse = { busyAt: performance.now(), sentAt: 0, unanswered: 0, frames: new WeakMap() });
  const busy = () => { seen.busyAt = performance.now(); };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", () => { seen.unanswered = 0; busy(); });
      this.addEventListener("open", busy);
      this.addEventListener("close", busy);
    }
    send(data) {
      seen.unanswered += 1;
      seen.sentAt = performance.now();
      busy();
      return super.send(data);
    }
  };
  for (const type of ["pointerdown", "pointerup", "click", "keydown", "keyup", "input", "change", "message"]) {
    window.addEventListener(type, busy, true);
  }
  const watch = (frame) => {
    if (seen.frames.has(frame)) return;
    const state = { since: performance.now(), loaded: false };
    seen.frames.set(frame, state);
    frame.addEventListener("load", () => { state.loaded = true; busy(); });
  };
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "attributes") busy();  // the run's or the connection's state (not drawing: it never ends)
      for (const node of change.addedNodes) {
        if (node.nodeName === "IFRAME") watch(node);
        else if (node.querySelectorAll) node.querySelectorAll("iframe").forEach(watch);
      }
    }
  }).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["data-test-script-state", "data-test-connection-state"],
  });
})();
"""

# The page is still when the app's last run has ended (Streamlit's own marks on its root, as the server reports
# them), nothing sent to the server is unanswered, every component frame has loaded, and nothing has happened for
# QUIET_MS (the app draws what a message brought; a widget that waits before sending, as a text box does for its
# debounce, has sent). A message unanswered, or a frame not loaded, after UNANSWERED_MS is no longer waited for: a
# loaded machine answers well within that, and one that never comes would otherwise hold every step for WAIT_MS.
QUIET_MS = 250
UNANSWERED_MS = 10_000
STILL = """([quiet, unanswered]) => {
  const seen = window.__gatehouse;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!seen || !app) return false;
  if (app.getAttribute("data-test-script-state") !== "notRunning") return false;
  if (app.getAttribute("data-test-connection-state") !== "CONNECTED") return false;
  const now = performance.now();
  if (seen.unanswered > 0 && now - seen.sentAt < unanswered) return false;
  for (const frame of document.querySelectorAll("iframe")) {
    const state = seen.frames.get(frame);
    if (state && !state.loaded && frame.src && now - state.since < unanswered) return false;
  }
  return now - seen.busyAt >= quiet;
}"""


def settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app's run has finished and no other is coming: a click on something a run is still redrawing
    can be lost, or act on what the run is replacing. Streamlit marks its root with the script's state as the server
    reports it (`data-test-script-state`, what Streamlit's own browser tests wait on), but a click's rerun shows there
    only once the server has answered it: what the page has sent and not yet heard back about is waited for too
    (TRACKER), and so is a component's frame still loading (the sign-in cookie's, whose value asks for a rerun).
    This used to be five looks 100 ms apart at a finished run (0.5 s at every step, as long on a quiet machine as on
    a loaded one, and no longer when the server was slow to answer a click); now a quarter of a second of stillness,
    measured in the page, after whatever the work takes."""
    from playwright.sync_api import Error, TimeoutError

    deadline = time.monotonic() + WAIT_MS / 1000
    while (left := deadline - time.monotonic()) > 0:
        try:
            page.wait_for_function(STILL, arg=[QUIET_MS, UNANSWERED_MS], polling=50, timeout=left * 1000)
            return
        except TimeoutError:
            break  # as before: past the bound, the test's next wait says what is missing
        except Error:  # the page navigated meanwhile (a sign-in's redirect): ask the new document
            page.wait_for_timeout(100)


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
