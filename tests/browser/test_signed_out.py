"""A signed-out visit straight to a page's address shows the sign-in page and nothing of the page: in a process that
has just started (when Streamlit still takes every file in pages/ for a page of its own) and afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import settled

pytestmark = pytest.mark.browser
PAGES = ("platform", "inbox", "my_data", "browse", "upload", "admin", "confirmations", "request_access")
HELPERS = (
    "signin",
    "running",
    "cached",
    "widgets",
    "decisions",
    "markup",
    "browse_view",
    "movement_form",
    "source_forms",
    "oidc_signin",
)  # modules of pages/, which Streamlit runs as pages too


def test_a_signed_out_visit_to_any_page_is_the_sign_in_page(app_url: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    for path in PAGES + HELPERS:  # the first visit reaches a process that has shown nobody its navigation yet
        page = context.new_page()
        page.goto(f"{app_url}/{path}")
        page.get_by_role("button", name="Sign in").first.wait_for()
        settled(page)  # whatever else the run would draw
        body = page.inner_text("body")
        assert "Username" in body and "Password" in body, path
        for leak in ("error", "Platform", "Inbox", "alpha-", "Upload", "markup", "browse view"):
            assert leak not in body, f"/{path} shows {leak!r} to someone signed out:\n{body}"
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0, f"/{path} lists the pages"
        page.close()
    log = (tmp_path / "streamlit.log").read_text()
    assert "Traceback" not in log and "KeyError" not in log, log[-3000:]
