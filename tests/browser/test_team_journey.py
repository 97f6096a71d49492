"""Teams hold access (issue #28), in Chromium against one running app, with a screenshot at each telling moment
(test-artifacts/team-journey-*.png):

- dave (platform team) makes the prisons team with carol in it (Platform → Users);
- bob grants it read only on /published of a source he administers, picking it with its member count, and reads it
  in Who has access as one row with its members;
- carol sees it on My data "through the prisons team" and reads /published through boto3 as her role, nothing else;
- dave joins the team and reads at once; carol is taken out and no longer reads;
- bob makes the team admin of the source; dave marks bob, its last named admin, as having left: the dialog names
  what bob's leaving orphans, and the team's source is not among it; dave administers it through the team."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.aws_helpers import as_user
from tests.browser.conftest import settled
from tests.browser.test_access_stories import beside_the_app, choose, open_page, shot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]  # one app, many steps
SALES, PRICING = "alpha-sales-analysis", "alpha-pricing-models"  # bob administers both, alone
PUBLISHED, DRAFT = "published/sales_2025.csv", "drafts/sales_2026.csv"


def radio(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Choose an option of the radio group labelled `label`."""
    page.locator('[data-testid="stRadio"]', has_text=label).first.get_by_text(option, exact=True).first.click()
    settled(page)


def team_members(dave, add: str = "", remove: str = "", make: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Platform → Users → Teams' access: make the prisons team, or change who is in it."""
    form = dave.locator('[data-testid="stForm"]', has_text="Make a team, or change who is in it").first
    settled(dave)
    if not form.is_visible():  # the expander closed over the run that said what was done
        dave.get_by_text("Teams' access: what each team holds").first.click()
    form.get_by_role("textbox", name="Team name").fill("prisons")
    form.get_by_role("textbox", name="Add members (usernames, separated by spaces or commas)").fill(add)
    form.get_by_role("textbox", name="Take out members (usernames)").fill(remove)
    form.get_by_role("button", name="Make the team" if make else "Change its members").click()


def test_a_team_holds_access_and_keeps_its_source_administered(  # type: ignore[no-untyped-def]
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:
    # 1 dave makes the prisons team, carol in it
    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    dave.get_by_role("tab", name="Users").click()
    settled(dave)
    dave.get_by_text("Teams' access: what each team holds").first.click()
    team_members(dave, add="carol", make=True)
    dave.get_by_text("Made the prisons team (1 member).").first.wait_for()
    shot(dave, "team-journey-1-dave-makes-the-prisons-team")

    # 2 bob grants it read only on /published, picked with its member count; Who has access lists it once
    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Admin")
    bob.get_by_role("tab", name="Manage access").click()
    settled(bob)
    choose(bob, 0, SALES)
    settled(bob)
    bob.get_by_role("tab", name="Grant access").click()
    settled(bob)
    radio(bob, "Grant to", "A team")
    choose(bob, 1, "prisons (1 member)")
    bob.get_by_role("textbox", name="Paths (optional)").fill("/published")
    bob.get_by_role("button", name="Grant access to the team").click()
    bob.get_by_text("Granted read only access to the prisons team: its 1 member have it").first.wait_for()
    bob.get_by_role("tab", name="Who has access").click()
    row = bob.get_by_role("row").filter(has_text="prisons").first
    row.first.wait_for()
    cells = [c.strip() for c in row.inner_text().split("\t")]
    assert cells[:5] == ["prisons", "Read only", "/published", "", "1 member"], cells
    bob.get_by_text("The prisons team's members (1)").first.click()
    bob.get_by_text("carol", exact=True).first.wait_for()
    shot(bob, "team-journey-2-bob-grants-the-team-and-reads-it-once")

    # 3 carol reads it on My data, through the team, and in S3 as her role: /published, nothing else
    carol = signed_in(browser, app_url, "carol")
    carol.get_by_text("Read only, through the prisons team").first.wait_for()
    shot(carol, "team-journey-3-carol-through-the-prisons-team")
    carol.context.close()
    with beside_the_app(tmp_path, moto_reset) as gatehouse:
        with as_user(gatehouse, "carol") as role:
            assert role.can("get", SALES, PUBLISHED) and not role.can("get", SALES, DRAFT)

        # 4 dave joins: he reads at once; carol is taken out: she no longer does
        team_members(dave, add="dave")
        dave.get_by_text("The prisons team: carol, dave.").first.wait_for()
        with as_user(gatehouse, "dave") as role:
            assert role.can("get", SALES, PUBLISHED)
        team_members(dave, remove="carol")
        dave.get_by_text("The prisons team: dave.").first.wait_for()
        with as_user(gatehouse, "carol") as role:
            assert not role.can("get", SALES, PUBLISHED)
        shot(dave, "team-journey-4-carol-taken-out")

    # 5 bob makes the team admin of the source (the whole of it)
    bob.get_by_role("tab", name="Edit or revoke").click()
    settled(bob)
    radio(bob, "Edit or revoke the access of", "A team")
    choose(bob, 1, "prisons")
    settled(bob)
    choose(bob, 2, "Admin")
    bob.get_by_role("textbox", name="Paths", exact=True).fill("")
    bob.get_by_role("button", name="Save").click()
    bob.get_by_text("Saved the prisons team's access.").first.wait_for()
    shot(bob, "team-journey-5-the-team-administers-the-source")

    # 6 bob, its last named admin, leaves: what he orphans is his other source, never the team's
    dave.get_by_role("textbox", name="Username", exact=True).last.fill("bob")
    dave.get_by_role("button", name="Mark as left…").click()
    dialog = dave.get_by_role("dialog")
    dialog.get_by_text("Mark bob as having left?").first.wait_for()
    said = dialog.inner_text()
    assert f"Orphaned, as they are its only admin: {PRICING}." in said, said
    shot(dave, "team-journey-6-bob-leaves-the-team-source-is-not-orphaned")
    dialog.get_by_role("button", name="Mark bob as left").click()
    dave.get_by_text("bob is marked as having left").first.wait_for()
    open_page(dave, "Admin")  # dave administers it through the team
    dave.get_by_role("tab", name="Manage access").click()
    settled(dave)
    choose(dave, 0, SALES)  # beside the source dave administers himself
    row = dave.get_by_role("row").filter(has_text="prisons").first
    row.first.wait_for()
    assert [c.strip() for c in row.inner_text().split("\t")][:3] == ["prisons", "Admin", "whole bucket"], row
    shot(dave, "team-journey-7-dave-administers-it-through-the-team")
