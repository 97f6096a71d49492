"""Personal data's two steps on the pages (issue #29): the request form says what the source's classification asks
before sending; the admin's approval says it goes to the information asset owner; the requester sees where it stands;
the owner approves it on Personal data."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from core.adapters.models import DataSource, Grant, RequestStatus, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, Classification
from core.queries import get_user
from tests.app.test_journeys import NEED, go, messages, open_tab, requests_of, widget
from tests.app.test_sign_in import app_env, page_text, sign_in  # noqa: F401  (fixture)

SOURCE = "alpha-pricing-models"


def mark_personal(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == SOURCE)).one()
        source.classification, source.iao_id = Classification.PERSONAL, get_user(session, "carol").id
        session.add(source)


def test_alice_asks_bob_approves_and_carol_approves_on_personal_data(app_env: Gatehouse) -> None:  # noqa: F811
    mark_personal(app_env)
    until = utcnow().date() + timedelta(days=90)
    alice = go(sign_in("alice"), "pages/request_access.py")
    widget(alice, "selectbox", "Data source").select(SOURCE)
    alice.run()
    shown = page_text(alice) + "\n".join(t.value for t in alice.text)
    assert f"**{SOURCE} holds personal data.** Its information asset owner is carol." in shown
    assert "Access ends: an end date is required, at most 365 days away." in shown
    assert "the information asset owner approves too for the whole source" in shown
    widget(alice, "text_area", "Business need").input(NEED)
    widget(alice, "button", "Send request").click()  # no end date: refused beside it, nothing asked
    alice.run()
    assert any("Access to personal data always ends" in e.value for e in alice.error)
    assert requests_of(app_env, "alice") == []
    widget(alice, "date_input", "End date (optional)").set_value(until)
    widget(alice, "button", "Send request").click()
    alice.run()
    [request] = requests_of(app_env, "alice")

    bob = go(sign_in("bob"), "pages/admin.py")
    assert any("This approval sends the request to carol, the information asset owner" in m for m in messages(bob))
    widget(bob, "button", "Approve").click()
    bob.run()
    assert any("now goes to the information asset owner, carol" in m for m in messages(bob)), messages(bob)
    assert requests_of(app_env, "alice")[0].status == RequestStatus.PENDING_IAO

    open_tab(alice, "My requests")
    assert "Approved by bob; waiting for the information asset owner, carol" in page_text(alice)

    carol = go(sign_in("carol"), "pages/personal_data.py")
    assert "Requests to approve (1)" in page_text(carol)
    assert "Approved as admin: Read only (whole bucket) until" in page_text(carol)
    assert "approved by bob" in page_text(carol)
    widget(carol, "button", "Approve").click()
    carol.run()
    assert f"Approved: alice has read only access to {SOURCE}." in messages(carol)
    assert "Requests to approve (0)" in page_text(carol)
    with app_env.session() as session:
        grant = session.exec(select(Grant).where(Grant.request_id == request.id)).one()
    assert (grant.level, grant.expires_on) == (AccessLevel.READ_ONLY, until)
