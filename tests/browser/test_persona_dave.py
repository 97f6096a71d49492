"""dave, of the platform team, walks every item of issue 25 that is his, in Chromium against one running app, with
a screenshot at each item's telling moment (test-artifacts/persona-dave-*.png):

- Platform → Requests: the request carol confirmed, granted as asked; IAM follows;
- Users → Someone has left (item 13): no username is one sentence, no dialog; a username opens the dialog naming
  what they lose and what is orphaned; a browser still signed in as the leaver is told they have left (item 7);
- the leaver's grants read as revoked, when and by whom, in Who has access (item 5);
- AWS sync (item 6): no "applied" banner before a check; drift stated as drift, each role saying what differs;
  Repair saying what it changed;
- the audit trail (items 7 and 16): refused sign-ins are on it (hidden with the sign-ins until asked for), a long
  summary wraps, one event in full, and the CSV export of what the filters show.
(Adding a member and their sign-in link are the joiner's journey, test_persona_frank.py.)"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from sqlmodel import select

from core import actions as act
from core import audit, auth
from core.adapters.models import AuditEvent
from core.domain import AccessLevel
from core.queries import get_user
from core.seed import DEMO_PASSWORD
from tests.aws_helpers import as_user
from tests.browser.conftest import download, eventually, settled, sign_in_with_password, tries
from tests.browser.test_access_stories import NEED, beside_the_app, choose, confirmed, open_page, shot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]  # one app, many steps
ORPHAN, INTAKE = "alpha-legacy-orphan", "alpha-de-raw-intake"
LONG = "alice uploaded " + "/".join(["quarterly-reports"] * 6) + "/summary.csv in alpha-shared-workspace"


def events_counted(page) -> int:  # type: ignore[no-untyped-def]
    caption = page.get_by_text(re.compile(r"^[\d,]+ events?, newest first ·")).first
    caption.first.wait_for()
    return int(caption.inner_text().split()[0].replace(",", ""))


def filter_by(page, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    field = page.get_by_role("textbox", name=name)
    field.fill(value)
    field.press("Enter")
    settled(page)


def refused_sign_in(browser, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    """A sign-in with the right password that is refused, as its would-be user meets it."""
    page = browser.new_context().new_page()
    page.goto(url)
    page.get_by_role("textbox", name="Username").first.wait_for()
    settled(page)
    for attempt, wait in enumerate(tries(3)):
        page.get_by_role("textbox", name="Username").fill(username)
        page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        try:
            page.get_by_text(auth.LEFT_THE_PLATFORM).first.wait_for(timeout=wait)
            break
        except Exception:
            if attempt == 2:
                raise
            settled(page)
    page.context.close()


def test_dave_walks_his_items_of_issue_25(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with beside_the_app(tmp_path, moto_reset) as gatehouse:  # before he comes
        with gatehouse.session() as session:
            alice_row, carol_row, dave_row = (get_user(session, name) for name in ("alice", "carol", "dave"))
        asked = act.request_access(gatehouse, alice_row, ORPHAN, AccessLevel.READ_ONLY, None, NEED)
        act.confirm_request(gatehouse, carol_row, asked.id)
        act.grant_access(gatehouse, dave_row, INTAKE, ["bob"], AccessLevel.READ_ONLY)
        with gatehouse.session() as session:
            audit.record(session, "alice", "data-uploaded", LONG)
    bob = browser.new_context(viewport={"width": 1400, "height": 1000})  # bob is signed in, in a browser of his
    sign_in_with_password(bob.new_page(), app_url, "bob", DEMO_PASSWORD)
    refused_sign_in(browser, app_url, "erin")  # erin, who has left, tries her right password

    # 01 Requests: what carol confirmed, granted as asked
    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    dave.get_by_text("Confirmed by the requester's line manager.").first.wait_for()
    shot(dave, "persona-dave-01-a-confirmed-request")
    dave.get_by_role("button", name="Grant as asked").click()
    dave.get_by_text("Granted to alice.").first.wait_for()
    with beside_the_app(tmp_path, moto_reset) as gatehouse, as_user(gatehouse, "alice") as role:
        assert role.can("get", ORPHAN, "archive/legacy_2019.csv")

    # 02 Someone has left: no username is one sentence; a username, the dialog naming what happens (item 13)
    dave.get_by_role("tab", name="Users").click()
    settled(dave)
    dave.get_by_role("button", name="Mark as left…").click()
    dave.get_by_text("Type the username of the person who has left.").first.wait_for()
    assert dave.get_by_role("dialog").count() == 0
    dave.get_by_role("textbox", name="Username", exact=True).last.fill("bob")
    dave.get_by_role("button", name="Mark as left…").click()
    dialog = dave.get_by_role("dialog")
    dialog.get_by_text("Mark bob as having left?").first.wait_for()
    said = dialog.inner_text()
    assert f"{INTAKE}" in said and "alpha-pricing-models, alpha-sales-analysis" in said, said  # loses, orphaned
    shot(dave, "persona-dave-02-leaver-dialog")
    dialog.get_by_role("button", name="Mark bob as left").click()
    dave.get_by_text("bob is marked as having left; all their access is revoked in AWS.").first.wait_for()
    assert eventually(dave, lambda: dave.get_by_role("dialog").count() == 0), "the dialog stayed"
    users = dave.locator('[data-testid="stDataFrame"]').last
    users.get_by_text(re.compile("^Revoked on .*: marked as having left by dave$")).first.wait_for(state="attached")
    shot(dave, "persona-dave-03-bob-has-left")

    # 04 bob's browser, still signed in, is told he has left (item 7)
    again = bob.new_page()
    again.goto(app_url)
    again.get_by_text(auth.LEFT_THE_PLATFORM).first.wait_for()
    settled(again)
    assert "My data" not in again.inner_text("body")
    shot(again, "persona-dave-04-bob-told-he-has-left")
    bob.close()

    # 05 His grants read as revoked, when and by whom (item 5)
    open_page(dave, "Admin")
    dave.get_by_role("tab", name="Manage access").click()
    settled(dave)
    choose(dave, 0, INTAKE)
    settled(dave)
    row = dave.get_by_role("row").filter(has_text="bob (left)").first
    row.first.wait_for()
    assert re.search(r"Revoked on .*: marked as having left by dave", row.inner_text()), row.inner_text()
    assert "Applied in AWS" not in row.inner_text()
    shot(dave, "persona-dave-05-leavers-grant-revoked")

    # 06 AWS sync: no "applied" banner unchecked; drift stated as drift, role by role; Repair says what it did
    with beside_the_app(tmp_path, moto_reset) as gatehouse:  # someone edits alice's role in IAM, outside Gatehouse
        iam = gatehouse.aws.iam
        document = iam.get_role_policy(RoleName="alpha_user_alice", PolicyName="s3-access")["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        document["Statement"].append(
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::alpha-secret-x/*"}
        )
        iam.put_role_policy(RoleName="alpha_user_alice", PolicyName="s3-access", PolicyDocument=json.dumps(document))
    open_page(dave, "Platform")
    dave.get_by_role("tab", name="AWS sync").click()
    dave.get_by_role("button", name="Check for drift").first.wait_for()
    settled(dave)
    assert dave.get_by_text("Every role's policies are applied in AWS", exact=False).count() == 0
    dave.get_by_role("button", name="Check for drift").click()
    dave.get_by_text(re.compile(r"^Drifted: \d+ roles?, where IAM differs from Gatehouse\.$")).first.wait_for()
    table = dave.locator('[data-testid="stDataFrame"]').last
    table.get_by_text(
        "IAM has read (GetObject) on alpha-secret-x/* that Gatehouse did not grant", exact=True
    ).first.wait_for(state="attached")
    assert dave.get_by_text("Every role's policies are applied in AWS", exact=False).count() == 0
    shot(dave, "persona-dave-06-drift-stated-as-drift")
    dave.get_by_role("button", name="Repair drift").click()
    confirmed(dave, "Repaired alpha_user_alice: took away read (GetObject) on alpha-secret-x/*.")
    dave.get_by_text("No drift: AWS matches the database.").first.wait_for()
    shot(dave, "persona-dave-07-repair-says-what-it-changed")

    # 08 The audit trail: refused sign-ins are on it (item 7), shown with the routine sign-ins hidden
    dave.get_by_role("tab", name="Audit trail").click()
    dave.locator('[data-testid="stDataFrame"]').first.wait_for()
    settled(dave)
    filter_by(dave, "Text in the summary", "could not sign in")
    dave.get_by_text("erin has left and could not sign in", exact=True).first.wait_for(state="attached")
    dave.get_by_text("bob has left and could not sign in", exact=True).first.wait_for(state="attached")
    shot(dave, "persona-dave-08-refused-sign-ins-on-record")
    filter_by(dave, "Text in the summary", "quarterly-reports")
    dave.get_by_text(LONG, exact=True).first.wait_for(state="attached")  # the grid's cell, whole: it wraps
    shot(dave, "persona-dave-09-long-summary-wraps")

    # 10 His own events: sign-ins hidden until asked for; the export is what the filters show, oldest first
    filter_by(dave, "Text in the summary", "")
    filter_by(dave, "Actor", "dave")
    with beside_the_app(tmp_path, moto_reset) as gatehouse, gatehouse.session() as session:
        his = list(session.exec(select(AuditEvent.action).where(AuditEvent.actor == "dave")))
    without = len([action for action in his if action not in ("sign-in", "sign-out")])
    assert without < len(his)  # his sign-in
    assert eventually(dave, lambda: events_counted(dave) == without), events_counted(dave)
    dave.get_by_text("Show sign-ins").click()
    assert eventually(dave, lambda: events_counted(dave) == len(his)), events_counted(dave)  # there all along
    dave.get_by_text("click a row to read the event in full").first.wait_for()
    file = download(dave, dave.get_by_role("button", name="Download CSV"))
    assert file.suggested_filename == "gatehouse-audit.csv"
    saved = tmp_path / "audit.csv"
    file.save_as(saved)
    with saved.open(newline="") as opened:
        rows = list(csv.DictReader(opened))
    assert rows and {row["actor"] for row in rows} == {"dave"}
    assert any(row["action"] == "sign-in" and row["summary"] == "dave signed in" for row in rows)
    assert any(row["action"] == "user-left" for row in rows), {row["action"] for row in rows}
    assert [row["at"] for row in rows] == sorted(row["at"] for row in rows)
    shot(dave, "persona-dave-10-audit-export")
