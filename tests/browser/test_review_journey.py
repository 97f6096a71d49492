"""An access review in Chromium against the running app, with screenshots (issue #17): dave starts a campaign of
alpha-sales-analysis → bob keeps one grant, lowers one, revokes one → alice answers "no longer needed" → the due date
passes with one grant unreviewed (bob's own: nobody reviews their own) → the report shows all of it; IAM follows."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from core import actions
from core.actor import platform_operator
from core.adapters.models import utcnow
from core.config import Settings
from core.domain import AccessLevel, day
from core.queries import get_user
from core.startup import start
from tests.aws_helpers import as_user
from tests.browser.conftest import download, tries
from tests.browser.test_access_stories import choose, open_page, settled, shot, signed_in

pytestmark = pytest.mark.browser
SALES = "alpha-sales-analysis"


def open_tab(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name=name).click()
    settled(page)


def review(page, option: str, button: str, said: str, level: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Choose one grant in the Review box and click Keep; or Change… (then a lower level) or Revoke…, then `button`."""
    choose(page, 1, option)
    settled(page)
    if button != "Keep":
        click_until(page, "Change…" if level else "Revoke…", page.get_by_role("button", name=button, exact=True))
    if level:
        choose(page, 2, level)
    count = page.get_by_text(re.compile(r"^\d+ of \d+ reviewed$")).first.inner_text()
    # Clicked again only while no grant was reviewed since: Keep is also the next grant's button
    click_until(page, button, page.get_by_text(said), unchanged=page.get_by_text(count, exact=True))
    settled(page)


def click_until(page, button: str, shown, unchanged=None) -> None:  # type: ignore[no-untyped-def]
    """Click `button` until `shown` appears: on a loaded machine a rerun still drawing can swallow a click, which
    then changes nothing. Clicked again only if the button is still there and `unchanged` still shows (a click that
    acted late is never doubled)."""
    for attempt, wait in enumerate(tries(3)):
        page.get_by_role("button", name=button, exact=True).click()
        try:
            shown.first.wait_for(timeout=wait)
            return
        except Exception:
            settled(page)
            if shown.count() > 0:
                return
            again = page.get_by_role("button", name=button, exact=True).count() > 0
            if attempt == 2 or not again or (unchanged is not None and unchanged.count() == 0):
                raise


def test_dave_starts_bob_reviews_alice_answers_the_due_date_passes(
    app_url: str, browser, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    gatehouse = start(Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    with gatehouse.session() as session:
        bob_user = get_user(session, "bob")
    actions.grant_access(gatehouse, bob_user, SALES, ["alice"], AccessLevel.READ_WRITE, "/drafts")
    actions.grant_access(gatehouse, bob_user, SALES, ["carol"], AccessLevel.READ_WRITE)
    actions.grant_access(gatehouse, bob_user, SALES, ["dave"], AccessLevel.READ_ONLY, "/published")

    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    open_tab(dave, "Reviews")
    choose(dave, 0, SALES)
    dave.keyboard.press("Escape")
    dave.get_by_role("button", name="Start review").click()
    dave.get_by_text(
        f"Started the access review due {day(utcnow().date() + timedelta(days=28))}: 5 grants of 4 people."
    ).first.wait_for()
    shot(dave, "review-1-dave-started")

    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Admin")
    open_tab(bob, "Review access")
    bob.get_by_text("0 of 4 reviewed").first.wait_for()
    shot(bob, "review-2-bob-to-review")
    review(bob, f"dave: read only on /published of {SALES}", "Keep", "Kept dave's access.")
    review(bob, f"carol: read/write on whole bucket of {SALES}", "Save change", "Lowered carol's access.", "Read only")
    review(bob, f"alice: read/write on /drafts of {SALES}", "Revoke alice's access", "Revoked alice's access.")
    bob.get_by_text("3 of 4 reviewed").first.wait_for()
    shot(bob, "review-3-bob-reviewed")

    alice = signed_in(browser, app_url, "alice")
    open_page(alice, "Inbox")
    alice.get_by_role("heading", name="Do you still need this access?").first.wait_for()
    shot(alice, "review-4-alice-asked")
    alice.get_by_role("button", name="No longer needed").click()
    alice.get_by_role("button", name="End my access").first.click()  # the dialog says what it ends, then acts
    alice.get_by_text(f"Your access to {SALES} is revoked.").first.wait_for()

    due = utcnow().date() + timedelta(days=29)  # the form's due date is four weeks away: the next day has come
    ran = actions.run_reviews(gatehouse, platform_operator("scheduler"), today=due)
    assert ran.flagged == 1  # bob's own admin grant: nobody but the platform team could review it, and nobody did

    open_page(dave, "My data")
    open_page(dave, "Platform")
    open_tab(dave, "Reviews")
    dave.get_by_text("4 of 5 reviewed · 1 overdue").first.wait_for()
    dave.get_by_text("Overdue: 1 access review").first.wait_for()
    report = download(dave, dave.get_by_role("button", name="Download the report (CSV)"))
    rows = list(csv.DictReader(io.StringIO(Path(report.path()).read_text())))
    shot(dave, "review-5-dave-report")
    decided = {(r["holder"], r["paths"]): (r["decision"], r["decided_by"], r["level_after"], r["aws"]) for r in rows}
    assert decided == {
        ("dave", "/published"): ("Kept", "bob", "Read only", "no change"),
        ("carol", "whole bucket"): ("Lowered", "bob", "Read only", "applied in AWS"),
        ("alice", "/drafts"): ("Revoked", "bob", "none", "applied in AWS"),
        ("alice", "/published"): ("Revoked", "alice", "none", "applied in AWS"),
        ("bob", "whole bucket"): ("Overdue: not reviewed in time", "system", "", ""),
    }
    assert "Traceback" not in dave.inner_text("body")

    gatehouse.aws.put_object(SALES, "published/review.csv", b"a\n1\n")
    with as_user(gatehouse, "carol") as role:
        assert role.can("get", SALES, "published/review.csv") and not role.can("put", SALES, "drafts/x.csv")
    with as_user(gatehouse, "alice") as role:
        assert not role.can("get", SALES, "published/review.csv") and not role.can("put", SALES, "drafts/x.csv")
    with as_user(gatehouse, "dave") as role:
        assert role.can("get", SALES, "published/review.csv")
