"""bob, admin of two warehouse sources, walks every item of issue 25 that is his, in Chromium against one running
app, with a screenshot at each item's telling moment (test-artifacts/persona-bob-*.png):

- deciding alice's request (items 1 and 8): what approving does in AWS before the click; a path outside the
  request and an end date later than asked are each refused beside their field, all at once, and Approve grants
  nothing; no "Reason for refusing" under Approve;
- a partial approval with his reason (item 3): alice's inbox says what she asked, what she has and why; her My data
  shows the shorter end; IAM gives her exactly /reports;
- Refuse in a tab of its own, with its reason (item 8);
- granting (items 9 and 13): a name that is no member said so, never himself on offer; an s3:// address between
  blank lines taken; the form fresh after the grant, so a second click grants nothing;
- Edit or revoke opens on nobody; revoking only from the dialog that says what her role loses, Cancel changes
  nothing (item 13); carol is told (item 3; she reads it in her own journey)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core import actions, notify
from core.adapters.models import utcnow
from core.domain import AccessLevel, day
from core.queries import get_user
from tests.aws_helpers import as_user
from tests.browser.conftest import eventually, settled
from tests.browser.test_access_stories import NEED, beside_the_app, choose, open_page, shot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]  # one app, many steps
PRICING, SALES = "alpha-pricing-models", "alpha-sales-analysis"
WHY = "The models are confidential: the reports are what the pricing review needs."


def set_date(page, when) -> None:  # type: ignore[no-untyped-def]
    """Type the approval's end date and leave the field, so that the page takes it (and reruns)."""
    field = page.locator('[data-testid="stDateInput"] input').first
    field.fill(when.isoformat())
    field.press("Enter")
    page.keyboard.press("Escape")  # the calendar it opened closes
    page.get_by_role("heading", name="Admin").first.click()  # away from the field: the page reruns
    settled(page)


def test_bob_walks_his_items_of_issue_25(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    asked_until = utcnow().date() + timedelta(days=60)
    with beside_the_app(tmp_path, moto_reset) as gatehouse:  # alice and carol ask before he comes
        with gatehouse.session() as session:
            alice_row, carol_row = get_user(session, "alice"), get_user(session, "carol")
        actions.request_access(
            gatehouse, alice_row, PRICING, AccessLevel.READ_ONLY, "/reports\n/models", NEED, asked_until
        )
        actions.request_access(gatehouse, carol_row, SALES, AccessLevel.READ_ONLY, "/published", NEED)

    # 01 Deciding: what is wrong is said beside each field, all at once, before the click and at it (items 1, 8)
    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Admin")
    choose(bob, 0, f"alice: read only on {PRICING} (/reports, /models)")  # the newest comes first: carol's
    settled(bob)
    approve = bob.get_by_role("tabpanel", name="Approve")
    approve.get_by_text(f"alice's role gains read on {PRICING}/reports/*").first.wait_for()
    assert approve.get_by_text("Reason for refusing").count() == 0  # the refusal's reason is Refuse's alone
    approve.get_by_role("textbox", name="On paths").fill("/reports\n\n/drafts")
    later = asked_until + timedelta(days=30)
    set_date(bob, later)
    outside = "You can grant only paths within those asked for (/reports, /models): remove the others or narrow them."
    too_late = f"The request asks for access until {day(asked_until)}: you can end it sooner, never later."
    approve.get_by_text(outside).first.wait_for()
    approve.get_by_text(too_late).first.wait_for()
    shot(bob, "persona-bob-01-what-is-wrong-beside-each-field")
    approve.get_by_role("button", name="Approve").first.click()
    settled(bob)
    approve.get_by_text(too_late).first.wait_for()
    assert approve.get_by_text(outside).count() and bob.get_by_text("Approved:").count() == 0  # nothing granted

    # 02 Less than asked, with his reason (item 3)
    ends = asked_until - timedelta(days=30)
    approve.get_by_role("textbox", name="On paths").fill("/reports")
    set_date(bob, ends)
    assert approve.get_by_text(outside).count() == 0 and approve.get_by_text(too_late).count() == 0
    approve.get_by_role("textbox", name="Reason (optional)").fill(WHY)
    shot(bob, "persona-bob-02-approves-less-with-a-reason")
    approve.get_by_role("button", name="Approve").first.click()
    bob.get_by_text(f"Approved: alice has read only access to {PRICING}").first.wait_for()

    # 03 alice is told what she asked, what she has and why; My data shows the shorter end; IAM holds exactly that
    alice = signed_in(browser, app_url, "alice")
    assert day(ends) in alice.inner_text("body")  # My data: the shorter end, in the one date format
    open_page(alice, "Inbox")
    alice.get_by_text(f"Your request for {PRICING} was approved in part").first.wait_for()
    told = alice.locator('[data-testid="stExpander"]').filter(has_text="approved in part").first.inner_text()
    assert (
        f"bob approved less than you asked. You asked for read only access to {PRICING} (/reports, /models) until "
        f"{day(asked_until)}; you have read only access to {PRICING} (/reports) until {day(ends)}." in told
    ), told
    assert f"Why: {WHY}" in told
    shot(alice, "persona-bob-03-alice-told-asked-and-granted")
    alice.context.close()
    with beside_the_app(tmp_path, moto_reset) as gatehouse, as_user(gatehouse, "alice") as role:
        assert role.can("get", PRICING, "reports/prices_q3.csv")
        assert not role.can("get", PRICING, "models/elasticity.parquet")
        assert not role.can("put", PRICING, "reports/mine.csv")

    # 04 Refuse: a tab of its own, with the reason the requester reads (item 8)
    bob.get_by_text("carol asks for").first.wait_for()
    bob.get_by_role("tab", name="Refuse").click()
    refuse = bob.get_by_role("tabpanel", name="Refuse")
    refuse.get_by_role("textbox", name="Reason for refusing").fill("Use the published extract instead.")
    shot(bob, "persona-bob-04-refuses-under-refuse")
    refuse.get_by_role("button", name="Refuse").first.click()
    bob.get_by_text("Refused carol's request; they are told why.").first.wait_for()

    # 05 Granting: a name that is no member is said so; never himself on offer
    bob.get_by_role("tab", name="Manage access").click()
    settled(bob)
    choose(bob, 0, PRICING)
    settled(bob)
    bob.get_by_role("tab", name="Grant access").click()
    settled(bob)
    search = bob.get_by_role("textbox", name="Find platform members")
    search.fill("nobody")
    search.press("Enter")
    bob.get_by_text("No platform member called nobody: the platform team adds members.").first.wait_for()
    shot(bob, "persona-bob-05-no-such-member")
    search.fill("")
    search.press("Enter")
    settled(bob)
    bob.get_by_role("combobox").nth(1).click()  # the members picker
    bob.get_by_role("option", name="alice").first.wait_for()
    assert bob.get_by_role("option", name="bob").count() == 0 and bob.get_by_text("Select all").count() == 0
    bob.keyboard.press("Escape")

    # 06 An address pasted between blank lines is taken (item 9); the form is fresh after the grant (item 13)
    choose(bob, 1, "carol")
    bob.keyboard.press("Escape")
    bob.get_by_role("textbox", name="Paths (optional)").fill(f"\ns3://{PRICING}/models/\n")
    bob.get_by_role("button", name="Grant access").first.click()
    bob.get_by_text("Granted read only access to carol.").first.wait_for()
    settled(bob)
    paths = bob.get_by_role("textbox", name="Paths (optional)")
    assert eventually(bob, lambda: paths.first.input_value() == ""), "the paths stayed after the grant"
    assert "carol" not in bob.locator('[data-testid="stMultiSelect"]').first.inner_text(), "carol stayed chosen"
    shot(bob, "persona-bob-06-fresh-form-after-the-grant")
    bob.get_by_role("button", name="Grant access").first.click()
    bob.get_by_text("Choose at least one user to grant access to.").first.wait_for()

    # 07 Edit or revoke opens on nobody; revoking asks first, saying what her role loses; Cancel changes nothing
    bob.get_by_role("tab", name="Edit or revoke").click()
    bob.get_by_placeholder("Choose whose access to edit or revoke").first.wait_for()
    assert bob.get_by_role("button", name="Revoke access").count() == 0
    shot(bob, "persona-bob-07-edit-or-revoke-opens-on-nobody")
    choose(bob, 1, "carol")
    bob.get_by_role("button", name="Revoke access").first.click()
    dialog = bob.get_by_role("dialog")
    dialog.get_by_text(f"Revoke carol's read only access to {PRICING} (/models)?").first.wait_for()
    dialog.get_by_text(f"carol's role loses read on {PRICING}/models/*").first.wait_for()
    shot(bob, "persona-bob-08-asked-what-revoking-does")
    dialog.get_by_role("button", name="Cancel").first.click()
    assert eventually(bob, lambda: bob.get_by_role("dialog").count() == 0), "Cancel left the dialog open"
    bob.get_by_role("tab", name="Who has access").click()
    bob.get_by_role("cell", name="carol").first.wait_for()  # still there

    bob.get_by_role("tab", name="Edit or revoke").click()
    settled(bob)
    choose(bob, 1, "carol")
    bob.get_by_role("button", name="Revoke access").first.click()
    bob.get_by_role("dialog").get_by_role("button", name="Revoke carol's access").first.click()
    bob.get_by_text(f"Revoked carol's read only access to {PRICING} (/models).").first.wait_for()
    assert eventually(bob, lambda: bob.get_by_role("dialog").count() == 0), "the dialog stayed after revoking"
    shot(bob, "persona-bob-09-revoked-carol")
    bob.get_by_role("tab", name="Who has access").click()
    settled(bob)
    assert "carol" not in bob.locator("table").first.inner_text()
    with beside_the_app(tmp_path, moto_reset) as gatehouse, gatehouse.session() as session:
        carol_told = [n.subject for n in notify.inbox(session, get_user(session, "carol")).items]
    assert f"Your access to {PRICING} was revoked" in carol_told, carol_told
