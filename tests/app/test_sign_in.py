"""Sign-in and My data per persona, through Streamlit's AppTest (the real app script, no browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import auth
from core.adapters.models import utcnow
from core.adapters.sign_in_models import SignInFailure
from core.config import Settings
from core.context import Gatehouse
from core.queries import get_user
from core.reads.people import signed_in
from core.seed import DEMO_PASSWORD
from pages.ui import signin

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app_env(gatehouse: Gatehouse, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gatehouse]:
    """The app reads its settings from the environment, as in production; point it at the test's parts."""
    monkeypatch.setenv("GATEHOUSE_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("GATEHOUSE_LOCAL_AWS_PORT", str(settings.local_aws_port))
    monkeypatch.setenv("GATEHOUSE_DATA_DIR", str(settings.data_dir))
    st.cache_resource.clear()
    yield gatehouse
    st.cache_resource.clear()


def sign_in(username: str, password: str = DEMO_PASSWORD) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + [s.value for s in at.subheader]
    parts += [c.value for c in at.caption] + [e.value for e in at.error] + [i.value for i in at.info]
    for table in [*at.table, *at.dataframe]:
        parts.append(table.value.reset_index().to_string())
    return "\n".join(str(p) for p in parts)


def test_a_wrong_password_is_refused(app_env: Gatehouse) -> None:
    at = sign_in("alice", "not-her-password")
    assert [e.value for e in at.error] == [auth.SIGN_IN_FAILED]
    assert "My data" not in [t.value for t in at.title]


def test_an_unknown_username_is_refused_the_same_way(app_env: Gatehouse) -> None:
    at = sign_in("mallory")
    assert [e.value for e in at.error] == [auth.SIGN_IN_FAILED]


def test_someone_who_has_left_is_told_so_only_after_their_right_password(app_env: Gatehouse) -> None:
    at = sign_in("erin")
    assert [e.value for e in at.error] == [
        "You have left the platform, so you cannot sign in: ask the platform team if this is wrong."
    ]
    assert "My data" not in [t.value for t in at.title]
    at = sign_in("erin", "not-her-password")  # a stranger guessing learns nothing about who exists
    assert [e.value for e in at.error] == [auth.SIGN_IN_FAILED]


@pytest.mark.parametrize(("username", "password"), [("", ""), ("alice", ""), ("", DEMO_PASSWORD), ("  ", "x")])
def test_an_incomplete_form_asks_for_both_fields(app_env: Gatehouse, username: str, password: str) -> None:
    at = sign_in(username, password)
    assert [e.value for e in at.error] == ["Enter your username and password."]
    assert "My data" not in [t.value for t in at.title]


def test_repeated_failures_make_this_browser_wait_with_the_same_message(app_env: Gatehouse) -> None:
    """No lock-out message (it existed only for real accounts): every failure reads the same, and a client the
    throttle holds back is refused even the right password, with that same message."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    for _ in range(app_env.settings.max_failed_sign_ins + 1):
        at.text_input[0].input("mallory")
        at.text_input[1].input("guess")
        at.button[0].click().run()
        assert [e.value for e in at.error] == [auth.SIGN_IN_FAILED]
    with app_env.session() as session:  # what a long run of guesses leaves: this client waits the whole window
        now = utcnow()
        session.add_all(SignInFailure(at=now, client=auth.UNKNOWN_CLIENT, username="alice") for _ in range(30))
    at = sign_in("alice")
    assert [e.value for e in at.error] == [auth.SIGN_IN_FAILED]
    assert "My data" not in [t.value for t in at.title]


def test_alice_sees_her_path_grant_and_not_the_hidden_bucket(app_env: Gatehouse) -> None:
    at = sign_in("alice")
    text = page_text(at)
    assert "My data" in [t.value for t in at.title]
    assert "**alpha-sales-analysis**" in text
    assert "/published" in text.replace("\\", "")
    assert "Read only" in text and "Read/write" in text
    assert "alpha-pricing-models" in text and "bob" in text
    assert "none left (orphaned)" in text
    assert "alpha-de-raw-intake" not in text
    # straight to her path: her role may not list the bucket's root
    assert (
        "[Open on AWS](https://eu-west-1.console.aws.amazon.com/s3/buckets/alpha-sales-analysis"
        "?region=eu-west-1&tab=objects&prefix=published/)"
    ) in text


PAGES = {
    "My data": "pages/my_data.py",
    "Browse": "pages/browse.py",
    "Request access": "pages/request_access.py",
    "Inbox": "pages/inbox.py",
    "Upload": "pages/upload.py",
    "Admin": "pages/admin.py",
    "Confirmations": "pages/confirmations.py",
    "Platform": "pages/platform.py",
}


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("alice", {"My data", "Browse", "Request access", "Inbox", "Upload"}),
        ("bob", {"My data", "Browse", "Request access", "Inbox", "Upload", "Admin"}),
        ("carol", {"My data", "Browse", "Request access", "Inbox", "Upload", "Admin", "Confirmations"}),
        ("dave", {"My data", "Browse", "Request access", "Inbox", "Upload", "Admin", "Platform"}),
    ],
)
def test_each_persona_gets_the_pages_of_their_roles(app_env: Gatehouse, username: str, allowed: set[str]) -> None:
    at = sign_in(username)
    # The sidebar navigation holds exactly the persona's pages.
    assert {info["page_name"] for info in at._registered_pages.values()} == allowed
    for title, path in PAGES.items():
        if title in allowed:
            at.switch_page(path).run()
            assert not at.exception, at.exception
            assert title in [t.value for t in at.title], (username, title)
        else:
            # Not in the navigation: asking for it lands on My data (or AppTest refuses the unknown page).
            try:
                at.switch_page(path).run()
            except ValueError:
                continue
            assert not at.exception, at.exception
            assert title not in [t.value for t in at.title], (username, title)


@pytest.mark.parametrize("page", ["pages/platform.py", "pages/admin.py", "pages/confirmations.py"])
def test_a_page_run_without_the_role_refuses_to_render(app_env: Gatehouse, page: str) -> None:
    with app_env.session() as session:
        alice = get_user(session, "alice")
        roles = signed_in(session, alice.username).roles
    at = AppTest.from_file(str(Path(APP).parent / page), default_timeout=60)
    at.session_state["actor"] = signin.Actor(alice, roles)
    at.run()
    assert not at.exception
    assert next(e.value for e in at.error).startswith("This page is for")
    assert not at.title


def test_dave_sees_the_platform_page_with_hidden_sources(app_env: Gatehouse) -> None:
    at = sign_in("dave")
    at.switch_page("pages/platform.py").run()
    assert not at.exception
    assert "Platform" in [t.value for t in at.title]


def test_sign_out_returns_to_the_sign_in_form(app_env: Gatehouse) -> None:
    at = sign_in("bob")
    widget = next(b for b in at.button if b.label == "Sign out")
    widget.click().run()
    assert not at.exception
    assert "My data" not in [t.value for t in at.title]
    assert [t.label for t in at.text_input] == ["Username", "Password"]
