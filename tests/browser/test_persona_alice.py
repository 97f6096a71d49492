"""alice, an analyst, walks every item of issue 25 that is hers, in Chromium against one running app, with a
screenshot at each item's telling moment (test-artifacts/persona-alice-*.png):

- My data: her sources applied in AWS, the others with their admins; nothing loaded from the internet (#16);
- New data source on My data (item 12): a name taken is said in the dialog, a source made closes it;
- a row of Other data sources opens Request access with it; a blank line and a pasted s3:// address are taken
  (item 9); the form is fresh after (9999-12-31 refused at the field, item 1, is AppTest's: tests/app/test_dates.py);
- with two sources she only reads, Upload asks which one to ask read/write on (item 14); she withdraws that
  request and bob's inbox says it is withdrawn (item 3);
- Upload's folder is checked as typed (item 14), a form is used again in one click;
- Browse (item 10): folders and files open by clicking rows, a one-line breadcrumb, a file's tabs in one short
  panel; preview, and download after a form that starts from her upload's answers;
- Versions: she restores what she overwrote with no form (item 11).
(Signing out is test_my_data_in_chromium.py's.)"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlmodel import select

from core import actions
from core.adapters.models import AccessRequest, AuditEvent, MovementKind
from core.queries import get_user
from core.seed import DEMO_PASSWORD
from tests.browser.conftest import click_row, download, eventually, settled, sign_in_with_password
from tests.browser.test_access_stories import (
    CSV,
    NEED,
    beside_the_app,
    choose,
    complete_form,
    confirmed,
    in_table,
    main_height,
    open_page,
    open_row,
    shot,
    signed_in,
)
from tests.integration.test_movement import form

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]  # one app, many steps
PRICING, SALES, WORKSPACE = "alpha-pricing-models", "alpha-sales-analysis", "alpha-shared-workspace"
OUTSIDE = ("fonts.gstatic.com", "fonts.googleapis.com", "googleapis.com", "gstatic.com")
FIRST, SECOND = b"item,price\napple,1\n", b"item,price\napple,999\n"  # history/prices.csv, overwritten by mistake


def chosen(page, nth: int = 0) -> str:  # type: ignore[no-untyped-def]
    """What the nth select box shows as chosen."""
    box = page.locator('[data-testid="stSelectbox"]').nth(nth)
    field = box.locator("input")
    return field.first.input_value() if field.count() and field.first.input_value() else box.inner_text().strip()


def audit_actions(data_dir: Path, moto: str) -> list[str]:
    with beside_the_app(data_dir, moto) as gatehouse, gatehouse.session() as session:
        return list(session.exec(select(AuditEvent.action)))


def test_alice_walks_her_items_of_issue_25(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with beside_the_app(tmp_path, moto_reset) as gatehouse:  # what was there before she came
        gatehouse.aws.put_object(WORKSPACE, "top.csv", b"item,price\napple,1\n")  # a file at the bucket's root
        with gatehouse.session() as session:
            alice_row = get_user(session, "alice")
        for body, overwrite in ((FIRST, False), (SECOND, True)):
            form_id = actions.record_movement(gatehouse, alice_row, MovementKind.UPLOAD, form(), WORKSPACE)
            actions.upload(
                gatehouse, alice_row, form_id, WORKSPACE, "history/prices.csv", io.BytesIO(body), len(body), overwrite
            )

    # 01 My data: her sources, applied; the others with whom they depend on; nothing from the internet
    alice = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    seen: list[str] = []
    alice.on("request", lambda request: seen.append(request.url))  # from the first load of the page on
    sign_in_with_password(alice, app_url, "alice", DEMO_PASSWORD)
    settled(alice)
    orphaned = alice.locator('[data-testid="stDataFrame"]').get_by_text("none left (orphaned)")
    orphaned.first.wait_for(state="attached")
    settled(alice)
    body = alice.inner_text("body")
    assert "/published" in body and "Read only" in body and "Read/write" in body and "Applied in AWS" in body
    assert "AWS console" in body and "applied\t" not in body and orphaned.count() == 1
    assert alice.locator('[data-testid="stDataFrame"]').get_by_text(PRICING).count() == 1  # among the others
    assert "alpha-de-raw-intake" not in body and "Traceback" not in body  # hidden from her
    links = alice.get_by_role("link", name="Open on AWS")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    assert any(f"/buckets/{SALES}?" in h for h in hrefs) and any(f"/buckets/{WORKSPACE}?" in h for h in hrefs)
    assert not any(PRICING in h for h in hrefs)
    shot(alice, "persona-alice-01-my-data", settle=False)

    # 02 New data source, where she looks for her sources (item 12): refused in the dialog, then made
    alice.get_by_role("button", name="New data source").click()
    dialog = alice.get_by_role("dialog")
    dialog.get_by_role("button", name="Create data source").first.wait_for()
    settled(alice)
    assert dialog.get_by_role("button", name="Ask the platform team").count() == 1
    dialog.get_by_role("textbox", name="Name").first.fill(SALES)
    dialog.get_by_role("button", name="Create data source").click()
    dialog.get_by_text("already exists").first.wait_for()
    shot(alice, "persona-alice-02-new-source-refused-in-the-dialog")
    dialog.get_by_role("textbox", name="Name").first.fill("alpha-alice-notes")
    dialog.get_by_role("button", name="Create data source").click()
    alice.get_by_text("alpha-alice-notes is created; you are its admin.").first.wait_for()
    settled(alice)
    assert alice.get_by_role("dialog").count() == 0
    assert alice.get_by_role("strong").filter(has_text="alpha-alice-notes").count() == 1
    shot(alice, "persona-alice-03-new-source-made", settle=False)

    # 04 A row of Other data sources opens Request access with it (sorted: court-dashboard-data, legacy-orphan, …)
    others = alice.locator('[data-testid="stDataFrame"]').last
    row = others.locator("tr", has=alice.get_by_text(PRICING, exact=True)).first
    row.first.wait_for(state="attached")
    click_row(alice, others, int(row.get_attribute("aria-rowindex") or 0) - 2)
    alice.get_by_role("heading", name="Request access").first.wait_for()
    settled(alice)
    assert eventually(alice, lambda: chosen(alice) == PRICING), chosen(alice)
    # A blank line and an address pasted from the console are taken (item 9)
    alice.get_by_role("textbox", name="Paths (optional)").fill(f"/reports/\n\ns3://{PRICING}/models\n")
    alice.get_by_role("textbox", name="Business need").fill(NEED)
    alice.get_by_role("button", name="Send request").click()
    alice.get_by_text(f"Request sent for {PRICING}: it waits for an admin of the source: bob").first.wait_for()
    settled(alice)
    assert alice.get_by_role("textbox", name="Business need").input_value() == ""  # a fresh form: not sent twice
    assert alice.get_by_role("textbox", name="Paths (optional)").input_value() == ""
    shot(alice, "persona-alice-04-request-sent-fresh-form", settle=False)
    with beside_the_app(tmp_path, moto_reset) as gatehouse, gatehouse.session() as session:
        sent = session.exec(select(AccessRequest).where(AccessRequest.requester_id == alice_row.id)).all()
        assert [r.paths for r in sent] == [("/reports", "/models")]  # one, as she meant it
        bob_row = get_user(session, "bob")
    with beside_the_app(tmp_path, moto_reset) as gatehouse:  # bob approves it meanwhile: she reads two sources
        actions.approve_request(gatehouse, bob_row, sent[0].id)

    # 06 Upload names the sources she only reads and asks which one to ask read/write on (item 14)
    open_page(alice, "Upload")
    alice.get_by_text(f"Not listed because you can only read them: {PRICING}, {SALES}.").first.wait_for()
    assert alice.get_by_placeholder("Choose a data source you read").count() == 1  # none picked for her
    choose(alice, 1, SALES)  # "Ask for read/write on", after the upload's own source
    alice.get_by_role("button", name=f"Request read/write on {SALES}").first.wait_for()
    shot(alice, "persona-alice-06-upload-asks-which-source")
    alice.get_by_role("button", name=f"Request read/write on {SALES}").click()
    alice.get_by_role("heading", name="Request access").first.wait_for()
    settled(alice)
    assert eventually(alice, lambda: chosen(alice) == SALES), chosen(alice)
    assert alice.get_by_role("radio", name="Read/write").is_checked()
    assert alice.get_by_role("textbox", name="Paths (optional)").input_value() == "/published"  # what she reads
    alice.get_by_role("textbox", name="Business need").fill(NEED)
    alice.get_by_role("button", name="Send request").click()
    alice.get_by_text(f"Request sent for {SALES}").first.wait_for()

    # 07 She withdraws it; bob's inbox says so where it stands (item 3)
    alice.get_by_role("tab", name="My requests").click()
    alice.get_by_text("/reports, /models · asked", exact=False).first.wait_for()
    settled(alice)
    alice.get_by_role("button", name="Withdraw").first.click()
    confirmed(alice, re.compile(r"^Request for alpha-[a-z-]+ withdrawn\.$"))  # after the dialog that asks first
    settled(alice)
    assert alice.get_by_role("button", name="Withdraw").count() == 0
    shot(alice, "persona-alice-07-withdrawn", settle=False)
    bob = signed_in(browser, app_url, "bob")
    open_page(bob, "Inbox")
    bob.get_by_text("Withdrawn by alice", exact=True).first.wait_for()
    assert bob.get_by_text("Waiting for a decision", exact=True).count() == 0  # nothing left for him to decide
    shot(bob, "persona-alice-08-bob-told-withdrawn")
    bob.context.close()

    # 09 Upload: a folder is checked as typed, before any form or file (item 14); a form used again in one click
    open_page(alice, "Upload")
    choose(alice, 0, WORKSPACE)  # of the two she may write to (the other is hers since 03)
    settled(alice)
    folder = alice.get_by_role("textbox", name="Folder")
    folder.fill("../etc")
    folder.press("Enter")
    alice.get_by_text("The folder must not contain . or .. as a folder name.").first.wait_for()
    assert alice.get_by_text("What the data is").count() == 0 and alice.locator("input[type=file]").count() == 0
    shot(alice, "persona-alice-09-folder-refused-as-typed")
    folder.fill("notes")
    folder.press("Enter")
    complete_form(alice, alice)
    data = tmp_path / "orders.csv"
    data.write_text(CSV)
    alice.locator("input[type=file]").set_input_files(str(data))
    alice.get_by_text("orders.csv", exact=True).first.wait_for()  # the file is sent to the app, which reruns
    settled(alice)
    alice.get_by_role("button", name="Upload", exact=True).click()
    alice.get_by_text(f"Uploaded notes/orders.csv to {WORKSPACE}").first.wait_for()
    alice.get_by_role("button", name="Fill in a new form").click()
    reuse = alice.get_by_role("button", name="Use the form you completed at")
    reuse.first.wait_for()
    shot(alice, "persona-alice-10-reuses-her-form")
    reuse.click()
    alice.get_by_text("is complete.").first.wait_for()

    # 11 Browse (item 10): from My data; rows open by a click; a one-line breadcrumb; a file's tabs in one panel
    open_page(alice, "My data")
    alice.get_by_role("link", name="Open their folders and files").click()
    alice.get_by_role("heading", name="Browse").first.wait_for()
    settled(alice)
    choose(alice, 0, WORKSPACE)
    in_table(alice, "top.csv").first.wait_for(state="attached")
    assert alice.get_by_role("combobox").count() == 1  # the source; no dropdown of the folder's files
    shot(alice, "persona-alice-11-browse-at-the-root")
    open_row(alice, "notes/", in_table(alice, "orders.csv"))
    assert in_table(alice, "regions.csv").count() == 1 and in_table(alice, "top.csv").count() == 0
    crumbs = alice.get_by_role("radiogroup", name="Folder")
    assert crumbs.get_by_role("radio").all_inner_texts() == [WORKSPACE, "notes"]
    assert crumbs.get_by_role("radio", name="notes", checked=True).count() == 1
    open_row(alice, "orders.csv", alice.get_by_role("tab", name="Preview"))
    assert [alice.get_by_role("tab").nth(i).inner_text() for i in range(5)] == [
        "Preview",
        "Code",
        "Download",
        "Copy or move",
        "Versions",
    ]
    alice.get_by_role("button", name="Preview the first rows").click()
    preview = alice.get_by_role("tabpanel", name="Preview").locator('[data-testid="stDataFrame"]')
    preview.first.wait_for()
    preview.hover()  # the toolbar shows on hover: search, but no way to take the rows away
    alice.get_by_role("button", name="Search").first.wait_for()
    assert alice.get_by_role("button", name="Download as CSV").count() == 0
    settled(alice)
    assert main_height(alice) < 1_800  # one panel of tabs, not a stack of forms (2,900 px on My data before)
    shot(alice, "persona-alice-12-browse-a-file-previewed", settle=False)
    assert audit_actions(tmp_path, moto_reset).count("data-previewed") == 1

    # 13 Download: a form that starts from her upload's answers, then the file; one download, one event
    alice.get_by_role("tab", name="Download").click()
    panel = alice.get_by_role("tabpanel", name="Download")
    answers = panel.get_by_role("textbox", name="What the data is")
    answers.first.wait_for()
    assert answers.input_value() == "Monthly orders by region, aggregated."
    assert panel.get_by_role("textbox", name="Where it goes").input_value() == "My computer"
    shot(alice, "persona-alice-13-download-form-prefilled")
    complete_form(alice, panel)
    save = alice.get_by_role("button", name="Save orders.csv")
    save.first.wait_for()
    alice.get_by_role("tab", name="Preview").click()  # the page reruns, the form stays complete: nothing is read
    alice.get_by_role("tab", name="Download").click()
    save.first.wait_for()
    assert audit_actions(tmp_path, moto_reset).count("data-downloaded") == 0  # nothing has left yet
    saved = tmp_path / "downloaded.csv"
    download(alice, save).save_as(saved)
    assert saved.read_text() == CSV
    assert audit_actions(tmp_path, moto_reset).count("data-downloaded") == 1

    # 14 Back up by the breadcrumb; a file at the root opens too, with the code that reads it
    crumbs.get_by_role("radio", name=WORKSPACE).click()
    in_table(alice, "top.csv").first.wait_for(state="attached")
    open_row(alice, "top.csv", alice.get_by_text("top.csv · 19 bytes", exact=False))
    alice.get_by_role("tab", name="Code").click()
    alice.locator('[data-testid="stCode"]').filter(has_text="top.csv").first.wait_for()

    # 15 Versions: what she overwrote, restored with no form (item 11)
    open_row(alice, "history/", in_table(alice, "prices.csv"))
    open_row(alice, "prices.csv", alice.get_by_role("tab", name="Versions"))
    alice.get_by_role("tab", name="Versions").click()
    versions = alice.get_by_role("tabpanel", name="Versions")
    versions.get_by_text("Written by").first.wait_for()
    body = alice.inner_text("body")
    assert f"{len(SECOND)} bytes" in body and f"{len(FIRST)} bytes" in body and "current" in body
    assert body.count("alice (form ") == 2  # both written through Gatehouse, each under its own form
    settled(alice)
    versions.get_by_text("Restore it").click()
    versions.get_by_role("button", name="Restore this version").first.wait_for()
    settled(alice)
    assert versions.get_by_role("textbox", name="What the data is").count() == 0  # no data movement form
    shot(alice, "persona-alice-14-restore-with-no-form", settle=False)
    versions.get_by_role("button", name="Restore this version").click()
    alice.get_by_text("Restored history/prices.csv").first.wait_for()
    settled(alice)
    body = alice.inner_text("body")
    assert body.count(f"{len(FIRST)} bytes") >= 2 and "alice (restored)" in body and "Traceback" not in body
    shot(alice, "persona-alice-15-restored", settle=False)
    with beside_the_app(tmp_path, moto_reset) as gatehouse:
        assert gatehouse.aws.open_object(WORKSPACE, "history/prices.csv").read() == FIRST
        assert len(gatehouse.aws.versions(WORKSPACE, "history/prices.csv", 10)) == 3  # nothing lost
    assert not [url for url in seen if any(host in url for host in OUTSIDE)], "fetched from the internet"
