"""The platform team reads the whole audit trail page by page, newest first, and narrows it with filters; and
creates the webapp sources analysts ask for."""

from __future__ import annotations

import json

from sqlmodel import col, select

from core import audit
from core.adapters.models import DataSource, Team, TeamMember, User
from core.context import Gatehouse
from tests.app.test_journeys import NEED, go, messages, open_tab, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)


def test_dave_pages_through_the_trail_and_a_filter_starts_again_at_the_newest(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        for n in range(70):
            audit.record(session, "erin", "test.step", f"Step {n:02d} of the migration check")
    at = go(sign_in("dave"), "pages/platform.py", "Audit trail")
    assert not messages(at)
    first = at.dataframe[0].value
    steps = [s for s in first["Summary"] if s.startswith("Step")]
    assert len(first) == 50 and steps[0] == "Step 69 of the migration check"  # newest first (after dave's sign-in)
    caption = next(c.value for c in at.caption if c.value.startswith("Page 1 of "))
    total = int(caption.split("·")[1].split()[0])
    widget(at, "button", "Older").click()
    at.run()
    second = at.dataframe[0].value
    assert len(second) == min(50, total - 50)
    assert not set(second["Summary"]) & set(steps)
    assert f"Page 2 of {-(-total // 50)} · {total} events" in [c.value for c in at.caption]

    widget(at, "text_input", "Actor").input("erin")
    at.run()
    narrowed = at.dataframe[0].value
    assert list(narrowed["Summary"][:2]) == ["Step 69 of the migration check", "Step 68 of the migration check"]
    assert "Page 1 of 2 · 70 events" in [c.value for c in at.caption]  # a new filter starts at the newest page
    widget(at, "button", "Older").click()
    at.run()
    assert list(at.dataframe[0].value["Summary"]) == [f"Step {n:02d} of the migration check" for n in range(19, -1, -1)]


def test_alice_asks_for_a_webapp_source_and_dave_creates_it_from_its_own_tab(app_env: Gatehouse) -> None:  # noqa: F811
    alice = go(sign_in("alice"), "pages/request_access.py", "New data source")
    widget(alice, "text_input", "Name", 1).input("alpha-pricing-dashboard")  # the second form: webapp sources
    widget(alice, "text_input", "App name").input("pricing-dash")
    widget(alice, "text_area", "Business need").input(NEED)
    widget(alice, "button", "Ask the platform team").click()
    alice.run()
    assert "Sent to the platform team." in messages(alice)

    dave = go(sign_in("dave"), "pages/platform.py")
    assert "alpha-pricing-dashboard" not in "\n".join(m.value for m in dave.markdown)  # not on the first tab
    open_tab(dave, "Webapp sources")
    assert "**Webapp data sources asked for (1)**" in [m.value for m in dave.markdown]
    widget(dave, "button", "Create it").click()
    dave.run()
    assert "Created alpha-pricing-dashboard: alice is its admin, pricing-dash reads it." in messages(dave)
    assert "**Webapp data sources asked for (0)**" in [m.value for m in dave.markdown]
    with app_env.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == "alpha-pricing-dashboard")).one()
        assert source.kind == "webapp"


def test_a_row_of_the_trail_opens_its_event_in_full_as_text(app_env: Gatehouse) -> None:  # noqa: F811
    long_summary = "Moved **www.example.org** files: " + "x" * 300  # longer than the column shows, and not Markdown
    with app_env.session() as session:
        audit.record(session, "erin", "test.step", long_summary, subject="alice")
    at = go(sign_in("dave"), "pages/platform.py", "Audit trail")
    row = list(at.dataframe[0].value["Summary"]).index(long_summary)
    at.session_state["audit-table-0"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    shown = [t.value for t in at.text]
    assert long_summary in shown  # the whole summary, as plain text
    assert any(t.endswith(" UTC · test.step · by erin · about alice") for t in shown)  # when, what, who, whom


def test_an_audit_summary_is_shown_whole_not_cut_at_its_column(app_env: Gatehouse) -> None:  # noqa: F811
    """The Summary column was cut at its edge: on Platform and on a source's Admin tab it takes the room, and a long
    summary wraps (Streamlit wraps a cell only in rows taller than 4rem, 64 px)."""
    long = "alice uploaded " + "/".join(["quarterly-reports"] * 12) + "/summary.csv in alpha-shared-workspace"
    with app_env.session() as session:
        for source in session.exec(select(DataSource).where(col(DataSource.name).startswith("alpha-"))):
            audit.record(session, "alice", "test.long", long, source_id=source.id)
    tables = [
        go(sign_in("dave"), "pages/platform.py", "Audit trail").dataframe[0],
        go(sign_in("bob"), "pages/admin.py", "Audit trail").dataframe[0],
    ]
    for table in tables:
        assert long in list(table.value["Summary"])
        summary = json.loads(table.proto.columns)["Summary"]
        assert summary["width"] == "large" and table.proto.row_height > 64, (summary, table.proto.row_height)


def test_dave_makes_a_scim_token_sees_it_once_and_revokes_it(app_env: Gatehouse) -> None:  # noqa: F811
    dave = go(sign_in("dave"), "pages/platform.py", "Users")
    widget(dave, "text_input", "Token name").input("entra")
    widget(dave, "button", "Make a token").click()
    dave.run()
    assert "Give this token to your identity provider now: it is shown this once." in messages(dave)
    (shown,) = [c.value for c in dave.code]
    assert len(shown) >= 32
    assert "| entra | dave | never |" in "\n".join(m.value for m in dave.markdown)
    dave.run()  # shown once: gone at the next run
    assert shown not in [c.value for c in dave.code]
    assert widget(dave, "text_input", "Token name").value == ""  # made: the form starts fresh
    widget(dave, "selectbox", "Token to revoke").select("entra")
    dave.run()
    widget(dave, "button", "Revoke the token").click()  # asks first: the identity provider is refused from then on
    dave.run()
    asked = "\n".join([m.value for m in dave.markdown] + [t.value for t in dave.text])
    assert "Revoke the SCIM token entra?" in asked and "joiners, movers and leavers stop arriving" in asked
    assert "| entra | dave | never |" in asked  # not yet
    widget(dave, "button", "Revoke entra").click()
    dave.run()
    assert "The token is revoked: whoever presents it is refused from now on." in messages(dave)
    assert "| entra |" not in "\n".join(m.value for m in dave.markdown)


def test_members_the_identity_provider_manages_say_so(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        frank = User(username="frank", email="frank@example.org", scim_managed=True)
        session.add(frank)
    dave = go(sign_in("dave"), "pages/platform.py", "Users")
    users = dave.dataframe[-1].value
    managed = dict(zip(users["Username"], users["Managed by"], strict=True))
    assert (managed["frank"], managed["alice"]) == ("identity provider", "")


def test_teams_show_where_they_come_from_and_who_is_in_them(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        alice = session.exec(select(User).where(User.username == "alice")).one()
        team = Team(name="Data <b>science</b>", scim_managed=True)
        session.add(team)
        session.flush()
        session.add(TeamMember(team_id=team.id or 0, user_id=alice.id or 0))
        erin = session.exec(select(User).where(User.username == "erin")).one()  # the demo's leaver
        session.add(TeamMember(team_id=team.id or 0, user_id=erin.id or 0))  # a group still listing her
    dave = go(sign_in("dave"), "pages/platform.py", "Users")
    shown = "\n".join(m.value for m in dave.markdown)
    team_row = "| Data \\<b\\>science\\</b\\> | identity provider | alice, erin (has left) |"
    assert team_row in shown.splitlines()  # text, not HTML; a leaver listed is said to have left
