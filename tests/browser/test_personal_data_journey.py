"""Personal data gets its own rules (issue #29), in Chromium against one running app, with a screenshot at each telling
moment (test-artifacts/personal-data-*.png):

- bob marks alpha-sales-analysis as personal data with carol as its information asset owner (Admin → Manage access
  → Personal data);
- alice asks for read/write on the whole source: the form says its rules before sending, and a request without an
  end date is refused beside the field;
- bob asks her a question instead of deciding; her inbox says so, and she answers it under My requests; his card
  shows the thread;
- bob approves: nothing is granted, the request goes to carol (the preview and the message say so), and alice reads
  "Approved by bob; waiting for the information asset owner, carol";
- carol approves less (read only): IAM gives alice exactly that;
- alice's download waits for carol's sign-off of its form: no file is offered until carol signs on Personal data;
- alice asks to extend her access before its end (My data → Ask to extend access that ends)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from core.adapters.models import AccessRequest, Grant, RequestStatus, utcnow
from core.domain import AccessLevel
from core.queries import get_user
from tests.aws_helpers import as_user
from tests.browser.conftest import download, settled, tries
from tests.browser.test_access_stories import (
    NEED,
    beside_the_app,
    browse,
    choose,
    folder_table,
    open_page,
    open_row,
    shot,
    signed_in,
)
from tests.browser.test_team_journey import radio

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]  # one app, many steps
SALES = "alpha-sales-analysis"  # bob administers it alone; alice holds read only on /published
DRAFT = "forecast_2026.csv"
QUESTION = "Which drafts do you need, and who else will see the figures?"
ANSWER = "Only the 2026 forecast, for the pricing committee: nobody outside it."


def pick(page, scope, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Pick an option in the select box of this label."""
    scope.locator('[data-testid="stSelectbox"]', has_text=label).first.get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).first.click()
    settled(page)


def set_date(page, scope, label: str, when, heading: str) -> None:  # type: ignore[no-untyped-def]
    """Type a date in the field of this label and leave it, so that the page takes it."""
    field = scope.locator('[data-testid="stDateInput"]', has_text=label).locator("input").first
    field.fill(when.isoformat())
    field.press("Enter")
    page.keyboard.press("Escape")  # the calendar it opened closes
    page.get_by_role("heading", name=heading).first.click()
    settled(page)


def test_personal_data_from_classification_to_extension(  # type: ignore[no-untyped-def]
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:
    today = utcnow().date()
    # 1 bob marks the source as personal data, carol its information asset owner
    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Admin")
    bob.get_by_role("tab", name="Manage access").click()
    settled(bob)
    choose(bob, 0, SALES)
    settled(bob)
    bob.get_by_role("tab", name="Personal data").click()
    settled(bob)
    radio(bob, "What it holds", "Personal data")
    form = bob.locator('[data-testid="stForm"]', has_text="Information asset owner").first
    form.get_by_role("combobox").first.click()
    bob.get_by_role("option", name="carol", exact=True).first.click()
    form.get_by_role("button", name="Save").click()
    # the grants on it that did not end (alice's, bob's own) end within a year now, as personal data asks
    bob.get_by_text(
        f"{SALES} is personal data, with carol as its information asset owner; 2 grants that did not end by then"
    ).first.wait_for()
    shot(bob, "personal-data-1-bob-names-carol-owner")

    # 2 alice asks: the rules said before sending; no end date is refused beside the field
    alice = signed_in(browser, app_url, "alice")
    open_page(alice, "Request access")
    search = alice.get_by_role("textbox", name="Find a data source")
    search.fill(SALES)
    search.press("Enter")
    settled(alice)
    choose(alice, 0, f"{SALES} (Personal data · IAO carol)")
    settled(alice)
    alice.get_by_text("Access ends: an end date is required, at most 365 days away.").first.wait_for()
    alice.get_by_text("Its information asset owner is carol.").first.wait_for()
    radio(alice, "Access level", "Read/write")
    alice.get_by_role("textbox", name="Business need").fill(NEED)
    alice.get_by_role("button", name="Send request").click()
    alice.get_by_text(
        "Access to personal data always ends: choose an end date, at most 365 days away."
    ).first.wait_for()
    shot(alice, "personal-data-2-alice-told-access-ends")
    ends = today + timedelta(days=5)  # soon: she asks to extend it at the end of the journey
    set_date(alice, alice, "End date (optional)", ends, "Request access")
    alice.get_by_role("textbox", name="Business need").fill(NEED)
    alice.get_by_role("button", name="Send request").click()
    alice.get_by_text(f"Request sent for {SALES}").first.wait_for()

    # 3 bob asks her a question instead of deciding
    open_page(bob, "Admin")
    bob.get_by_role("tab", name="Requests to decide").click()
    settled(bob)
    bob.get_by_text(f"asks for read/write access to {SALES}").first.wait_for()  # hers is the one card
    bob.get_by_role("tab", name="Ask a question").click()
    settled(bob)
    bob.get_by_role("textbox", name="Your question").fill(QUESTION)
    bob.get_by_role("button", name="Ask", exact=True).click()
    bob.get_by_text("Asked alice: the request waits for their answer.").first.wait_for()
    shot(bob, "personal-data-3-bob-asks-alice")

    # 4 alice's inbox says a question waits for her; she answers it under My requests
    open_page(alice, "Inbox")
    alice.get_by_text("1 question about your requests waits for your answer").first.click()
    alice.get_by_role("heading", name="Request access").first.wait_for()
    settled(alice)
    alice.get_by_role("tab", name="My requests").click()
    alice.get_by_text(QUESTION).first.wait_for()
    alice.get_by_role("textbox", name="Your answer").fill(ANSWER)
    shot(alice, "personal-data-4-alice-answers")
    alice.get_by_role("button", name="Send answer").click()
    alice.get_by_text(f"Answer sent: your request for {SALES} waits for bob's decision again.").first.wait_for()

    # 5 bob reads the thread and approves: nothing is granted yet, the request goes to carol
    open_page(bob, "Admin")
    bob.get_by_role("tab", name="Requests to decide").click()
    settled(bob)
    bob.get_by_text(f"asks for read/write access to {SALES}").first.wait_for()  # hers is the one card
    bob.get_by_text(ANSWER).first.wait_for()  # the thread on his card, as she typed it
    approve = bob.get_by_role("tabpanel", name="Approve")
    approve.get_by_text("This approval sends the request to carol, the information asset owner").first.wait_for()
    shot(bob, "personal-data-5-bob-reads-the-thread-and-the-next-step")
    approve.get_by_role("button", name="Approve").first.click()
    bob.get_by_text("Approved: the request now goes to the information asset owner, carol").first.wait_for()
    with beside_the_app(tmp_path, moto_reset) as gatehouse, as_user(gatehouse, "alice") as role:
        assert not role.can("put", SALES, "drafts/mine.csv")  # nothing granted before carol approves
        assert not role.can("get", SALES, f"drafts/{DRAFT}")
    open_page(alice, "Request access")
    alice.get_by_role("tab", name="My requests").click()
    alice.get_by_text("Approved by bob; waiting for the information asset owner, carol").first.wait_for()
    shot(alice, "personal-data-6-alice-reads-where-it-stands")

    # 6 carol approves less: read only
    carol = signed_in(browser, app_url, "carol")
    open_page(carol, "Personal data")
    approve = carol.get_by_role("tabpanel", name="Approve")
    carol.get_by_text("Approved as admin: Read/write (whole bucket)").first.wait_for()  # what bob approved, and who
    pick(carol, approve, "Grant", "Read only")
    shot(carol, "personal-data-7-carol-approves-less")
    approve.get_by_role("button", name="Approve").first.click()
    carol.get_by_text(f"Approved: alice has read only access to {SALES}.").first.wait_for()
    with beside_the_app(tmp_path, moto_reset) as gatehouse, as_user(gatehouse, "alice") as role:
        assert role.can("get", SALES, f"drafts/{DRAFT}")  # the whole source, read only
        assert not role.can("put", SALES, "drafts/mine.csv")

    # 7 alice's download waits for carol's sign-off of its form
    browse(alice, SALES)
    open_row(alice, "drafts/", folder_table(alice).get_by_text(DRAFT, exact=True))
    open_row(alice, DRAFT, alice.get_by_text(f"{DRAFT} ·", exact=False))
    alice.get_by_role("tab", name="Download").click()
    panel = alice.get_by_role("tabpanel", name="Download")
    panel.get_by_role("textbox", name="What the data is").fill("The 2026 sales forecast, by month.")
    panel.get_by_role("textbox", name="Where it comes from").fill("The sales team's reporting system")
    panel.get_by_role("textbox", name="Purpose of the move").fill("The pricing committee's review of 2026.")
    panel.get_by_role("textbox", name="DPIA reference (required for personal data)").fill("DPIA-2026-014")
    panel.get_by_role("textbox", name="How long it will be kept").fill("Until the review ends")
    panel.get_by_text("I declare that the information governance procedures").click()
    panel.get_by_role("button", name="Complete the form").click()
    panel.get_by_text("who signs it: this source holds personal").first.wait_for()
    assert alice.get_by_role("button", name=f"Save {DRAFT}").count() == 0  # no byte offered
    shot(alice, "personal-data-8-alices-download-waits-for-carol")

    open_page(carol, "Personal data")
    carol.get_by_role("tab", name="Data leaving your sources").click()
    carol.get_by_text("The 2026 sales forecast, by month.").first.wait_for()  # the form's answers, as text
    shot(carol, "personal-data-9-carol-reads-the-form")
    carol.get_by_role("button", name="Sign", exact=True).first.click()
    settled(carol)

    signed = alice.get_by_text("Signed off by carol: your download is available until")
    for attempt, wait in enumerate(tries(3)):  # a click that lands while the page still reruns can be swallowed
        settled(alice)
        panel.get_by_role("button", name="Check again").click()
        try:
            signed.first.wait_for(timeout=wait)
            break
        except Exception:
            if attempt == 2:
                raise
    saved = tmp_path / DRAFT
    download(alice, alice.get_by_role("button", name=f"Save {DRAFT}")).save_as(saved)
    assert saved.read_text().startswith("month")  # the file itself
    shot(alice, "personal-data-10-alices-download-signed")

    # 8 alice asks to extend before the end
    open_page(alice, "My data")
    alice.get_by_text("Ask to extend access that ends (1)").first.click()
    settled(alice)
    alice.get_by_text(f"{SALES}: read only on whole bucket, ends").first.wait_for()  # the one access that ends
    alice.get_by_role("textbox", name="Why you still need it").fill("The pricing review runs on until the summer.")
    shot(alice, "personal-data-11-alice-asks-to-extend")
    alice.get_by_role("button", name="Ask to extend").click()
    alice.get_by_text(f"Asked to extend your access to {SALES}").first.wait_for()
    with beside_the_app(tmp_path, moto_reset) as gatehouse, gatehouse.session() as session:
        alice_id = get_user(session, "alice").id
        asked = session.exec(
            select(AccessRequest).where(
                AccessRequest.requester_id == alice_id, col(AccessRequest.extends_grant_id).is_not(None)
            )
        ).one()
        grant = session.get(Grant, asked.extends_grant_id)
        assert grant is not None and grant.level is AccessLevel.READ_ONLY and grant.expires_on == ends
        assert asked.status is RequestStatus.PENDING_ADMIN and asked.expires_on == ends + timedelta(days=90)
