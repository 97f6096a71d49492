"""Two Gatehouse processes on one PostgreSQL database share all state: a decision made in one is what the other
shows at its next rerun. Nothing kept in a process (Streamlit caches, session state) is the source of truth.

alice works in process A, bob in process B: alice's request made in A reaches bob's queue in B, bob's approval
in B shows in alice's My data and My requests in A, and alice's withdrawal in A empties bob's queue in B."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from core.adapters.db import make_engine
from core.adapters.models import AccessRequest, AuditEvent, DataSource, RequestStatus, User
from tests.browser.conftest import streamlit_server, tries
from tests.browser.test_access_stories import NEED, ask, open_page, shot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

REPORTS = "alice asks for read only access to alpha-pricing-models (/reports)"
DRAFTS = "alice asks for read only access to alpha-sales-analysis (/drafts)"


def no_traceback(page) -> None:  # type: ignore[no-untyped-def]
    body = page.inner_text("body")
    assert "Traceback" not in body, body[-2000:]


def open_tab(page, name: str, shows: str) -> None:  # type: ignore[no-untyped-def]
    """Click a tab until what it shows is visible (a click during a rerun can be swallowed)."""
    for attempt, wait in enumerate(tries(3)):
        page.get_by_role("tab", name=name).click()
        try:
            page.get_by_text(shows).first.wait_for(timeout=wait)
            return
        except Exception:
            if attempt == 2:
                raise


def rerun_admin(page) -> None:  # type: ignore[no-untyped-def]
    """bob's next rerun of the Admin page: away and back through the sidebar, as a person would."""
    open_page(page, "My data")
    open_page(page, "Admin")


def test_two_processes_on_one_database_share_all_state(
    browser, postgres_url: str, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect  # here, once the browser fixture has said Playwright is installed

    with streamlit_server(tmp_path / "a", postgres_url, moto_reset) as a_url:
        # alice asks in A. Her sign-in is A's first run, which starts Gatehouse there and seeds the empty database.
        alice = signed_in(browser, a_url, "alice")
        ask(alice, a_url, "alpha-pricing-models", "/reports")
        open_tab(alice, "My requests", "waits for an admin of the source: bob")
        no_traceback(alice)
        shot(alice, "two-processes-1-alice-asked-in-a")

        # B starts only now. Demo seeding is check-then-insert without a lock (only migrations take an advisory
        # lock), and a process starts Gatehouse (and seeds) at its first page run, not when /_stcore/health
        # answers: so B is started once A has served a signed-in page, i.e. once the database is seeded.
        with streamlit_server(tmp_path / "b", postgres_url, moto_reset) as b_url:
            assert a_url != b_url

            # bob, in B, sees the request made in A, and approves it there.
            bob = signed_in(browser, b_url, "bob")
            open_page(bob, "Admin")
            bob.get_by_text("Requests to decide (1)").first.wait_for()
            bob.get_by_text(REPORTS).first.wait_for()
            bob.get_by_text(NEED).first.wait_for()
            no_traceback(bob)
            shot(bob, "two-processes-2-bob-queue-in-b")
            bob.get_by_role("button", name="Approve").first.click()
            bob.get_by_text("Approved: alice has read only access to alpha-pricing-models").first.wait_for()
            bob.get_by_text("Requests to decide (0)").first.wait_for()
            no_traceback(bob)

            # alice, still in A, sees bob's decision at her next rerun: in My data ...
            open_page(alice, "My data")
            pricing = alice.get_by_role("strong").filter(has_text=re.compile(r"^alpha-pricing-models$"))
            pricing.first.wait_for()
            # Its row, whether My data lays its sources out as a table or as columns.
            row = alice.locator("tr, [data-testid='stHorizontalBlock']").filter(has=pricing).first
            expect(row).to_contain_text("/reports")
            expect(row).to_contain_text("Read only")
            no_traceback(alice)
            shot(alice, "two-processes-3-alice-my-data-in-a")

            # ... and in My requests, where the request is approved.
            open_page(alice, "Request access")
            open_tab(alice, "My requests", "alpha-pricing-models")
            # Her only request, so the page's one status line is its status.
            expect(alice.get_by_text("approved", exact=True)).to_be_visible()
            expect(alice.get_by_role("button", name="Withdraw")).to_have_count(0)
            expect(alice.get_by_text("waits for an admin of the source: bob")).to_have_count(0)
            no_traceback(alice)
            shot(alice, "two-processes-4-alice-my-requests-in-a")

            # The other direction: a request alice makes in A reaches bob's queue in B at his next rerun ...
            open_tab(alice, "Ask for access", "Find a data source")  # ask() fills the first tab's search box
            ask(alice, a_url, "alpha-sales-analysis", "/drafts")
            rerun_admin(bob)
            bob.get_by_text("Requests to decide (1)").first.wait_for()
            bob.get_by_text(DRAFTS).first.wait_for()
            no_traceback(bob)
            shot(bob, "two-processes-5-bob-queue-in-b-again")

            # ... and when she withdraws it in A, it leaves bob's queue in B at his next rerun.
            open_tab(alice, "My requests", "alpha-sales-analysis")
            alice.get_by_role("button", name="Withdraw").click()
            alice.get_by_role("button", name="Withdraw request").first.click()  # in the dialog that asks first
            alice.get_by_text("Request for alpha-sales-analysis withdrawn.").first.wait_for()
            no_traceback(alice)
            shot(alice, "two-processes-6-alice-withdrew-in-a")
            rerun_admin(bob)
            bob.get_by_text("Requests to decide (0)").first.wait_for()
            bob.get_by_text("No request is waiting for you.").first.wait_for()
            expect(bob.get_by_text(DRAFTS)).to_have_count(0)
            no_traceback(bob)
            shot(bob, "two-processes-7-bob-queue-empty-in-b")

    # The state both showed is PostgreSQL's: neither process made a SQLite file, the demo was seeded once, and the
    # two requests are in the shared database as decided.
    assert not (tmp_path / "a" / "gatehouse.db").exists()
    assert not (tmp_path / "b" / "gatehouse.db").exists()
    engine = make_engine(postgres_url)
    try:
        with Session(engine) as session:
            seeded = session.exec(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "demo-seeded")
            ).one()
            assert seeded == 1
            statuses = dict(
                session.exec(
                    select(DataSource.name, AccessRequest.status)
                    .join(DataSource, DataSource.id == AccessRequest.source_id)
                    .join(User, User.id == AccessRequest.requester_id)
                    .where(User.username == "alice")
                ).all()
            )
            assert statuses == {
                "alpha-pricing-models": RequestStatus.APPROVED,
                "alpha-sales-analysis": RequestStatus.WITHDRAWN,
            }
    finally:
        engine.dispose()
