"""Sign-in through the organisation's identity provider (issue #15), in Chromium against `streamlit run app.py`
with GATEHOUSE_SIGN_IN=oidc and Streamlit's [auth] pointing at an OpenID provider on loopback (tests/oidc_provider.py):
alice signs in at the provider and lands on My data with her sources, and signing out really signs out; an identity
that is no member is refused in one sentence, asks to join, and the platform team adds them; a leaver is refused;
another identity whose claims name alice is refused once alice's own is bound to her.
Screenshots: oidc-1 … oidc-6 in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from core.adapters.models import AuditEvent
from core.config import Settings
from core.startup import start
from tests.browser.conftest import card_is_narrow_and_centred, streamlit_server, tries
from tests.browser.test_access_stories import open_page, settled, shot
from tests.oidc_provider import loopback_provider, write_secrets

pytestmark = pytest.mark.browser
SIDEBAR_LEAKS = ("My data", "Request access", "Upload", "Inbox", "Platform", "alpha-")


@pytest.fixture
def oidc_app(demo_data_dir: Path, moto_reset: str) -> Iterator[str]:
    """The app signing in through the loopback provider, on the embedded SQLite database in tmp_path: the demo's copy
    (demo_data_dir), whose seed is the same whichever way people sign in, so that the app's start is a restart."""
    with loopback_provider() as issuer:
        secrets = write_secrets(demo_data_dir / "secrets" / "secrets.toml", issuer)
        with streamlit_server(
            demo_data_dir, None, moto_reset, env={"GATEHOUSE_SIGN_IN": "oidc"}, args=("--secrets.files", str(secrets))
        ) as url:
            yield url


def at_the_provider(browser, url: str, sub: str):  # type: ignore[no-untyped-def]
    """A new browser at Gatehouse's sign-in page; "Sign in" leads to the provider, where `sub` is chosen."""
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(url)
    sign_in = page.get_by_role("button", name="Sign in")
    sign_in.first.wait_for()
    settled(page)
    body = page.inner_text("body")
    assert "Username" not in body and "Password" not in body  # no password form: the demo passwords do nothing
    for attempt, wait in enumerate(tries(3)):  # a click while the page still reruns can be swallowed: click again
        sign_in.click()
        try:
            page.get_by_role("heading", name="Authorize Client").first.wait_for(timeout=wait)
            break
        except Exception:
            if attempt == 2:
                raise
    page.get_by_role("button", name=sub, exact=True).click()
    return page


def signed_in(browser, url: str, sub: str):  # type: ignore[no-untyped-def]
    page = at_the_provider(browser, url, sub)
    page.get_by_role("heading", name="My data").first.wait_for()
    settled(page)
    return page


def audit(tmp_path: Path, moto_reset: str) -> list[tuple[str, str, str]]:
    gatehouse = start(Settings(_env_file=None, data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1])))
    try:
        with gatehouse.session() as session:
            events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
            return [(e.actor, e.action, e.summary) for e in events if "sign" in e.action or "join" in e.action]
    finally:
        gatehouse.engine.dispose()


def test_alice_signs_in_at_the_provider_sees_her_sources_and_signs_out(
    oidc_app: str, browser, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    alice = signed_in(browser, oidc_app, "alice")
    alice.get_by_text("alpha-sales-analysis").first.wait_for()
    body = alice.inner_text("body")
    assert "alpha-shared-workspace" in body and "/published" in body and "Signed in as" in body
    assert "(alice)" in body and "Traceback" not in body
    shot(alice, "oidc-1-alice-my-data")

    alice.get_by_role("button", name="Sign out").click()
    alice.get_by_role("button", name="End session").click()  # the provider's own end of session
    alice.get_by_role("button", name="Sign in").first.wait_for()
    settled(alice)
    alice.reload()  # the identity cookie is gone: a reload is the sign-in page again
    alice.get_by_role("button", name="Sign in").first.wait_for()
    settled(alice)
    body = alice.inner_text("body")
    for leak in SIDEBAR_LEAKS:
        assert leak not in body, f"signed out, the page still shows {leak!r}:\n{body}"
    shot(alice, "oidc-2-signed-out")

    events = audit(tmp_path, moto_reset)
    assert ("alice", "sign-in", "alice signed in") in events
    assert ("alice", "sign-out", "alice signed out") in events


def test_someone_the_platform_does_not_know_is_refused_asks_to_join_and_is_added(
    oidc_app: str, browser, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    mallory = at_the_provider(browser, oidc_app, "mallory")
    refusal = "You are not a member of the platform yet: the platform team adds members."
    mallory.get_by_text(refusal).first.wait_for()
    settled(mallory)
    body = mallory.inner_text("body")
    for leak in SIDEBAR_LEAKS:
        assert leak not in body, f"a refused identity sees {leak!r}:\n{body}"
    shot(mallory, "oidc-3-not-a-member")
    mallory.get_by_role("button", name="Ask to join").click()
    mallory.get_by_text("Your request to join is with the platform team.").first.wait_for()

    dave = signed_in(browser, oidc_app, "dave")
    open_page(dave, "Platform")
    dave.get_by_role("tab", name="Users").click()
    dave.get_by_text("Asking to join").first.wait_for()
    settled(dave)
    shot(dave, "oidc-4-dave-asking-to-join")
    dave.get_by_role("button", name="Add as a member").click()
    dave.get_by_text("Added mallory. They sign in through the identity provider, so no link is made.").first.wait_for()

    again = signed_in(browser, oidc_app, "mallory")
    again.get_by_text("You have no access to any data source yet.", exact=False).first.wait_for()
    assert "Mallory **Mal** Jones" in again.inner_text("body")  # the name the provider sent, shown as text

    events = audit(tmp_path, moto_reset)
    actions = [(actor, action) for actor, action, _ in events]
    assert ("oidc:mallory", "sign-in-refused") in actions and ("oidc:mallory", "join-requested") in actions
    assert ("mallory", "sign-in") in actions


def test_a_leaver_is_refused(oidc_app: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    erin = at_the_provider(browser, oidc_app, "erin")
    erin.get_by_text("You have left the platform, so you cannot sign in").first.wait_for()
    settled(erin)
    body = erin.inner_text("body")
    assert "Ask to join" not in body
    for leak in SIDEBAR_LEAKS:
        assert leak not in body, f"a leaver sees {leak!r}:\n{body}"
    card_is_narrow_and_centred(erin)
    shot(erin, "oidc-5-leaver")
    assert ("erin", "sign-in-refused", "erin has left and could not sign in") in audit(tmp_path, moto_reset)


def test_another_identity_claiming_alices_name_is_refused(
    oidc_app: str, browser, moto_reset: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Two subs with preferred_username alice both used to sign in as alice: her first sign-in binds her to hers."""
    signed_in(browser, oidc_app, "alice").get_by_text("alpha-sales-analysis").first.wait_for()
    impostor = at_the_provider(browser, oidc_app, "impostor")
    impostor.get_by_text("This member is already linked to another account at your identity provider").first.wait_for()
    settled(impostor)
    body = impostor.inner_text("body")
    assert "Ask to join" not in body and "Traceback" not in body
    for leak in SIDEBAR_LEAKS:
        assert leak not in body, f"the impostor sees {leak!r}:\n{body}"
    shot(impostor, "oidc-6-another-identity")
    events = audit(tmp_path, moto_reset)
    refused = [summary for actor, action, summary in events if (actor, action) == ("alice", "sign-in-refused")]
    assert len(refused) == 1 and "a sign-in as impostor of http://127.0.0.1:" in refused[0]
    assert [actor for actor, action, _ in events if action == "sign-in"] == ["alice"]
