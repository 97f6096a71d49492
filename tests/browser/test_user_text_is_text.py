"""Text that a person typed, or that came from S3, is shown to others as text: in Chromium, on every page that shows
it, a Markdown or HTML payload renders no link, image, HTML element, coloured text, icon or formula.

The payloads go in through the use cases (a business need, paths, a refusal reason, a display name, a source name, a
webapp source's business need) and straight into S3 (object and folder names that another tool wrote), and every
persona who sees them looks: alice (My data, Browse, Download, My requests, Inbox, Upload, Admin: archive), bob
(Admin: requests, who has access, the audit trail; Inbox; My data), carol (Confirmations), dave (Platform:
requests, webapp sources, users, data sources, the audit trail) and mallory (whose display name is the payload)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import actions
from core.actions.add_user import add_user
from core.actor import platform_operator
from core.config import Settings
from core.context import Gatehouse
from core.domain import AccessLevel
from core.queries import get_user
from core.seed import DEMO_PASSWORD
from core.startup import start
from pages.ui.markup import WORD_JOINER
from tests.browser.conftest import eventually, settled
from tests.browser.test_access_stories import (
    browse,
    choose,
    complete_form,
    in_table,
    open_page,
    open_row,
    shot,
    signed_in,
)

pytestmark = pytest.mark.browser

# Each a way Markdown, Streamlit's Markdown or HTML would turn text into something else.
LINK = "[Session expired - sign in again](https://attacker.example/login)"
IMAGE = "![x](https://attacker.example/p.png)"
HTML = "<img src=https://attacker.example/h.png><b id=injected>bold</b>"
AUTOLINKS = "www.attacker.example https://attacker.example/a ops@attacker.example"
STREAMLIT = ":red[coloured] :material/warning: $x^2$ :smile:"
PAYLOAD = f"I need this because {AUTOLINKS} {LINK} {IMAGE} {HTML} {STREAMLIT}"
NAME = f"{IMAGE} www.attacker.example"  # a display name: one line, at most 120 characters
PATHS = "/www.attacker.example\n/team/ops@attacker.example"  # brackets and ! < > are refused in paths
SOURCE = "alpha-www.attacker.example"  # a valid bucket name that GitHub's autolinks would take for an address
# Object names cannot hold the payloads' URLs whole: a / starts a folder. `https:host` is a URL all the same.
OBJECT_LINK = "[Session expired - sign in again](https:attacker.example)"
OBJECT_IMAGE = "![x](https:attacker.example)"
OBJECT_STREAMLIT = ":red[coloured] $x^2$ :smile:"
OBJECTS = [
    f"{OBJECT_IMAGE}.csv",
    f"{OBJECT_LINK}.csv",
    "<img src=https:attacker.example><b id=injected>bold.csv",
    "www.attacker.example.csv",
    f"{OBJECT_STREAMLIT}.csv",
    "ok\u202evsc.exe",
    f"{OBJECT_LINK}/inside.csv",
    "www.attacker.example/inside.csv",
]

FOUND = """() => {
  const found = [];
  const ours = (url) => /^https:\\/\\/[a-z0-9-]+\\.console\\.aws\\.amazon\\.com\\//.test(url);
  for (const a of document.querySelectorAll('a[href]'))
    if (/attacker/i.test(a.href) && !ours(a.href)) found.push('a link to ' + a.href);
  for (const a of document.querySelectorAll('a'))
    if (/Session expired|attacker/i.test(a.textContent) && !ours(a.href)) found.push('a link reading ' + a.textContent);
  for (const img of document.querySelectorAll('img'))
    if (/attacker/i.test(img.src)) found.push('an image from ' + img.src);
  if (document.querySelector('#injected')) found.push('an HTML element');
  for (const e of document.querySelectorAll('.stMarkdownColoredText'))
    if (/coloured/.test(e.textContent) || !e.textContent.trim()) found.push('coloured text ' + e.textContent);
  for (const e of document.querySelectorAll('.katex')) found.push('a formula ' + e.textContent);
  for (const e of document.querySelectorAll('[data-testid="stIconMaterial"], span[translate="no"]'))
    if (e.textContent.trim() === 'warning') found.push('an icon');
  if (/\\u202e/.test(document.body.innerText)) found.push('a text-direction override');
  return found;
}"""


def body_text(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.inner_text("body")).replace(WORD_JOINER, "")  # literal() puts one into www. and the like


def missing_after(page, shown: tuple[str, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    """What of `shown` the page still lacks once it shows all of it or the wait's bound passes (a loaded machine
    redraws slowly: the run that draws it can still be going)."""
    eventually(page, lambda: all(text in body_text(page) for text in shown), poll_ms=500)
    return [text for text in shown if text not in body_text(page)]


def looks_as_text(page, where: str, *shown: str) -> None:  # type: ignore[no-untyped-def]
    """Nothing on the page came from a payload, and the payload is there, as text."""
    settled(page)  # let the run finish drawing
    drawn = all(text in body_text(page) for text in shown)
    missing = missing_after(page, shown)
    assert not missing, f"{where} does not show {missing}"
    body = body_text(page)
    found = page.evaluate(FOUND)
    shot(page, f"injection-{where}", settle=not drawn)  # settled above, unless a later run drew what it shows
    assert not found, f"{where}: {found}"
    assert "Traceback" not in body


def prepare(gatehouse: Gatehouse) -> None:
    """The payloads, through the use cases as their authors would enter them, and into S3 as another tool would."""
    with gatehouse.session() as session:
        alice, bob = get_user(session, "alice"), get_user(session, "bob")
    operator = platform_operator("test")
    add_user(gatehouse, operator, "mallory", "mallory@example.org", display_name=NAME, password=DEMO_PASSWORD)
    asked = actions.request_access(gatehouse, alice, "alpha-pricing-models", AccessLevel.READ_ONLY, PATHS, PAYLOAD)
    actions.approve_request(gatehouse, bob, asked.id, paths="/www.attacker.example")  # fewer paths than asked
    refused = actions.request_access(gatehouse, alice, "alpha-pricing-models", AccessLevel.READ_WRITE, None, PAYLOAD)
    actions.refuse_request(gatehouse, bob, refused.id, PAYLOAD)
    actions.request_access(gatehouse, alice, "alpha-pricing-models", AccessLevel.READ_WRITE, "/team", PAYLOAD)
    actions.request_access(gatehouse, alice, "alpha-legacy-orphan", AccessLevel.READ_ONLY, PATHS, PAYLOAD)
    with gatehouse.session() as session:
        carol = get_user(session, "carol")  # no line manager: her request for the orphan goes to the platform team
    actions.request_access(gatehouse, carol, "alpha-legacy-orphan", AccessLevel.READ_ONLY, PATHS, PAYLOAD)
    actions.create_source(gatehouse, alice, SOURCE)
    actions.grant_access(gatehouse, alice, SOURCE, ["bob"], AccessLevel.READ_ONLY, "/www.attacker.example")
    actions.request_webapp_source(gatehouse, alice, "alpha-www.attacker.app", "reports-app", PAYLOAD)
    for key in OBJECTS:
        gatehouse.aws.s3.put_object(Bucket="alpha-shared-workspace", Key=f"payloads/{key}", Body=b"a,b\n1,2\n")


def test_every_page_shows_user_text_as_text(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gatehouse = start(Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    try:
        prepare(gatehouse)
    finally:
        gatehouse.engine.dispose()

    alice = signed_in(browser, app_url, "alice")
    looks_as_text(alice, "alice-my-data", SOURCE, "/www.attacker.example")
    browse(alice, "alpha-shared-workspace")
    open_row(alice, "payloads/", in_table(alice, "www.attacker.example.csv"))
    for name in ("ok⟨U+202E⟩vsc.exe", f"{OBJECT_LINK}.csv", f"{OBJECT_STREAMLIT}.csv", f"{OBJECT_LINK}/"):
        assert in_table(alice, name).count() == 1, f"Browse's table does not show {name} as it is"
    looks_as_text(alice, "alice-browse")
    open_row(alice, f"{OBJECT_IMAGE}.csv", alice.get_by_role("tab", name="Download"))
    alice.get_by_role("tab", name="Download").click()
    complete_form(alice, alice.get_by_role("tabpanel", name="Download"))
    looks_as_text(alice, "alice-browse-object", f"Save {OBJECT_IMAGE}.csv")
    open_page(alice, "Request access")
    alice.get_by_role("tab", name="My requests").click()
    looks_as_text(alice, "alice-my-requests", "I need this because www.attacker.example", "/team/ops@attacker.example")
    open_page(alice, "Inbox")
    looks_as_text(alice, "alice-inbox", "refused your request")
    open_page(alice, "Upload")
    looks_as_text(alice, "alice-upload")
    open_page(alice, "Admin")
    alice.get_by_role("tab", name="Manage access").click()
    choose(alice, 0, SOURCE)
    alice.get_by_role("tab", name="Archive").click()
    alice.get_by_role("button", name="Archive data source").first.click()
    looks_as_text(alice, "alice-archive", f"Archive {SOURCE}?")  # the dialog that asks, naming it as text
    alice.get_by_role("button", name="Cancel").first.click()

    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Admin")
    looks_as_text(bob, "bob-requests", "I need this because www.attacker.example")
    bob.get_by_role("tab", name="Manage access").click()
    choose(bob, 0, "alpha-pricing-models")
    looks_as_text(bob, "bob-who-has-access", "/www.attacker.example")
    bob.get_by_role("tab", name="Audit trail").click()
    bob.locator('[data-testid="stDataFrame"]').first.wait_for()  # a table that renders text, never Markdown
    looks_as_text(bob, "bob-audit-trail")
    open_page(bob, "Inbox")
    looks_as_text(bob, "bob-inbox", "Business need: I need this because")
    open_page(bob, "My data")
    looks_as_text(bob, "bob-my-data", SOURCE)

    carol = signed_in(browser, app_url, "carol")
    open_page(carol, "Confirmations")
    looks_as_text(carol, "carol-confirmations", "I need this because www.attacker.example")

    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    looks_as_text(dave, "dave-requests", "I need this because www.attacker.example", "/team/ops@attacker.example")
    dave.get_by_role("tab", name="Webapp sources").click()
    looks_as_text(dave, "dave-webapp-sources", "I need this because www.attacker.example", "alpha-www.attacker.app")
    dave.get_by_role("tab", name="Users").click()
    looks_as_text(dave, "dave-users")
    dave.get_by_role("tab", name="Data sources").click()
    looks_as_text(dave, "dave-sources")
    dave.get_by_role("tab", name="Audit trail").click()
    looks_as_text(dave, "dave-audit-trail")

    mallory = signed_in(browser, app_url, "mallory")
    looks_as_text(mallory, "mallory-sidebar", NAME)
