"""carol, line manager of alice and bob, walks what issue 25 asks of her, in Chromium against one running app, with
a screenshot at each item's telling moment (test-artifacts/persona-carol-*.png):

- Confirmations: she confirms alice's request for the orphaned source, which goes on to the platform team;
- her message about it says where it stands once dave has granted it, and is new again (item 3);
- bob revokes her access: her inbox says so, to her, and My data no longer lists it (item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import actions
from core.domain import AccessLevel
from core.queries import get_user
from core.reads import queues
from tests.browser.conftest import settled
from tests.browser.test_access_stories import NEED, beside_the_app, open_page, shot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]  # one app, many steps
ORPHAN, PRICING = "alpha-legacy-orphan", "alpha-pricing-models"


def test_carol_walks_her_items_of_issue_25(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with beside_the_app(tmp_path, moto_reset) as gatehouse:  # before she comes: alice asks, bob grants her /models
        with gatehouse.session() as session:
            alice_row, bob_row = get_user(session, "alice"), get_user(session, "bob")
        asked = actions.request_access(gatehouse, alice_row, ORPHAN, AccessLevel.READ_ONLY, None, NEED)
        actions.grant_access(gatehouse, bob_row, PRICING, ["carol"], AccessLevel.READ_ONLY, "/models")
        with gatehouse.session() as session:  # what alice reads under My requests
            assert [r.waits_for for r in queues.my_requests(session, alice_row)] == ["your line manager, carol"]

    # 01 Confirmations: she confirms her report's business need; it goes on to the platform team
    carol = signed_in(browser, app_url, "carol")
    carol.get_by_role("strong").filter(has_text=PRICING).first.wait_for()  # hers, on My data
    open_page(carol, "Confirmations")
    carol.get_by_text(NEED).first.wait_for()
    shot(carol, "persona-carol-01-confirmations")
    carol.get_by_role("button", name="Confirm the business need").click()
    carol.get_by_text("now goes to the platform team").first.wait_for()

    # 02 dave grants it: her message about the request says where it stands now, new again
    with beside_the_app(tmp_path, moto_reset) as gatehouse:
        with gatehouse.session() as session:
            dave_row = get_user(session, "dave")
        actions.approve_request(gatehouse, dave_row, asked.id)
    open_page(carol, "Inbox")
    carol.get_by_text("Approved by dave", exact=True).first.wait_for()
    assert carol.get_by_text("Waiting for the line manager's confirmation", exact=True).count() == 0
    shot(carol, "persona-carol-02-told-where-the-request-stands")

    # 03 bob revokes her access: she is told, as "you"; My data no longer lists it as hers
    with beside_the_app(tmp_path, moto_reset) as gatehouse:
        actions.revoke_access(gatehouse, bob_row, PRICING, "carol")
    open_page(carol, "My data")
    open_page(carol, "Inbox")
    carol.get_by_text(f"Your access to {PRICING} was revoked").first.wait_for()
    carol.get_by_text(f"bob revoked your access to {PRICING}.").first.wait_for()
    shot(carol, "persona-carol-03-told-of-the-revoke")
    open_page(carol, "My data")
    settled(carol)
    assert carol.get_by_role("strong").filter(has_text=PRICING).count() == 0
    assert "Traceback" not in carol.inner_text("body")
