"""Teams on the pages (issue #28), as people use them in AppTest: bob grants a team picked with its member count and
reads it in Who has access as one row opened to its members, changes and revokes it; a member reads "through the
prisons team" on My data and asks for the team; bob reads a team's request with the members it reaches; a team's
name, typed by a person, shows as the text it is."""

from __future__ import annotations

from core.actions import provision_team
from core.actor import platform_operator
from core.context import Gatehouse
from core.domain import AccessLevel
from pages.ui.markup import literal
from tests.app.test_journeys import go, messages, open_tab, widget
from tests.app.test_sign_in import app_env, page_text, sign_in  # noqa: F401  (fixture)

SALES = "alpha-sales-analysis"  # bob administers it
NAMED = "[prisons](https://evil.example) **now**"  # a name as a person may type it: Markdown it must not become


def make_team(gatehouse: Gatehouse, name: str, *members: str) -> None:
    operator = platform_operator("test")
    provision_team.create_team(gatehouse, operator, name, provision_team.member_ids(gatehouse, members))


def team_table(at) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m.value for m in at.markdown if m.value.startswith("| Team |"))


def test_bob_grants_a_team_picked_with_its_members_and_reads_it_as_one_row(app_env: Gatehouse) -> None:  # noqa: F811
    make_team(app_env, "prisons", "carol", "dave")
    make_team(app_env, "empty")
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select(SALES)
    at.run()
    open_tab(at, "Grant access")
    widget(at, "radio", "Grant to").set_value("A team").run()
    widget(at, "text_input", "Find a team").input("guards").run()
    assert "No team called guards: the platform team makes teams." in messages(at), messages(at)
    widget(at, "text_input", "Find a team").input("").run()
    picker = widget(at, "selectbox", "Team")
    assert picker.options == ["empty (0 members)", "prisons (2 members)"], picker.options
    assert not [w for w in at.multiselect if w.label == "Users (platform members only)"]  # one form at a time

    widget(at, "button", "Grant access to the team").click().run()  # nobody chosen: said at the field
    assert "Choose the team to grant access to." in messages(at), messages(at)
    widget(at, "selectbox", "Team").select("prisons")
    widget(at, "text_area", "Paths (optional)").input("/published")
    widget(at, "button", "Grant access to the team").click().run()
    assert "Granted read only access to the prisons team: its 2 members have it, and whoever joins it." in messages(
        at
    ), messages(at)
    assert widget(at, "selectbox", "Team").value is None  # a fresh form: a second click grants nothing

    open_tab(at, "Who has access")
    assert "| prisons | Read only | /published |  | 2 members |" in team_table(at), team_table(at)
    people = "\n".join(m.value for m in at.markdown if m.value.startswith("| User |"))
    assert "prisons" not in people and "| alice | Read only | /published |" in people, people
    opened = [e for e in at.expander if "prisons team's members" in e.label]
    assert opened and "carol, dave" in [t.value for t in opened[0].text], [e.label for e in at.expander]

    open_tab(at, "Edit or revoke")
    widget(at, "radio", "Edit or revoke the access of").set_value("A team").run()
    widget(at, "selectbox", "Team").select("prisons").run()
    widget(at, "selectbox", "Access level").select(AccessLevel.READ_WRITE)
    widget(at, "button", "Save").click().run()
    assert "Saved the prisons team's access." in messages(at), messages(at)
    widget(at, "radio", "Edit or revoke the access of").set_value("A team").run()
    widget(at, "selectbox", "Team").select("prisons").run()
    widget(at, "button", "Revoke the team's access").click().run()
    said = "\n".join(t.value for t in at.text)
    assert "Every member of the team loses it through the team (carol, dave)" in said, said
    assert f"the prisons team's policy loses read and write on {SALES}/published/*" in said, said
    widget(at, "button", "Revoke the prisons team's access").click().run()  # in the dialog
    assert "Revoked the prisons team's read/write access to alpha-sales-analysis (/published)." in messages(at)
    open_tab(at, "Who has access")
    assert team_table(at) == ""


def test_a_member_reads_access_through_the_team_and_asks_for_it(app_env: Gatehouse) -> None:  # noqa: F811
    make_team(app_env, "prisons", "carol")
    make_team(app_env, NAMED, "carol")
    from core import actions
    from core.queries import get_user

    with app_env.session() as session:
        bob = get_user(session, "bob")
    actions.grant_team_access(app_env, bob, SALES, NAMED, AccessLevel.READ_ONLY, "/published")

    at = sign_in("carol")  # My data: the team's access, and which team, as text
    row = next(m.value for m in at.markdown if SALES in m.value and "through the" in m.value)
    assert literal(f"Read only, through the {NAMED} team") in row, row
    assert "](https://evil.example)" not in row and "**now**" not in row, row

    at = go(at, "pages/request_access.py", "Ask for access")
    mine = widget(at, "radio", "For")
    assert mine.options == ["me", literal(f"the {NAMED} team"), "the prisons team"], mine.options
    widget(at, "selectbox", "Data source").select("alpha-pricing-models")
    mine.set_value("prisons")
    widget(at, "text_area", "Business need").input("The prisons team prepares the pricing review each quarter.")
    widget(at, "button", "Send request").click().run()
    assert any(m.startswith("Request sent for alpha-pricing-models") for m in messages(at)), messages(at)
    open_tab(at, "My requests")
    assert "for the prisons team" in page_text(at), page_text(at)

    at = go(sign_in("bob"), "pages/admin.py")  # its decider reads whom approving reaches (the one request waiting)
    said = page_text(at) + "\n".join(t.value for t in at.text)
    assert "For the prisons team: approved, the team holds it and its 1 member have it" in said, said
    assert "Members it reaches: carol" in said, said
    assert "the prisons team's policy gains read on alpha-pricing-models/*" in said, said  # the approval preview


def test_a_teams_grant_is_reviewed_as_one_item_showing_whom_it_reaches(app_env: Gatehouse) -> None:  # noqa: F811
    from datetime import timedelta

    from core import actions
    from core.adapters.models import utcnow
    from core.queries import get_user

    make_team(app_env, "prisons", "carol", "dave")
    with app_env.session() as session:
        bob, dave = get_user(session, "bob"), get_user(session, "dave")
    actions.grant_team_access(app_env, bob, SALES, "prisons", AccessLevel.READ_ONLY, "/published")
    actions.start_review(app_env, dave, utcnow().date() + timedelta(days=10), [SALES])

    at = go(sign_in("bob"), "pages/admin.py")
    at.session_state["admin-section"] = "Review access"  # a lazy tab's click (AppTest has none)
    at.run()
    picker = widget(at, "selectbox", "Review")
    team_item = next(o for o in picker.options if o.startswith("team:prisons"))
    picker.select(team_item).run()
    said = [c.value for c in at.caption] + [t.value for t in at.text]
    assert "The prisons team's grant, reviewed as one item: it reaches 2 members." in said, said
    assert "Members it reaches: carol, dave" in said, said


def test_dave_reads_what_each_team_holds_and_makes_one(app_env: Gatehouse) -> None:  # noqa: F811
    from core import actions
    from core.queries import get_user

    make_team(app_env, "prisons", "carol", "dave")
    with app_env.session() as session:
        bob = get_user(session, "bob")
    actions.grant_team_access(app_env, bob, SALES, "prisons", AccessLevel.ADMIN)

    at = go(sign_in("dave"), "pages/platform.py")
    at.session_state["platform-tab"] = "Users"
    at.run()
    assert "1 team, 1 of them holding access." in [c.value for c in at.caption]
    widget(at, "selectbox", "Team").select("prisons").run()
    held = "\n".join(m.value for m in at.markdown if m.value.startswith("| Data source |"))
    assert f"| {SALES} | Admin | whole bucket |  |" in held, held
    said = [m.value for m in at.markdown] + [t.value for t in at.text]
    assert "The prisons team: 2 members" in said and "carol, dave" in said, said
    assert literal(f"Administers (every active member is an admin): {SALES}") in said, said

    widget(at, "text_input", "Team name").input("analysts")
    widget(at, "text_input", "Add members (usernames, separated by spaces or commas)").input("alice, nobody")
    widget(at, "button", "Make the team").click().run()
    assert "There is no platform member called nobody." in " ".join(messages(at)), messages(at)
    assert widget(at, "text_input", "Team name").value == "analysts"  # kept as typed, to put right
    widget(at, "text_input", "Add members (usernames, separated by spaces or commas)").input("alice")
    widget(at, "button", "Make the team").click().run()
    assert "Made the analysts team (1 member)." in messages(at), messages(at)
