"""Deciding a request (issue 25, item 8): Approve and Refuse each in a tab of their own, so that the reason a refusal
needs never reads as needed to approve; and what core refuses in the approver's terms is said beside each field
that caused it, all at once, before the click and at it, and nothing is granted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.adapters.models import Grant, RequestStatus, utcnow
from core.context import Gatehouse
from core.domain import day
from tests.app.test_journeys import NEED, go, messages, open_refuse, open_tab, requests_of, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)


def drawn(node: Any) -> Iterator[tuple[str, str]]:
    """Each element under `node` in the order a person reads them: (kind, label or text)."""
    for child in getattr(node, "children", {}).values():
        kind = getattr(child, "type", "")
        if kind in ("selectbox", "text_area", "date_input", "button", "error"):
            yield kind, str(child.value if kind == "error" else child.label)
        yield from drawn(child)


def tab(at: AppTest, label: str) -> Any:
    [found] = [t for t in at.tabs if t.label == label]
    return found


def test_approve_and_refuse_are_apart_and_the_reason_to_refuse_belongs_to_refuse(app_env: Gatehouse) -> None:  # noqa: F811
    alice = go(sign_in("alice"), "pages/request_access.py")
    widget(alice, "selectbox", "Data source").select("alpha-pricing-models")
    widget(alice, "text_area", "Paths (optional)").input("/reports")
    widget(alice, "text_area", "Business need").input(NEED)
    widget(alice, "button", "Send request").click()
    alice.run()

    bob = go(sign_in("bob"), "pages/admin.py")
    approve, refuse = tab(bob, "Approve"), tab(bob, "Refuse")
    assert [label for kind, label in drawn(approve) if kind != "error"] == [
        "Grant",
        "On paths",
        "End date (optional)",
        "Reason (optional)",
        "Approve",
    ]
    assert list(drawn(refuse)) == []  # built once its tab is opened
    open_refuse(bob, requests_of(app_env, "alice")[0].id)
    assert list(drawn(tab(bob, "Approve"))) == []
    assert [label for _, label in drawn(tab(bob, "Refuse"))] == ["Reason for refusing", "Refuse"]
    # Refusing with no reason: said under Refuse, nothing decided
    widget(bob, "button", "Refuse").click()
    bob.run()
    assert [e for e in drawn(tab(bob, "Refuse")) if e[0] == "error"] == [
        ("error", "Give the requester a reason for the refusal (a few words at least).")
    ]
    assert requests_of(app_env, "alice")[0].status == RequestStatus.PENDING_ADMIN


def test_every_term_core_refuses_is_said_beside_its_field_at_once_and_nothing_is_granted(app_env: Gatehouse) -> None:  # noqa: F811
    asked = utcnow().date() + timedelta(days=30)
    alice = go(sign_in("alice"), "pages/request_access.py")
    widget(alice, "selectbox", "Data source").select("alpha-pricing-models")
    widget(alice, "text_area", "Paths (optional)").input("/reports")
    widget(alice, "text_area", "Business need").input(NEED)
    widget(alice, "date_input", "End date (optional)").set_value(asked)
    widget(alice, "button", "Send request").click()
    alice.run()
    [request] = requests_of(app_env, "alice")

    bob = go(sign_in("bob"), "pages/admin.py")
    # Empty is the date asked, not "never": the field says so to the approver
    assert f"Leave empty to end it on {day(asked)}, as asked." in widget(bob, "date_input", "End date (optional)").help
    widget(bob, "text_area", "On paths").input("/reports\n\n/models")  # a blank line is fine; /models was not asked
    widget(bob, "date_input", "End date (optional)").set_value(asked + timedelta(days=31))
    bob.run()
    paths_refused = "You can grant only paths within those asked for (/reports): remove the others or narrow them."
    later_refused = f"The request asks for access until {day(asked)}: you can end it sooner, never later."
    beside = [
        ("text_area", "On paths"),
        ("error", paths_refused),
        ("date_input", "End date (optional)"),
        ("error", later_refused),
    ]
    approve = list(drawn(tab(bob, "Approve")))
    assert approve[1:5] == beside, approve  # each under its field, before Approve is clicked
    widget(bob, "text_area", "Reason (optional)").input("Only the reports\x07")
    widget(bob, "button", "Approve").click()
    bob.run()
    approve = list(drawn(tab(bob, "Approve")))
    assert approve[1:5] == beside, approve
    assert ("error", "The reason holds a control character: remove it.") in approve
    assert (
        approve.index(("error", "The reason holds a control character: remove it."))
        == approve.index(("text_area", "Reason (optional)")) + 1
    )
    assert not bob.success
    with app_env.session() as session:
        assert session.exec(select(Grant).where(Grant.request_id == request.id)).all() == []
    assert requests_of(app_env, "alice")[0].status == RequestStatus.PENDING_ADMIN

    # Put right, field by field: granted as typed, a path pasted as the source's S3 address
    widget(bob, "text_area", "On paths").input("s3://alpha-pricing-models/reports/q1")
    widget(bob, "date_input", "End date (optional)").set_value(asked)
    bob.run()
    assert [e for e in drawn(tab(bob, "Approve")) if e[0] == "error"] == []  # redrawn as the terms change
    widget(bob, "text_area", "Reason (optional)").input("Only the first quarter is ready.")
    widget(bob, "button", "Approve").click()
    bob.run()
    assert "Approved: alice has read only access to alpha-pricing-models." in messages(bob)
    with app_env.session() as session:
        grant = session.exec(select(Grant).where(Grant.request_id == request.id)).one()
    assert (grant.paths, grant.expires_on) == (("/reports/q1",), asked)


def test_the_request_form_says_what_is_wrong_beside_each_field_at_once(app_env: Gatehouse) -> None:  # noqa: F811
    """The same class on the form that asks: each refusal under its field, all of them, and nothing is asked."""
    alice = go(sign_in("alice"), "pages/request_access.py")
    widget(alice, "selectbox", "Data source").select("alpha-pricing-models")
    widget(alice, "text_area", "Paths (optional)").input("/reports\n\nmodels")
    widget(alice, "text_area", "Business need").input("need it")
    widget(alice, "date_input", "End date (optional)").set_value(date(9999, 12, 31))
    widget(alice, "button", "Send request").click()
    alice.run()
    form = [(kind, label.split(":")[0]) for kind, label in drawn(alice.main)]
    assert [entry for entry in form if entry[0] in ("text_area", "date_input", "error")] == [
        ("text_area", "Paths (optional)"),
        ("error", "Line 3 (models) must start with /, for example /models."),
        ("text_area", "Business need"),
        ("error", "Describe the business need in a sentence (at least 20 characters and a few words)"),
        ("date_input", "End date (optional)"),
        ("error", "The end date 31 Dec 9999 is more than two years away"),
    ], form
    assert requests_of(app_env, "alice") == []


def test_the_grant_form_says_what_is_wrong_beside_each_field_and_keeps_what_was_typed(app_env: Gatehouse) -> None:  # noqa: F811
    bob = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(bob, "selectbox", "Data source").select("alpha-pricing-models")
    bob.run()
    open_tab(bob, "Grant access")
    widget(bob, "multiselect", "Users (platform members only)").select("carol")
    widget(bob, "text_area", "Paths (optional)").input("s3://alpha-sales-analysis/published")
    widget(bob, "date_input", "End date (optional)").set_value(date(9999, 12, 31))
    widget(bob, "button", "Grant access").click()
    bob.run()
    form = [
        (kind, label.split(":")[0]) for kind, label in drawn(bob.main) if kind in ("text_area", "date_input", "error")
    ]
    assert form == [
        ("text_area", "Paths (optional)"),
        ("error", "Line 1 (s3"),  # (the address, then "is in alpha-sales-analysis, not in …")
        ("date_input", "End date (optional)"),
        ("error", "The end date 31 Dec 9999 is more than two years away"),
    ], form
    assert widget(bob, "multiselect", "Users (platform members only)").value == ["carol"]  # refused: kept as typed
    assert not bob.success
