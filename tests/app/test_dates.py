"""A date a person types reaches core as typed, and core's one end-date rule refuses what is out of range with one
sentence (issue 25): Streamlit shows a date outside a field's bounds in red but hands the script the last valid
value, which once stored a request with no end date and an approval until a date the approver had not typed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.adapters.models import Grant, RequestStatus, utcnow
from core.adapters.review_models import ReviewCampaign
from core.context import Gatehouse
from core.domain import day
from tests.app.test_journeys import NEED, go, messages, requests_of, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)

END = "End date (optional)"


def ask_until(until: date) -> AppTest:
    at = go(sign_in("alice"), "pages/request_access.py")
    widget(at, "selectbox", "Data source").select("alpha-pricing-models")
    widget(at, "text_area", "Business need").input(NEED)
    widget(at, "date_input", END).set_value(until)
    widget(at, "button", "Send request").click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_an_end_date_past_the_limit_is_refused_with_a_sentence_and_nothing_is_asked(app_env: Gatehouse) -> None:  # noqa: F811
    at = ask_until(date(9999, 12, 31))
    latest = utcnow().date() + timedelta(days=731)
    assert [e.value for e in at.error] == [
        f"The end date 31 Dec 9999 is more than two years away: choose one by {day(latest)}, "
        "or leave it empty for access that does not end."
    ]
    assert requests_of(app_env, "alice") == []  # not stored without an end date, nor at all
    today = utcnow().date()
    at = ask_until(today)  # the earliest bound once swallowed a date too
    assert [e.value for e in at.error] == [f"The end date {day(today)} is not after today: choose a later date."]
    assert requests_of(app_env, "alice") == []


def test_an_approval_later_than_asked_is_refused_and_grants_nothing(app_env: Gatehouse) -> None:  # noqa: F811
    asked = utcnow().date() + timedelta(days=30)
    assert not ask_until(asked).error
    [request] = requests_of(app_env, "alice")

    bob = go(sign_in("bob"), "pages/admin.py")
    widget(bob, "date_input", END).set_value(asked + timedelta(days=31))
    bob.run()
    refusal = f"The request asks for access until {day(asked)}: you can end it sooner, never later."
    assert [e.value for e in bob.error] == [refusal]  # said beside the field, before Approve
    widget(bob, "button", "Approve").click()
    bob.run()
    assert [e.value for e in bob.error] == [refusal]
    assert not bob.success
    with app_env.session() as session:
        assert session.exec(select(Grant).where(Grant.request_id == request.id)).all() == []
    [request] = requests_of(app_env, "alice")
    assert request.status == RequestStatus.PENDING_ADMIN

    widget(bob, "date_input", END).set_value(asked - timedelta(days=1))  # sooner than asked: granted as typed
    bob.run()
    widget(bob, "button", "Approve").click()
    bob.run()
    assert "Approved: alice has read only access to alpha-pricing-models." in messages(bob)
    with app_env.session() as session:
        grant = session.exec(select(Grant).where(Grant.request_id == request.id)).one()
    assert grant.expires_on == asked - timedelta(days=1)


def test_a_review_due_date_past_a_year_is_refused_not_replaced(app_env: Gatehouse) -> None:  # noqa: F811
    """The review's Due date once fell back to its default (four weeks on) when a date past its ten-year bound was
    typed, and the review started with it."""
    dave = go(sign_in("dave"), "pages/platform.py")
    dave.session_state["platform-tab"] = "Reviews"
    dave.run()
    widget(dave, "date_input", "Due date").set_value(date(9999, 12, 31))
    widget(dave, "button", "Start review").click().run()
    assert [e.value for e in dave.error] == ["Choose a due date within a year: a review that long is not a review."]
    with app_env.session() as session:
        assert session.exec(select(ReviewCampaign)).all() == []
