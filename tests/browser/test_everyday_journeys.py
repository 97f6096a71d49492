"""The everyday journeys, as a new user walks them in Chromium, one persona a test, with screenshots: where people
slowed down, guessed or gave up before (issue #16), each now one click or one clear sentence.

- alice: requests a source straight from My data's "Other data sources", sends and finds a fresh form, learns on
  Upload why a source she only reads is not listed and asks for read/write from there, reuses her movement form in
  one click, and starts a download's form from her upload's answers.
- bob: is told plainly that nobody called "nobody" is a member, is never offered himself, and approves a request
  for a shorter time after reading what it does in AWS.
- dave: reads the audit trail without the sign-ins, and one event in full.
And none of them loads anything from the internet (the app icon ships with the app)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from core.adapters.models import utcnow
from core.domain import day
from tests.browser.test_access_stories import NEED, ask, choose, open_page, settled, shot, signed_in
from tests.browser.test_browse_in_chromium import browse, open_row
from tests.browser.test_data_movement import CSV, complete_form

pytestmark = pytest.mark.browser
OUTSIDE = ("fonts.gstatic.com", "fonts.googleapis.com", "googleapis.com", "gstatic.com")


def chosen(page, nth: int = 0) -> str:  # type: ignore[no-untyped-def]
    """What the nth select box shows as chosen."""
    box = page.locator('[data-testid="stSelectbox"]').nth(nth)
    field = box.locator("input")
    return field.first.input_value() if field.count() and field.first.input_value() else box.inner_text().strip()


def watch_requests(page) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def test_alice_requests_from_my_data_uploads_and_reuses_her_form(
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    alice = signed_in(browser, app_url, "alice")
    seen = watch_requests(alice)
    alice.reload()
    alice.get_by_role("heading", name="My data").first.wait_for()
    settled(alice)
    body = alice.inner_text("body")
    assert "Applied in AWS" in body and "AWS console" in body and "applied\t" not in body
    shot(alice, "everyday-1-alice-my-data")

    # Other data sources: ticking a row's box opens Request access with that source chosen
    others = alice.locator('[data-testid="stDataFrame"]').last  # (sorted: court-dashboard-data, legacy-orphan, …)
    others.scroll_into_view_if_needed()
    box = others.bounding_box()
    assert box is not None
    alice.mouse.click(box["x"] + 16, box["y"] + 35 + 35 * 2 + 17)  # the third row's box: alpha-pricing-models
    alice.get_by_role("heading", name="Request access").first.wait_for()
    settled(alice)
    assert chosen(alice) == "alpha-pricing-models"
    alice.get_by_role("textbox", name="Paths (optional)").fill("/reports/\n")  # a folder's slash, a last newline
    alice.get_by_role("textbox", name="Business need").fill(NEED)
    alice.get_by_role("button", name="Send request").click()
    alice.get_by_text("Request sent for alpha-pricing-models").first.wait_for()
    settled(alice)
    assert alice.get_by_role("textbox", name="Business need").input_value() == ""  # a fresh form: not sent twice
    assert alice.get_by_role("textbox", name="Paths (optional)").input_value() == ""
    shot(alice, "everyday-2-alice-request-sent-fresh-form")
    alice.get_by_role("tab", name="My requests").click()
    alice.get_by_text("/reports · asked", exact=False).first.wait_for()

    # Upload: the source she only reads is named, with the way to ask for read/write
    open_page(alice, "Upload")
    alice.get_by_text("Not listed because you can only read them: alpha-sales-analysis.").first.wait_for()
    shot(alice, "everyday-3-alice-upload-says-why")
    alice.get_by_role("button", name="Request read/write").click()
    alice.get_by_role("heading", name="Request access").first.wait_for()
    settled(alice)
    assert chosen(alice) == "alpha-sales-analysis"
    assert alice.get_by_role("radio", name="Read/write").is_checked()
    assert alice.get_by_role("textbox", name="Paths (optional)").input_value() == "/published"  # what she reads

    # One form, then the same work again in one click; a download's form starts from the upload's answers
    data = tmp_path / "orders.csv"
    data.write_text(CSV)
    open_page(alice, "Upload")
    complete_form(alice, alice)
    alice.locator("input[type=file]").set_input_files(str(data))
    alice.get_by_role("button", name="Upload", exact=True).click()
    alice.get_by_text("Uploaded orders.csv to alpha-shared-workspace").first.wait_for()
    alice.get_by_role("button", name="Fill in a new form").click()
    reuse = alice.get_by_role("button", name="Use the form you completed at")
    reuse.first.wait_for()
    shot(alice, "everyday-4-alice-reuses-her-form")
    reuse.click()
    alice.get_by_text("is complete.").first.wait_for()

    browse(alice, "alpha-shared-workspace")
    open_row(alice, "orders.csv", alice.get_by_role("tab", name="Download"))
    alice.get_by_role("tab", name="Download").click()
    panel = alice.get_by_role("tabpanel", name="Download")
    answers = panel.get_by_role("textbox", name="What the data is")
    answers.first.wait_for()
    assert answers.input_value() == "Monthly orders by region, aggregated."  # the upload's answers, to review
    assert panel.get_by_role("textbox", name="Where it goes").input_value() == "My computer"
    shot(alice, "everyday-5-alice-download-form-prefilled")
    assert not [url for url in seen if any(host in url for host in OUTSIDE)], "fetched from the internet"


def test_bob_grants_only_members_and_approves_for_less_time_knowing_what_it_does(
    app_url: str, browser, moto_reset: str
) -> None:  # type: ignore[no-untyped-def]
    alice = signed_in(browser, app_url, "alice")
    ask(alice, app_url, "alpha-pricing-models", "/reports")

    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Admin")
    bob.get_by_text("What approving does in AWS").first.wait_for()
    bob.get_by_text("alice's role gains read on alpha-pricing-models/reports/*").first.wait_for()
    ends = utcnow().date() + timedelta(days=30)
    when = bob.locator('[data-testid="stDateInput"] input').first
    when.fill(ends.isoformat())
    when.press("Enter")
    bob.get_by_text("What approving does in AWS").click()  # away from the date: it is taken, the page reruns
    settled(bob)
    shot(bob, "everyday-6-bob-sees-what-approving-does")
    bob.get_by_role("button", name="Approve").first.click()
    bob.get_by_text("Approved: alice has read only access to alpha-pricing-models").first.wait_for()

    bob.get_by_role("tab", name="Manage access").click()
    settled(bob)
    choose(bob, 0, "alpha-pricing-models")
    bob.get_by_role("tab", name="Grant access").click()
    settled(bob)
    search = bob.get_by_role("textbox", name="Find platform members")
    search.fill("nobody")
    search.press("Enter")
    bob.get_by_text("No platform member called nobody: the platform team adds members.").first.wait_for()
    shot(bob, "everyday-7-bob-no-such-member")
    search.fill("")
    search.press("Enter")
    settled(bob)
    bob.get_by_role("combobox").nth(1).click()  # the members picker: bob himself is not among them
    bob.get_by_role("option", name="alice").first.wait_for()
    assert bob.get_by_role("option", name="bob").count() == 0
    assert bob.get_by_text("Select all").count() == 0
    bob.keyboard.press("Escape")
    open_page(alice, "My data")
    assert f"{day(ends)}" in alice.inner_text("body")  # the shorter end, in the one date format


def test_dave_reads_the_audit_trail_without_sign_ins_and_one_event_in_full(
    app_url: str, browser, moto_reset: str
) -> None:  # type: ignore[no-untyped-def]
    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    dave.get_by_role("tab", name="Audit trail").click()
    table = dave.locator('[data-testid="stDataFrame"]').first
    table.first.wait_for()
    settled(dave)
    without = events_counted(dave)
    shot(dave, "everyday-8-dave-audit-trail-without-sign-ins")
    dave.get_by_text("Show sign-ins").click()
    settled(dave)
    with_sign_ins = events_counted(dave)
    assert with_sign_ins > without  # dave's and the others' sign-ins were there all along, hidden
    dave.get_by_text("click a row to read the event in full").first.wait_for()
    shot(dave, "everyday-9-dave-audit-trail-with-sign-ins")


def events_counted(page) -> int:  # type: ignore[no-untyped-def]
    caption = page.get_by_text(re.compile(r"^[\d,]+ events?, newest first ·")).first
    caption.first.wait_for()
    return int(caption.inner_text().split()[0].replace(",", ""))
