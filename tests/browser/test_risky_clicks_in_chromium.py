"""Risky clicks and deciding in Chromium (issue 25, items 8 and 13), with screenshots: bob grants carol and finds
the grant form fresh (a second click grants nothing again), opens Edit or revoke on nobody, and revokes carol's
access only from the dialog that says what her role loses (Cancel in it changes nothing); deciding alice's request,
he reads what is wrong in his terms beside the field, and the reason to refuse is asked under Refuse alone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import eventually, settled
from tests.browser.test_access_stories import ask, choose, open_page, shot, signed_in

pytestmark = pytest.mark.browser
PRICING = "alpha-pricing-models"


def test_bob_grants_finds_a_fresh_form_and_revokes_through_the_dialog(app_url: str, browser, moto_reset: str) -> None:  # type: ignore[no-untyped-def]
    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Admin")
    bob.get_by_role("tab", name="Manage access").click()
    settled(bob)
    choose(bob, 0, PRICING)
    settled(bob)
    bob.get_by_role("tab", name="Grant access").click()
    settled(bob)
    choose(bob, 1, "carol")  # the members picker
    bob.keyboard.press("Escape")
    paths = bob.get_by_role("textbox", name="Paths (optional)")
    paths.fill("\ns3://alpha-pricing-models/models/\n")  # pasted from the console, with blank lines around it
    shot(bob, "risky-1-bob-grants-carol")
    bob.get_by_role("button", name="Grant access").first.click()
    bob.get_by_text("Granted read only access to carol.").first.wait_for()
    settled(bob)
    paths = bob.get_by_role("textbox", name="Paths (optional)")
    assert eventually(bob, lambda: paths.first.input_value() == ""), "the paths stayed after the grant"
    picker = bob.locator('[data-testid="stMultiSelect"]').first
    assert "carol" not in picker.inner_text(), "carol stayed chosen after the grant"
    shot(bob, "risky-2-bob-finds-a-fresh-grant-form")
    bob.get_by_role("button", name="Grant access").first.click()
    bob.get_by_text("Choose at least one user to grant access to.").first.wait_for()

    bob.get_by_role("tab", name="Edit or revoke").click()
    bob.get_by_placeholder("Choose whose access to edit or revoke").first.wait_for()  # nobody chosen, not bob
    assert bob.get_by_role("button", name="Revoke access").count() == 0
    shot(bob, "risky-3-bob-edit-or-revoke-opens-on-nobody")
    choose(bob, 1, "carol")
    bob.get_by_role("button", name="Revoke access").first.click()
    dialog = bob.get_by_role("dialog")
    dialog.get_by_text(f"Revoke carol's read only access to {PRICING} (/models)?").first.wait_for()
    dialog.get_by_text(f"carol's role loses read on {PRICING}/models/*").first.wait_for()
    shot(bob, "risky-4-bob-is-asked-what-revoking-does")
    dialog.get_by_role("button", name="Cancel").first.click()
    assert eventually(bob, lambda: bob.get_by_role("dialog").count() == 0), "Cancel left the dialog open"
    bob.get_by_role("tab", name="Who has access").click()
    bob.get_by_role("cell", name="carol").first.wait_for()  # still there

    bob.get_by_role("tab", name="Edit or revoke").click()
    settled(bob)
    choose(bob, 1, "carol")
    bob.get_by_role("button", name="Revoke access").first.click()
    dialog = bob.get_by_role("dialog")
    dialog.get_by_role("button", name="Revoke carol's access").first.click()
    bob.get_by_text(f"Revoked carol's read only access to {PRICING} (/models).").first.wait_for()
    assert eventually(bob, lambda: bob.get_by_role("dialog").count() == 0), "the dialog stayed after revoking"
    shot(bob, "risky-5-bob-revoked-carol")
    bob.get_by_role("tab", name="Who has access").click()
    settled(bob)
    assert "carol" not in bob.locator("table").first.inner_text()


def test_bob_reads_what_is_wrong_beside_each_term_and_refuses_under_refuse(
    app_url: str, browser, moto_reset: str
) -> None:  # type: ignore[no-untyped-def]
    alice = signed_in(browser, app_url, "alice")
    ask(alice, app_url, PRICING, "/reports")

    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Admin")
    approve = bob.get_by_role("tabpanel", name="Approve")
    approve.get_by_text(f"alice's role gains read on {PRICING}/reports/*").first.wait_for()
    assert approve.get_by_text("Reason for refusing").count() == 0  # the refusal's reason is Refuse's alone
    paths = approve.get_by_role("textbox", name="On paths")
    paths.fill("/reports\n\n/models")
    approve.get_by_role("textbox", name="Reason (optional)").click()  # a click elsewhere sends the field
    refusal = "You can grant only paths within those asked for (/reports): remove the others or narrow them."
    approve.get_by_text(refusal).first.wait_for()  # beside the field, before Approve
    shot(bob, "risky-6-bob-reads-what-is-wrong-beside-the-paths")
    approve.get_by_role("button", name="Approve").first.click()
    settled(bob)
    approve.get_by_text(refusal).first.wait_for()
    assert bob.get_by_text("Approved:").count() == 0

    bob.get_by_role("tab", name="Refuse").click()
    refuse = bob.get_by_role("tabpanel", name="Refuse")
    refuse.get_by_role("textbox", name="Reason for refusing").fill("Use the published extract instead.")
    shot(bob, "risky-7-bob-refuses-under-refuse")
    refuse.get_by_role("button", name="Refuse").first.click()
    bob.get_by_text("Refused alice's request; they are told why.").first.wait_for()
