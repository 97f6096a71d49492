"""Sign-in speed in Chromium (issue #15), for both ways in, against an empty Streamlit page in the same browser and run.

Run from the repository root: `.venv/bin/python bench/signin.py` (`--repeats 9` for steadier medians).

Three `streamlit run` processes on the embedded defaults (SQLite in a data dir of their own, the demo, a local AWS
emulation each): Gatehouse signing in with passwords, Gatehouse signing in through an OpenID provider on loopback
(oidc-provider-mock in a thread of this process, tests/oidc_provider.py), and a one-line Streamlit page. One Chromium
(Debian's, /usr/bin/chromium) and, in turns, a fresh browser context for each of:
- **empty page**: from `goto` to the page's heading (the load of an empty Streamlit page);
- **password**: alice's username and the demo password typed, from the click on "Sign in" to My data's first table;
- **oidc**: "Sign in" clicked, then at the provider, from the click on alice (the provider answers with its redirect
  back at once: the code exchange, Streamlit's cookie and the page's load all count) to My data's first table;
- and, as context, the load of each sign-in page (from `goto` to its "Sign in" button), and a wrong password's
  click to its refusal (bcrypt's cost: the same as a right password's; bob, carol and dave in turn, so that none
  is locked out).
A round of each is run untimed first. Medians over the repeats; ratio = a way in's median ÷ the empty page's median.
Targets (issue #15): each way in at most 1.5 s and at most 3 times the empty page. Figures are printed, never
asserted; the last line is JSON: {"repeats": N, "empty_page_s": S, "password_s": S, "oidc_s": S,
"password_ratio": R, "oidc_ratio": R, "sign_in_page_s": {"password": S, "oidc": S}, "wrong_password_s": S,
"meets_target": bool}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import authlib.deprecate  # noqa: F401 (it asks for its warnings to be always shown: the filter below comes after)
from moto.server import ThreadedMotoServer
from playwright.sync_api import Browser, Page, sync_playwright

from core.seed import DEMO_PASSWORD
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, healthy, settled
from tests.conftest import free_port, stop

with warnings.catch_warnings():  # the loopback provider imports Authlib's older modules, which say so at import
    warnings.simplefilter("ignore", DeprecationWarning)
    from tests.oidc_provider import loopback_provider, write_secrets

ROOT = Path(__file__).resolve().parent.parent
EMPTY_PAGE = 'import streamlit as st\n\nst.title("Empty page")\n'
TARGET_SECONDS, TARGET_RATIO = 1.5, 3.0
TIMEOUT_MS = 60_000
HEADLESS = ("--server.headless", "true")


@contextmanager
def moto() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield str(port)
    finally:
        server.stop()


@contextmanager
def streamlit(script: Path, data_dir: Path, env: Mapping[str, str], args: tuple[str, ...] = ()) -> Iterator[str]:
    """`streamlit run <script>` on a free port until the block ends; yields its URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {**os.environ, "GATEHOUSE_DATA_DIR": str(data_dir), **env}
    for name in ("GATEHOUSE_DATABASE_URL", "GATEHOUSE_SIGN_IN"):
        if name not in env:
            environment.pop(name, None)
    log = (data_dir / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port), *HEADLESS, *args],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{script.name} did not start: {(data_dir / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        stop(process)
        log.close()


def first_table(page: Page) -> None:
    page.get_by_role("heading", name="My data").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("table").first.wait_for(timeout=TIMEOUT_MS)


def empty_page(browser: Browser, url: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name="Empty page").wait_for(timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - start
    context.close()
    return seconds


def sign_in_page(page: Page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - start
    settled(page)
    return seconds


def with_password(browser: Browser, url: str) -> tuple[float, float]:
    """(the sign-in page's load, the click on "Sign in" to My data's first table)"""
    context = browser.new_context()
    page = context.new_page()
    loaded = sign_in_page(page, url)
    page.get_by_role("textbox", name="Username").fill("alice")
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    start = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    first_table(page)
    seconds = time.perf_counter() - start
    context.close()
    return loaded, seconds


def with_a_wrong_password(browser: Browser, url: str, username: str) -> float:
    """The click on "Sign in" with a wrong password to its refusal: bcrypt's cost, as a right password's."""
    context = browser.new_context()
    page = context.new_page()
    sign_in_page(page, url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill("not-the-password")
    start = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("The username or password is incorrect.").wait_for(timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - start
    context.close()
    return seconds


def through_the_provider(browser: Browser, url: str) -> tuple[float, float]:
    """(the sign-in page's load, the provider's redirect back to My data's first table)"""
    context = browser.new_context()
    page = context.new_page()
    loaded = sign_in_page(page, url)
    page.get_by_role("button", name="Sign in").click()
    alice = page.get_by_role("button", name="alice", exact=True)
    alice.wait_for(timeout=TIMEOUT_MS)
    start = time.perf_counter()
    alice.click()
    first_table(page)
    seconds = time.perf_counter() - start
    context.close()
    return loaded, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, choices=range(1, 13), metavar="1..12")
    options = parser.parse_args()
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gatehouse-signin-bench-")))
        empty_script = scratch / "empty.py"
        empty_script.write_text(EMPTY_PAGE)
        issuer = stack.enter_context(loopback_provider())
        secrets = write_secrets(scratch / "secrets.toml", issuer)
        password_url = stack.enter_context(
            streamlit(ROOT / "app.py", scratch / "password", {"GATEHOUSE_LOCAL_AWS_PORT": stack.enter_context(moto())})
        )
        oidc_url = stack.enter_context(
            streamlit(
                ROOT / "app.py",
                scratch / "oidc",
                {"GATEHOUSE_LOCAL_AWS_PORT": stack.enter_context(moto()), "GATEHOUSE_SIGN_IN": "oidc"},
                ("--secrets.files", str(secrets)),
            )
        )
        empty_url = stack.enter_context(streamlit(empty_script, scratch / "empty", {}))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        stack.callback(browser.close)

        turns: dict[str, Callable[[], tuple[float, float]]] = {
            "password": lambda: with_password(browser, password_url),
            "oidc": lambda: through_the_provider(browser, oidc_url),
        }
        empty_page(browser, empty_url)  # untimed: each server's first run, the browser's first pages
        for turn in turns.values():
            turn()
        empties: list[float] = []
        pages: dict[str, list[float]] = {name: [] for name in turns}
        ways_in: dict[str, list[float]] = {name: [] for name in turns}
        wrong: list[float] = []
        for repeat in range(options.repeats):
            empties.append(empty_page(browser, empty_url))
            for name, turn in turns.items():
                loaded, seconds = turn()
                pages[name].append(loaded)
                ways_in[name].append(seconds)
            # each of them a failure in turn: fewer than GATEHOUSE_MAX_FAILED_SIGN_INS each for up to 12 repeats
            wrong.append(with_a_wrong_password(browser, password_url, ("bob", "carol", "dave")[repeat % 3]))

    empty = statistics.median(empties)
    medians = {name: statistics.median(values) for name, values in ways_in.items()}
    page_medians = {name: statistics.median(values) for name, values in pages.items()}
    ratios = {name: seconds / empty for name, seconds in medians.items()}
    meets = all(medians[n] <= TARGET_SECONDS and ratios[n] <= TARGET_RATIO for n in medians)
    print(f"Sign-in in Chromium, median of {options.repeats} (seconds; ratio = ÷ the empty page's load)")
    print(f"  empty Streamlit page, load                                  {empty:6.2f}")
    print(f"  password: click on Sign in → My data's first table          {medians['password']:6.2f}"
          f"   {ratios['password']:5.2f}×")  # fmt: skip
    print(f"  oidc: provider's redirect back → My data's first table      {medians['oidc']:6.2f}"
          f"   {ratios['oidc']:5.2f}×")  # fmt: skip
    print(f"  (password: click on Sign in with a wrong password → refusal {statistics.median(wrong):6.2f})")
    for name in turns:
        print(f"  (sign-in page, load, {name + ')':9}                             {page_medians[name]:6.2f}"
              f"   {page_medians[name] / empty:5.2f}×)")  # fmt: skip
    verdict = "met" if meets else "NOT met"
    print(f"Target: each way in ≤ {TARGET_SECONDS} s and ≤ {TARGET_RATIO:g}× the empty page: {verdict}")
    print(
        json.dumps(
            {
                "repeats": options.repeats,
                "empty_page_s": round(empty, 3),
                "password_s": round(medians["password"], 3),
                "oidc_s": round(medians["oidc"], 3),
                "password_ratio": round(ratios["password"], 2),
                "oidc_ratio": round(ratios["oidc"], 2),
                "sign_in_page_s": {name: round(value, 3) for name, value in page_medians.items()},
                "wrong_password_s": round(statistics.median(wrong), 3),
                "meets_target": meets,
            }
        )
    )


if __name__ == "__main__":
    main()
