"""Risky clicks (issue 25, item 13): what takes access away (revoke, give up, mark a leaver, archive) acts only from
a dialog that names what will happen, and Cancel changes nothing; a form that acted starts fresh, so that a second
click does not act again; Edit or revoke opens on nobody; a leaver's username is checked before anything is asked."""

from __future__ import annotations

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core import actions
from core.adapters.models import DataSource, Grant, RequestStatus, User, UserStatus
from core.context import Gatehouse
from core.domain import AccessLevel
from core.queries import get_user
from tests.app.test_journeys import ask, go, messages, open_tab, requests_of, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)

PRICING = "alpha-pricing-models"


def holders(gatehouse: Gatehouse, source: str = PRICING) -> set[str]:
    with gatehouse.session() as session:
        found = session.exec(select(DataSource).where(DataSource.name == source)).one()
        return set(
            session.exec(select(User.username).join(Grant, Grant.user_id == User.id).where(Grant.source_id == found.id))
        )


def levels_of(gatehouse: Gatehouse, username: str, source: str = PRICING) -> list[AccessLevel]:
    with gatehouse.session() as session:
        found = session.exec(select(DataSource).where(DataSource.name == source)).one()
        holder = get_user(session, username)
        grants = session.exec(select(Grant).where(Grant.source_id == found.id, Grant.user_id == holder.id))
        return [AccessLevel(g.level) for g in grants]


def shown(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [t.value for t in at.text])


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def test_revoke_asks_in_a_dialog_that_says_what_the_role_loses_and_cancel_changes_nothing(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        bob = get_user(session, "bob")
    actions.grant_access(app_env, bob, PRICING, ["alice"], AccessLevel.READ_ONLY, "/models")
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select(PRICING)
    at.run()
    open_tab(at, "Edit or revoke")
    assert widget(at, "selectbox", "User").value is None  # never on bob himself, nor anyone, by default
    assert "Save" not in labels(at) and "Revoke access" not in labels(at)
    widget(at, "selectbox", "User").select("alice")
    at.run()
    widget(at, "button", "Revoke access").click()
    at.run()
    assert "alice" in holders(app_env)  # the click only asks
    said = shown(at)
    assert f"Revoke alice's read only access to {PRICING} (/models)?" in said.replace("\\", "")
    assert f"alice's role loses read on {PRICING}/models/*" in said and "alice is told." in said
    widget(at, "button", "Cancel").click()
    at.run()
    assert "Revoke alice's access" not in labels(at) and "alice" in holders(app_env)
    widget(at, "button", "Revoke access").click()
    at.run()
    widget(at, "button", "Revoke alice's access").click()
    at.run()
    assert f"Revoked alice's read only access to {PRICING} (/models)." in messages(at)
    assert "alice" not in holders(app_env)
    assert "Revoke alice's access" not in labels(at)  # the dialog is closed


def test_a_grant_clears_its_form_so_a_second_click_grants_nothing_again(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select(PRICING)
    at.run()
    open_tab(at, "Grant access")
    widget(at, "multiselect", "Users (platform members only)").select("carol")
    widget(at, "radio", "Access level").set_value(AccessLevel.READ_WRITE)
    widget(at, "text_area", "Paths (optional)").input("/models")
    widget(at, "button", "Grant access").click()
    at.run()
    assert "Granted read/write access to carol." in messages(at)
    assert widget(at, "multiselect", "Users (platform members only)").value == []
    assert widget(at, "text_area", "Paths (optional)").value == ""
    assert widget(at, "radio", "Access level").value == AccessLevel.READ_ONLY
    widget(at, "button", "Grant access").click()
    at.run()
    assert [e.value for e in at.error] == ["Choose at least one user to grant access to."]


def test_the_leaver_box_checks_the_username_first_then_asks_in_a_dialog(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("dave"), "pages/platform.py", tab="Users")
    assert not [c for c in at.checkbox if "Revoke" in c.label]  # no tick to ask for before a name
    widget(at, "button", "Mark as left…").click()
    at.run()
    assert [e.value for e in at.error] == ["Type the username of the person who has left."]
    widget(at, "text_input", "Username").input("nobody")
    widget(at, "button", "Mark as left…").click()
    at.run()
    assert [e.value for e in at.error] == ["There is no platform member called nobody."]
    assert not [b for b in labels(at) if b.startswith("Mark nobody")]
    widget(at, "text_input", "Username").input("bob")
    widget(at, "button", "Mark as left…").click()
    at.run()
    said = shown(at)
    assert "Mark bob as having left?" in said and PRICING in said and "only admin" in said
    with app_env.session() as session:
        assert get_user(session, "bob").status == UserStatus.ACTIVE  # asked, not done
    widget(at, "button", "Mark bob as left").click()
    at.run()
    assert any(m.startswith("bob is marked as having left") for m in messages(at))
    assert widget(at, "text_input", "Username").value == ""  # the box is fresh again
    with app_env.session() as session:
        assert get_user(session, "bob").status == UserStatus.LEFT


def test_archiving_and_giving_up_access_ask_first(app_env: Gatehouse) -> None:  # noqa: F811
    alice = go(sign_in("alice"), "pages/request_access.py", "Give up access")
    source = widget(alice, "selectbox", "Data source").value
    widget(alice, "button", "Give up my access").click()
    alice.run()
    assert f"Give up your access to {source}?" in shown(alice).replace("\\", "")
    assert "alice" in holders(app_env, source)
    [*_, confirm] = [b for b in alice.button if b.label == "Give up my access"]  # the dialog's own button
    confirm.click()
    alice.run()
    assert f"Your access to {source} is removed." in messages(alice)
    assert "alice" not in holders(app_env, source)

    bob = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(bob, "selectbox", "Data source").select(PRICING)
    bob.run()
    open_tab(bob, "Archive")
    widget(bob, "button", "Archive data source").click()
    bob.run()
    assert f"Archive {PRICING}?" in shown(bob).replace("\\", "") and "Its open requests are refused." in shown(bob)
    widget(bob, "button", f"Archive {PRICING}").click()
    bob.run()
    assert f"{PRICING} is archived." in messages(bob)


def test_removing_an_admin_by_lowering_their_level_asks_first(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        bob = get_user(session, "bob")
    actions.grant_access(app_env, bob, PRICING, ["carol"], AccessLevel.ADMIN)
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select(PRICING)
    at.run()
    open_tab(at, "Edit or revoke")
    widget(at, "selectbox", "User").select("carol")
    at.run()
    widget(at, "selectbox", "Access level").select(AccessLevel.READ_WRITE)
    widget(at, "text_area", "Paths").input(f"s3://{PRICING}/reports/")  # pasted as an address: stored as /reports
    widget(at, "button", "Save").click()
    at.run()
    assert f"Remove carol as an admin of {PRICING}?" in shown(at).replace("\\", "")
    assert "carol keeps read/write access to /reports." in shown(at).replace("\\", "")  # as it will be stored
    assert levels_of(app_env, "carol") == [AccessLevel.ADMIN]  # asked, not done
    widget(at, "button", "Remove carol as admin").click()
    at.run()
    assert f"Saved carol's access: carol is no longer an admin of {PRICING}." in messages(at)
    assert levels_of(app_env, "carol") == [AccessLevel.READ_WRITE]


def test_the_add_member_form_is_fresh_after_success_and_keeps_what_was_typed_when_refused(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("dave"), "pages/platform.py", tab="Users")
    widget(at, "text_input", "Username (as on GitHub)").input("frank")
    widget(at, "text_input", "Email").input("not an email")
    widget(at, "button", "Add").click()
    at.run()
    assert at.error and widget(at, "text_input", "Username (as on GitHub)").value == "frank"  # refused: kept
    widget(at, "text_input", "Email").input("frank@example.org")
    widget(at, "button", "Add").click()
    at.run()
    assert any(m.startswith("Added frank.") for m in messages(at))
    assert widget(at, "text_input", "Username (as on GitHub)").value == ""
    assert widget(at, "text_input", "Email").value == ""


def test_the_sign_in_link_form_keeps_a_mistyped_name_and_is_fresh_after_a_link(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("dave"), "pages/platform.py", tab="Users")
    widget(at, "text_input", "Member's username").input("franc")
    widget(at, "button", "Make a link").click()
    at.run()
    assert at.error and widget(at, "text_input", "Member's username").value == "franc"  # refused: kept to mend
    widget(at, "text_input", "Member's username").input("alice")
    widget(at, "button", "Make a link").click()
    at.run()
    assert any(m.startswith("alice chooses their password") for m in messages(at)), messages(at)
    assert widget(at, "text_input", "Member's username").value == ""


def test_withdrawing_a_request_asks_first_and_tells_who_it_waited_for(app_env: Gatehouse) -> None:  # noqa: F811
    at = ask(sign_in("alice"), PRICING, "/models")
    at = go(at, "pages/request_access.py")
    open_tab(at, "My requests")
    widget(at, "button", "Withdraw").click()
    at.run()
    asked = shown(at)
    assert f"Withdraw your request for {PRICING}?" in asked.replace("\\", "") and "they are told" in asked
    widget(at, "button", "Cancel").click()
    at.run()
    assert [r.status for r in requests_of(app_env, "alice")] == [RequestStatus.PENDING_ADMIN]  # Cancel changes nothing
    widget(at, "button", "Withdraw").click()
    at.run()
    widget(at, "button", "Withdraw request").click()
    at.run()
    assert f"Request for {PRICING} withdrawn." in messages(at)
    assert [r.status for r in requests_of(app_env, "alice")] == [RequestStatus.WITHDRAWN]
    assert "Withdraw" not in labels(at)
