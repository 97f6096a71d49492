"""Personal data's pages (AppTest): carol, the information asset owner, reads alice's movement forms for downloads
from her source, signs one and refuses another, and signs a review report that Platform then shows signed; alice's
Browse says her download waits, then offers it; alice asks on My data to extend access that ends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from core import actions
from core.adapters.models import AccessRequest, DataSource, Grant, MovementKind, utcnow
from core.context import Gatehouse
from core.domain import Classification
from core.movement import MovementForm
from core.queries import get_user
from tests.app.test_browse_page import browse, click_row, open_tab
from tests.app.test_journeys import go, messages, widget
from tests.app.test_reviews_ui import section
from tests.app.test_sign_in import app_env, page_text, sign_in  # noqa: F401  (fixture)
from tests.app.test_upload_page import fill_form

SALES = "alpha-sales-analysis"


def download_form(gh: Gatehouse, **changes: Any) -> int:
    with gh.session() as session:
        alice = get_user(session, "alice")
    answers: dict[str, Any] = {
        "description": "Monthly regional sales *extract*",
        "origin": SALES,
        "destination": "My laptop",
        "purpose": "Quarterly pricing review for the finance committee",
        "classification": "OFFICIAL-SENSITIVE",
        "personal_data": True,
        "dpia_reference": "DPIA-2026-014",
        "retention": "Until March 2027",
        "declaration": True,
    }
    return actions.record_movement(gh, alice, MovementKind.DOWNLOAD, MovementForm(**{**answers, **changes}), SALES)


def iao_tab(at: Any, label: str) -> Any:
    """Open a tab of Personal data (only the open one runs: AppTest has no tab click; the tab's state is its label)."""
    at.session_state["iao-section"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def test_carol_signs_one_form_and_refuses_another(app_env: Gatehouse) -> None:  # noqa: F811
    gh = app_env
    with gh.session() as session:
        carol_id = get_user(session, "carol").id
        session.exec(
            update(DataSource)
            .where(col(DataSource.name) == SALES)
            .values(classification=Classification.PERSONAL, iao_id=carol_id)
        )
    first = download_form(gh)
    second = download_form(gh, purpose="Copy for the regional managers' meeting")

    carol = iao_tab(go(sign_in("carol"), "pages/personal_data.py"), "Data leaving your sources")
    text = page_text(carol)
    assert f"Form {first}" in text and "Monthly regional sales \\*extract\\*" in text  # the answers, as text
    assert "DPIA-2026-014" in text
    widget(carol, "button", "Sign").click().run()
    assert any(m.startswith(f"Signed form {first}: the data may leave until") for m in messages(carol)), messages(carol)
    assert f"Form {first}" not in page_text(carol)

    widget(carol, "button", "Refuse").click().run()
    assert "Give the person moving the data a reason" in " ".join(messages(carol))
    widget(carol, "text_input", "Reason to refuse").input("Not for the meeting: share the summary")
    widget(carol, "button", "Refuse").click().run()
    assert f"Refused form {second}: no data leaves under it." in messages(carol)
    assert "No movement is waiting for your sign-off." in page_text(carol)


def test_carol_signs_the_review_report_and_platform_sees_it(app_env: Gatehouse) -> None:  # noqa: F811
    gh = app_env
    with gh.session() as session:
        carol_id = get_user(session, "carol").id
        dave = get_user(session, "dave")
        session.exec(
            update(DataSource)
            .where(col(DataSource.name) == SALES)
            .values(classification=Classification.PERSONAL, iao_id=carol_id)
        )
    started = actions.start_review(gh, dave, utcnow().date() + timedelta(days=10), [SALES])

    carol = iao_tab(go(sign_in("carol"), "pages/personal_data.py"), "Access review reports")
    assert f"Review {started.campaign_id}" in page_text(carol)
    assert "Unreviewed" in page_text(carol)  # the figures, before the button
    widget(carol, "button", "Sign the report").click().run()
    assert f"Signed review {started.campaign_id}'s report of {SALES}." in messages(carol), messages(carol)
    assert "You have signed every report listed." in page_text(carol) and "carol at" in page_text(carol)
    assert not [b for b in carol.button if b.label == "Sign the report"]

    platform = section(go(sign_in("dave"), "pages/platform.py"), "platform-tab", "Reviews")
    assert "by carol at" in page_text(platform)


def test_the_platform_team_signs_where_the_owner_moves_the_data(app_env: Gatehouse) -> None:  # noqa: F811
    gh = app_env
    with gh.session() as session:
        alice_id = get_user(session, "alice").id
        session.exec(
            update(DataSource)
            .where(col(DataSource.name) == SALES)
            .values(classification=Classification.PERSONAL, iao_id=alice_id)
        )
    form_id = download_form(gh)
    dave = go(sign_in("dave"), "pages/platform.py")
    assert f"Form {form_id}" in page_text(dave)
    widget(dave, "button", "Sign").click().run()
    assert any(m.startswith(f"Signed form {form_id}") for m in messages(dave)), messages(dave)


def test_alices_download_waits_in_browse_until_carol_signs(app_env: Gatehouse) -> None:  # noqa: F811
    gh = app_env
    with gh.session() as session:
        carol = get_user(session, "carol")
        session.exec(
            update(DataSource)
            .where(col(DataSource.name) == SALES)
            .values(classification=Classification.PERSONAL, iao_id=carol.id)
        )
    at = browse(sign_in("alice"), SALES)
    click_row(at, SALES, "published/")
    click_row(at, SALES, "sales_2025.csv")
    open_tab(at, "Download")
    assert any("alpha-sales-analysis holds personal data" in m for m in messages(at)), messages(at)
    assert widget(at, "radio", "Does it hold personal data?").value == "Yes"
    widget(at, "text_input", "DPIA reference (required for personal data)").input("DPIA-2026-014")
    fill_form(at)
    assert any("is now with carol, who signs it" in m for m in messages(at)), messages(at)
    assert not at.get("download_button")  # no byte offered

    [waiting] = (m for m in messages(at) if "is now with carol" in m)
    form_id = int(waiting.split()[1])
    actions.sign_off_movement(gh, carol, form_id)
    widget(at, "button", "Check again").click().run()
    assert any(m.startswith("Signed off by carol: your download is available until") for m in messages(at))
    assert at.get("download_button")


def test_alice_asks_to_extend_on_my_data(app_env: Gatehouse) -> None:  # noqa: F811
    gh = app_env
    with gh.session() as session:
        alice = get_user(session, "alice")
        session.exec(
            update(Grant).where(col(Grant.user_id) == alice.id).values(expires_on=utcnow().date() + timedelta(days=5))
        )
    at = go(sign_in("alice"), "pages/my_data.py")
    at.toggle(key="extend-open").set_value(True).run()  # closed, the section is its switch alone
    widget(at, "text_area", "Why you still need it").input("The pricing review runs on until the summer.")
    widget(at, "button", "Ask to extend").click().run()
    assert not at.exception, at.exception
    assert any(m.startswith("Asked to extend your access to") for m in messages(at)), messages(at)
    with gh.session() as session:
        [asked] = session.exec(select(AccessRequest).where(col(AccessRequest.extends_grant_id).is_not(None))).all()
    assert asked.requester_id == alice.id
