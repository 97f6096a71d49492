"""Each persona's journey through the real pages (AppTest): the widgets a person uses, the sentence they read, the
state the database ends in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core import actions
from core.actions import sign_in_link
from core.adapters.models import AccessRequest, DataSource, Grant, RequestStatus, User, UserStatus, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, day
from core.queries import get_user
from pages.ui.markup import WORD_JOINER
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)

NEED = "I prepare the quarterly pricing review for the finance committee and need these reports."


def widget(at: AppTest, kind: str, label: str, nth: int = 0) -> Any:
    found = [w for w in getattr(at, kind) if w.label == label]
    assert found, f"no {kind} labelled {label!r}: {[w.label for w in getattr(at, kind)]}"
    return found[nth]


def messages(at: AppTest) -> list[str]:
    return [m.value for m in [*at.success, *at.error, *at.warning, *at.info]]


def go(at: AppTest, page: str, tab: str | None = None) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return open_tab(at, tab) if tab else at


TAB_LABELS = {  # the key of each page's (lazy) tabs, and their labels
    "request-tab": ["Ask for access", "My requests", "New data source", "Give up access"],
    "admin-section": ["Requests to decide", "Manage access"],
    "admin-tab": ["Who has access", "Grant access", "Edit or revoke", "Personal data", "Audit trail", "Archive"],
    "platform-tab": ["Requests", "Webapp sources", "Users", "Data sources", "AWS sync", "Audit trail"],
}
INSIDE = {"admin-tab": ("admin-section", "Manage access")}  # tabs within a tab: that tab opens first


def open_tab(at: AppTest, label: str) -> AppTest:
    """Click a tab: only the open tab of a page runs (AppTest has no tab click; the tab's state is what it sets)."""
    keys = [key for key, labels in TAB_LABELS.items() if label in labels]
    key = next((k for k in keys if k in at.session_state), None)
    if key is None:  # a tab within a tab not yet opened
        key = next(k for k in keys if k in INSIDE and INSIDE[k][0] in at.session_state)
    if key in INSIDE and at.session_state[INSIDE[key][0]] != INSIDE[key][1]:
        open_tab(at, INSIDE[key][1])
    at.session_state[key] = label
    at.run()
    assert not at.exception, at.exception
    return at


def open_refuse(at: AppTest, request_id: int | None) -> AppTest:
    """Click a request's Refuse tab: its form is built only then (the decision's tabs are lazy)."""
    at.session_state[f"decision-{request_id}"] = "Refuse"
    at.run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, source: str, paths: str = "", need: str = NEED) -> AppTest:
    go(at, "pages/request_access.py")
    widget(at, "selectbox", "Data source").select(source)
    widget(at, "text_area", "Paths (optional)").input(paths)
    widget(at, "text_area", "Business need").input(need)
    widget(at, "button", "Send request").click()
    at.run()
    assert not at.exception, at.exception
    return at


def requests_of(gatehouse: Gatehouse, username: str) -> list[AccessRequest]:
    with gatehouse.session() as session:
        user = get_user(session, username)
        return list(session.exec(select(AccessRequest).where(AccessRequest.requester_id == user.id)))


def test_alice_asks_and_bob_approves_on_the_pages(app_env: Gatehouse) -> None:  # noqa: F811
    alice = ask(sign_in("alice"), "alpha-pricing-models", "/reports")
    assert (
        "Request sent for alpha-pricing-models: it waits for an admin of the source: bob. It is under My requests."
        in messages(alice)
    )
    [request] = requests_of(app_env, "alice")
    assert request.status == RequestStatus.PENDING_ADMIN and request.paths == ("/reports",)

    bob = go(sign_in("bob"), "pages/admin.py")
    assert any("alice" in m.value and "alpha-pricing-models" in m.value for m in bob.markdown)
    widget(bob, "button", "Approve").click()
    bob.run()
    assert "Approved: alice has read only access to alpha-pricing-models." in messages(bob)
    with app_env.session() as session:
        grant = session.exec(
            select(Grant).where(Grant.user_id == get_user(session, "alice").id, Grant.request_id == request.id)
        ).one()
    assert (grant.level, grant.paths) == (AccessLevel.READ_ONLY, ("/reports",))


def test_blank_lines_and_a_pasted_s3_address_are_taken_another_sources_address_is_one_sentence(
    app_env: Gatehouse,  # noqa: F811
) -> None:
    at = ask(sign_in("alice"), "alpha-pricing-models", "/reports\ns3://alpha-sales-analysis/published")
    assert [e.value.replace(WORD_JOINER, "") for e in at.error] == [  # the joiner keeps s3:// from linking
        "Line 2 (s3://alpha-sales-analysis/published) is in alpha-sales-analysis, not in alpha-pricing-models: "
        "give folders of alpha-pricing-models here, for example /published."
    ]
    assert requests_of(app_env, "alice") == []
    # A blank line between paths, a folder's slash, an address pasted from the console, a last newline: all fine
    at = ask(sign_in("alice"), "alpha-pricing-models", "/reports/\n\n  s3://alpha-pricing-models/models/\n")
    assert not at.error, [e.value for e in at.error]
    assert [(r.paths) for r in requests_of(app_env, "alice")] == [("/reports", "/models")]


def test_a_trivial_business_need_is_refused(app_env: Gatehouse) -> None:  # noqa: F811
    at = ask(sign_in("alice"), "alpha-pricing-models", need="need it")
    assert any("business need" in e.value for e in at.error)
    assert requests_of(app_env, "alice") == []


def test_the_request_form_says_how_long_each_field_may_be_and_core_holds_to_it(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("alice"), "pages/request_access.py")
    need, paths = widget(at, "text_area", "Business need"), widget(at, "text_area", "Paths (optional)")
    assert need.max_chars == 2000 and "At most 2,000 characters." in need.help
    assert paths.max_chars == 50 * 513 and "At most 50 paths, each at most 512 bytes long." in paths.help
    # The field takes nothing past its limit, as the browser does (and Streamlit cuts what a client sends to it)
    assert need.input((NEED + " ") * 23).value == ""
    # A path list within the field's characters but past the number of paths meets core's sentence
    widget(at, "selectbox", "Data source").select("alpha-pricing-models")
    need.input(NEED)
    paths.input("\n".join(f"/reports-{n}" for n in range(51)))
    widget(at, "button", "Send request").click()
    at.run()
    assert [e.value for e in at.error] == ["There are 51 paths: give at most 50."]
    assert requests_of(app_env, "alice") == []

    bob = go(sign_in("bob"), "pages/admin.py", "Grant access")
    assert widget(bob, "text_area", "Paths (optional)").max_chars == 50 * 513


def test_orphan_journey_carol_confirms_and_dave_grants(app_env: Gatehouse) -> None:  # noqa: F811
    alice = ask(sign_in("alice"), "alpha-legacy-orphan")
    assert any("your line manager, carol" in m for m in messages(alice))
    carol = go(sign_in("carol"), "pages/confirmations.py")
    widget(carol, "button", "Confirm the business need").click()
    carol.run()
    assert any("now goes to the platform team" in m for m in messages(carol))
    dave = go(sign_in("dave"), "pages/platform.py")
    widget(dave, "button", "Grant as asked").click()
    dave.run()
    assert "Granted to alice." in messages(dave)
    [request] = requests_of(app_env, "alice")
    assert request.status == RequestStatus.APPROVED


def test_alice_creates_a_warehouse_source_and_becomes_its_admin(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("alice"), "pages/request_access.py", tab="New data source")
    widget(at, "text_input", "Name").input("alpha-alice-analysis")
    widget(at, "button", "Create data source").click()
    at.run()
    assert "alpha-alice-analysis is created; you are its admin." in messages(at)
    assert app_env.aws.bucket_exists("alpha-alice-analysis")
    taken = go(sign_in("bob"), "pages/request_access.py", tab="New data source")
    widget(taken, "text_input", "Name").input("alpha-alice-analysis")
    widget(taken, "button", "Create data source").click()
    taken.run()
    assert any("already exists" in e.value for e in taken.error)


def test_alice_creates_a_source_from_my_data_with_the_same_form(app_env: Gatehouse) -> None:  # noqa: F811
    at = sign_in("alice")  # My data, where she looks for her sources
    assert not [w for w in at.text_input if w.label == "Name"]  # the form opens at a click, in a dialog
    widget(at, "button", "New data source").click().run()
    assert [f"{w.label}" for w in at.button if w.label in ("Create data source", "Ask the platform team")] == [
        "Create data source",
        "Ask the platform team",
    ]  # Request access → New data source's own forms
    widget(at, "text_input", "Name").input("alpha-alice-notes")
    widget(at, "button", "Create data source").click().run()
    assert not at.exception, at.exception
    assert "alpha-alice-notes is created; you are its admin." in messages(at)
    assert "alpha-alice-notes" in "".join(m.value for m in at.markdown)  # in her table, as its admin
    assert app_env.aws.bucket_exists("alpha-alice-notes")
    widget(at, "button", "New data source").click().run()
    widget(at, "text_input", "Name").input("alpha-alice-notes")
    widget(at, "button", "Create data source").click().run()
    assert any("already exists" in e.value for e in at.error)  # said in the dialog, which stays open


def test_dave_adds_a_joiner_and_marks_a_leaver(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("dave"), "pages/platform.py", tab="Users")
    widget(at, "text_input", "Username (as on GitHub)").input("frank")
    widget(at, "text_input", "Email").input("frank@example.org")
    widget(at, "text_input", "Line manager's username (optional)").input("carol")
    widget(at, "button", "Add").click()
    at.run()
    [added] = [m for m in messages(at) if m.startswith("Added frank.")]
    assert "frank chooses their password with the one-time link below, shown only now" in added
    [first] = [code.value for code in at.code]  # shown whole, to copy
    assert first.startswith(f"{app_env.settings.app_url}/?set-password=")
    widget(at, "text_input", "Member's username").input("frank")
    widget(at, "button", "Make a link").click()
    at.run()
    assert any(m.startswith("frank chooses their password") for m in messages(at))
    [again] = [code.value for code in at.code]
    assert again != first  # a new link, and the first works no more
    with pytest.raises(InvalidInput):
        app_env.run(sign_in_link.link_holder, first.rsplit("=", 1)[1])
    widget(at, "text_input", "Username").input("bob")
    widget(at, "button", "Mark as left…").click()
    at.run()
    widget(at, "button", "Mark bob as left").click()  # in the dialog that says what it does
    at.run()
    assert any(
        "bob is marked as having left; all their access is revoked in AWS." in m and "alpha-pricing-models" in m
        for m in messages(at)
    )
    with app_env.session() as session:
        assert get_user(session, "bob").status == UserStatus.LEFT
        assert session.exec(select(User).where(User.username == "frank")).one().line_manager_id is not None


def test_bob_grants_several_users_and_revokes_one(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select("alpha-pricing-models")
    at.run()
    open_tab(at, "Grant access")
    widget(at, "multiselect", "Users (platform members only)").select("alice").select("carol")
    widget(at, "text_area", "Paths (optional)").input("/models")
    widget(at, "button", "Grant access").click()
    at.run()
    assert "Granted read only access to alice, carol." in messages(at)
    open_tab(at, "Edit or revoke")
    widget(at, "selectbox", "User").select("carol")
    at.run()
    widget(at, "button", "Revoke access").click()
    at.run()
    widget(at, "button", "Revoke carol's access").click()  # in the dialog that says what it does
    at.run()
    assert "Revoked carol's read only access to alpha-pricing-models (/models)." in messages(at)
    with app_env.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == "alpha-pricing-models")).one()
        holders = set(
            session.exec(
                select(User.username).join(Grant, Grant.user_id == User.id).where(Grant.source_id == source.id)
            )
        )
    assert holders == {"bob", "alice"}


def test_dave_sees_drift_on_the_platform_page_and_repairs_it(app_env: Gatehouse) -> None:  # noqa: F811
    import json

    wide_open = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    app_env.aws.iam.put_role_policy(
        RoleName="alpha_user_alice", PolicyName="s3-access", PolicyDocument=json.dumps(wide_open)
    )
    at = go(sign_in("dave"), "pages/platform.py", tab="AWS sync")
    widget(at, "button", "Check for drift").click()
    at.run()
    shown = "\n".join(df.value.to_string() for df in at.dataframe)
    assert "alpha_user_alice" in shown and "that Gatehouse did not grant" in shown
    widget(at, "button", "Repair drift…").click()
    at.run()
    widget(at, "button", "Repair drift").click()
    at.run()
    assert not at.exception, at.exception
    assert "No drift: AWS matches the database." in messages(at)
    live = app_env.aws.iam.get_role_policy(RoleName="alpha_user_alice", PolicyName="s3-access")["PolicyDocument"]
    assert live != wide_open


def others_listed(at: AppTest) -> set[str]:
    """The names in My data's table of other sources (the last table on the page)."""
    return set(at.dataframe[-1].value["Data source"])


def test_other_sources_are_paged_on_my_data(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        for n in range(30):
            session.add(DataSource(name=f"alpha-more-{n:02d}", kind="warehouse", region="eu-west-1"))
    at = sign_in("alice")
    assert "Page 1 of 2 · 33 sources" in [c.value for c in at.caption]
    first = others_listed(at)
    widget(at, "button", "Next").click()
    at.run()
    assert "Page 2 of 2 · 33 sources" in [c.value for c in at.caption]
    second = others_listed(at)
    assert len(first) == 25 and len(second) == 8 and not first & second
    pager_buttons = [b.label for b in at.button if b.label in ("Previous", "Next")]
    assert pager_buttons == ["Previous"]  # the last page offers only the way back
    widget(at, "button", "Previous").click()
    at.run()
    assert "Page 1 of 2 · 33 sources" in [c.value for c in at.caption] and others_listed(at) == first
    assert [b.label for b in at.button if b.label in ("Previous", "Next")] == ["Next"]


def test_a_long_admin_queue_is_paged(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == "alpha-pricing-models")).one()
        for n in range(25):
            asker = User(username=f"asker-{n:02d}", email=f"asker{n}@example.org")
            session.add(asker)
            session.flush()
            session.add(
                AccessRequest(requester_id=asker.id, source_id=source.id, level="read-only", business_need=NEED)
            )
    at = go(sign_in("bob"), "pages/admin.py")
    assert "Requests to decide (25)" in [h.value for h in at.subheader]
    text = "\n".join(m.value for m in at.markdown)
    assert all(f"asker-{n:02d}" in text for n in range(15, 25)) and "asker-14" not in text  # newest first
    assert len([b for b in at.button if b.label == "Approve"]) == 1  # one request's forms at a time
    assert len(widget(at, "selectbox", "Decide on").options) == 10
    assert "Page 1 of 3 · 25 requests" in [c.value for c in at.caption]
    widget(at, "selectbox", "Decide on").select_index(3)
    at.run()
    assert any(m.value.startswith("**asker-21** asks for") for m in at.markdown)
    widget(at, "button", "Approve").click()
    at.run()
    assert "Approved: asker-21 has read only access to alpha-pricing-models." in messages(at)
    assert "Requests to decide (24)" in [h.value for h in at.subheader]
    widget(at, "button", "Next").click()
    at.run()
    assert "Page 2 of 3 · 24 requests" in [c.value for c in at.caption]
    text = "\n".join(m.value for m in at.markdown)
    assert "asker-13" in text and "asker-24" not in text


def test_bob_refuses_with_a_reason_that_alice_reads(app_env: Gatehouse) -> None:  # noqa: F811
    ask(sign_in("alice"), "alpha-pricing-models", "/reports")
    bob = go(sign_in("bob"), "pages/admin.py")
    assert not [w for w in bob.text_area if w.label == "Reason for refusing"]  # built once Refuse is opened
    open_refuse(bob, requests_of(app_env, "alice")[0].id)
    reason = widget(bob, "text_area", "Reason for refusing")
    assert reason.max_chars == 1000 and reason.help.endswith("At most 1,000 characters.")
    reason.input("Use the published extract instead.")
    widget(bob, "button", "Refuse").click()
    bob.run()
    assert "Refused alice's request; they are told why." in messages(bob)
    [request] = requests_of(app_env, "alice")
    assert request.status == RequestStatus.REFUSED and request.decision_reason == "Use the published extract instead."


def test_a_heavy_admin_finds_the_source_to_manage_by_name(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        bob = get_user(session, "bob")
        for n in range(55):
            source = DataSource(name=f"alpha-bob-{n:02d}", kind="warehouse", region="eu-west-1")
            session.add(source)
            session.flush()
            session.add(Grant(source_id=source.id, user_id=bob.id, level=AccessLevel.ADMIN, paths=[]))
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    assert len(widget(at, "selectbox", "Data source").options) == 50  # the first 50 of 56, by name
    widget(at, "text_input", "Find one of your sources").input("bob-54")
    at.run()
    assert widget(at, "selectbox", "Data source").options == ["alpha-bob-54"]
    assert "bob" in "\n".join(m.value for m in at.markdown if m.value.startswith("| User |"))


def test_bob_finds_his_choices_again_after_deciding_a_request(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    sources = widget(at, "selectbox", "Data source").options
    assert len(sources) > 1
    widget(at, "selectbox", "Data source").select(sources[-1])
    at.run()
    widget(at, "text_input", "Find who has access").input("bo")
    at.run()
    open_tab(at, "Edit or revoke")
    open_tab(at, "Requests to decide")  # the manage tab is not drawn in this run
    assert not [w for w in at.selectbox if w.label == "Data source"]
    open_tab(at, "Manage access")
    assert widget(at, "selectbox", "Data source").value == sources[-1]
    assert widget(at, "selectbox", "User").options == ["bob"]  # still on Edit or revoke, who matches "bo"
    open_tab(at, "Who has access")
    assert widget(at, "text_input", "Find who has access").value == "bo"


def test_the_edit_form_starts_from_each_persons_own_access(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        bob = get_user(session, "bob")
    actions.grant_access(app_env, bob, "alpha-pricing-models", ["alice"], AccessLevel.READ_ONLY, "/models")
    actions.grant_access(app_env, bob, "alpha-pricing-models", ["carol"], AccessLevel.READ_WRITE)
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select("alpha-pricing-models")
    at.run()
    open_tab(at, "Edit or revoke")
    widget(at, "selectbox", "User").select("alice")
    at.run()
    assert widget(at, "text_area", "Paths").value == "/models"
    widget(at, "selectbox", "User").select("carol")
    at.run()
    assert widget(at, "text_area", "Paths").value == ""
    assert widget(at, "selectbox", "Access level").value == AccessLevel.READ_WRITE
    widget(at, "button", "Save").click()
    at.run()
    assert "Saved carol's access." in messages(at)
    with app_env.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == "alpha-pricing-models")).one()
        carol = get_user(session, "carol")
        kept = session.exec(select(Grant).where(Grant.source_id == source.id, Grant.user_id == carol.id)).one()
        assert (kept.level, kept.paths) == (AccessLevel.READ_WRITE, ())  # not alice's read only on /models


def test_revoking_the_last_grant_of_the_last_page_shows_the_page_before(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        bob = get_user(session, "bob")
        dave = get_user(session, "dave")
    for n in range(25):  # with bob, 26 holders: two pages of 25
        actions.add_user(app_env, dave, f"reader-{n:02d}", f"reader-{n:02d}@example.org")
    actions.grant_access(
        app_env, bob, "alpha-pricing-models", [f"reader-{n:02d}" for n in range(25)], AccessLevel.READ_ONLY
    )
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select("alpha-pricing-models")
    at.run()
    widget(at, "button", "Next").click()
    at.run()
    assert "Page 2 of 2" in [c.value.split(" ·")[0] for c in at.caption]
    last = access_rows(at)
    assert len(last) == 1
    actions.revoke_access(app_env, bob, "alpha-pricing-models", last[0])
    at.run()
    assert len(access_rows(at)) == 25  # the page before, not "Nobody has access yet."
    assert "Nobody has access yet." not in [c.value for c in at.caption]


def access_rows(at: AppTest) -> list[str]:
    table = next(m.value for m in at.markdown if m.value.startswith("| User |"))
    return [line.split("|")[1].strip() for line in table.splitlines()[2:]]


def test_an_end_date_is_one_optional_field_on_every_form(app_env: Gatehouse) -> None:  # noqa: F811
    """Empty means access that does not end; a date set is kept, shown, and can be taken away again."""
    ends = utcnow().date() + timedelta(days=30)

    def grant_of(username: str) -> Grant:
        with app_env.session() as session:
            source = session.exec(select(DataSource).where(DataSource.name == "alpha-pricing-models")).one()
            user = get_user(session, username)
            return session.exec(select(Grant).where(Grant.source_id == source.id, Grant.user_id == user.id)).one()

    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select("alpha-pricing-models")
    at.run()
    open_tab(at, "Grant access")
    assert widget(at, "date_input", "End date (optional)").value is None  # no end unless one is chosen
    widget(at, "multiselect", "Users (platform members only)").select("alice").select("carol")
    widget(at, "date_input", "End date (optional)").set_value(ends)
    widget(at, "button", "Grant access").click()
    at.run()
    assert "Granted read only access to alice, carol." in messages(at)
    assert grant_of("alice").expires_on == grant_of("carol").expires_on == ends
    open_tab(at, "Who has access")
    assert f"| alice | Read only | whole bucket | {day(ends)} |" in "\n".join(m.value for m in at.markdown)

    open_tab(at, "Edit or revoke")
    widget(at, "selectbox", "User").select("carol")
    at.run()
    assert widget(at, "date_input", "End date (optional)").value == ends  # the form starts from carol's own
    widget(at, "date_input", "End date (optional)").set_value(None)
    widget(at, "button", "Save").click()
    at.run()
    assert "Saved carol's access." in messages(at)
    assert grant_of("carol").expires_on is None and grant_of("alice").expires_on == ends

    alice = go(sign_in("alice"), "pages/request_access.py")
    widget(alice, "selectbox", "Data source").select("alpha-sales-analysis")
    widget(alice, "text_area", "Business need").input(NEED)
    widget(alice, "date_input", "End date (optional)").set_value(ends)
    widget(alice, "button", "Send request").click()
    alice.run()
    assert not alice.error, [e.value for e in alice.error]
    asked = [r for r in requests_of(app_env, "alice") if r.expires_on is not None]
    assert [r.expires_on for r in asked] == [ends]
