"""A real browser: Debian's Chromium, driven by Playwright, against `streamlit run app.py` as a user starts it: alice
signs in, sees My data, and signs out for good (her walk through issue 25 is test_persona_alice.py)."""

from __future__ import annotations

from core.seed import DEMO_PASSWORD
from tests.browser.conftest import settled, sign_in_with_password
from tests.conftest import ARTIFACTS


def test_alice_signs_in_and_sees_my_data(app_url: str, browser) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in_with_password(page, app_url, "alice", DEMO_PASSWORD)
    page.get_by_role("strong").filter(has_text="alpha-sales-analysis").first.wait_for()
    # "Other data sources" is a data grid: its cells are drawn on a canvas, with the text in an accessible table
    orphaned = page.locator('[data-testid="stDataFrame"]').get_by_text("none left (orphaned)")
    orphaned.first.wait_for(state="attached")  # the last table on the page has rendered
    body = page.inner_text("body")
    assert "/published" in body and "Read only" in body
    assert "alpha-shared-workspace" in body and "Read/write" in body
    assert orphaned.count() == 1
    assert page.locator('[data-testid="stDataFrame"]').get_by_text("alpha-pricing-models").count() == 1
    assert "alpha-de-raw-intake" not in body and page.get_by_text("alpha-de-raw-intake").count() == 0
    assert "Traceback" not in body
    links = page.get_by_role("link", name="Open on AWS")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    assert any("/buckets/alpha-sales-analysis?" in h for h in hrefs)  # one per usable source
    assert any("/buckets/alpha-shared-workspace?" in h for h in hrefs)
    assert not any("alpha-pricing-models" in h for h in hrefs)
    page.screenshot(path=str(ARTIFACTS / "my-data-alice.png"), full_page=True)

    page.reload()  # the sign-in cookie keeps alice signed in
    page.get_by_role("heading", name="My data").first.wait_for()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").first.wait_for()
    # The sign-out's run draws the form first; the page it replaces goes at the end of that run (under load, later)
    page.wait_for_function("() => !document.body.innerText.includes('alpha-sales-analysis')")
    page.wait_for_function("() => !document.cookie.includes('gatehouse=')")
    page.reload()  # signed out means signed out: a reload shows the sign-in form, not alice's data
    page.get_by_role("button", name="Sign in").first.wait_for()
    settled(page)
    assert "alpha-sales-analysis" not in page.inner_text("body")
    assert page.get_by_role("heading", name="My data").count() == 0
