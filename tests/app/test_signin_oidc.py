"""Sign-in through the identity provider (GATEHOUSE_SIGN_IN=oidc), through Streamlit's AppTest: the real app script,
with `st.user` holding what Streamlit's identity cookie would (AppTest.user). The provider itself, st.login's
redirects and st.logout's are in Chromium (tests/browser/test_oidc_in_chromium.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core import auth
from core.adapters.models import AuditEvent
from core.adapters.sign_in_models import JoinRequest
from core.config import Settings
from core.context import Gatehouse
from pages.ui.oidc_signin import NOT_SET_UP

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def oidc_env(gatehouse: Gatehouse, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gatehouse]:
    monkeypatch.setenv("GATEHOUSE_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("GATEHOUSE_LOCAL_AWS_PORT", str(settings.local_aws_port))
    monkeypatch.setenv("GATEHOUSE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("GATEHOUSE_SIGN_IN", "oidc")
    st.cache_resource.clear()
    yield gatehouse
    st.cache_resource.clear()


def run_as(user: dict[str, Any]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def identity(username: str, **claims: Any) -> dict[str, Any]:
    return {
        "is_logged_in": True,
        "iss": "https://idp.example.org",
        "sub": f"sub-{username}",
        "iat": int(time.time()),
        "preferred_username": username,
        **claims,
    }


def test_without_the_auth_section_the_page_says_so_in_one_sentence(oidc_env: Gatehouse) -> None:
    at = run_as({})  # st.user holds no is_logged_in: Streamlit found no [auth] section
    assert [e.value for e in at.error] == [NOT_SET_UP.replace("[", "\\[").replace("]", "\\]")]
    assert not at.button and not at.text_input


def test_signed_out_there_is_one_sign_in_button_and_no_password_form(oidc_env: Gatehouse) -> None:
    at = run_as({"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.text_input  # no username, no password: the demo passwords do nothing


def test_a_member_named_by_the_claim_gets_their_pages(oidc_env: Gatehouse) -> None:
    at = run_as(identity("dave"))
    assert "My data" in [t.value for t in at.title]
    assert "Platform" in {info["page_name"] for info in at._registered_pages.values()}
    at.run()  # a rerun does not sign in again
    with oidc_env.session() as session:
        sign_ins = session.exec(select(AuditEvent).where(AuditEvent.action == "sign-in")).all()
    assert [(e.actor, e.details) for e in sign_ins] == [("dave", {"method": "oidc"})]


def test_someone_unknown_is_refused_in_one_sentence_and_asks_to_join(oidc_env: Gatehouse) -> None:
    at = run_as(identity("mallory", email="mallory@example.org", name="[Mallory](https://evil.example)"))
    assert [w.value for w in at.warning] == [
        "You are not a member of the platform yet: the platform team adds members."
    ]
    assert not at.title or "My data" not in [t.value for t in at.title]
    assert not at._registered_pages or "My data" not in {i["page_name"] for i in at._registered_pages.values()}
    next(b for b in at.button if b.label == "Ask to join").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Your request to join is with the platform team."]
    with oidc_env.session() as session:
        [request] = session.exec(select(JoinRequest)).all()
    assert (request.identity, request.display_name) == ("mallory", "[Mallory](https://evil.example)")


def test_a_leaver_is_told_they_cannot_sign_in(oidc_env: Gatehouse) -> None:
    at = run_as(identity("erin"))
    assert [w.value for w in at.warning] == [
        "You have left the platform, so you cannot sign in: ask the platform team if this is wrong."
    ]
    assert not any(b.label == "Ask to join" for b in at.button)


def test_another_identity_claiming_a_members_name_is_refused_in_one_sentence(oidc_env: Gatehouse) -> None:
    assert "My data" in [t.value for t in run_as(identity("dave")).title]  # dave's own identity, bound now
    at = run_as(identity("dave", sub="attacker-123"))
    assert [w.value for w in at.warning] == [auth.ANOTHER_IDENTITY]
    assert not at._registered_pages or "Platform" not in {i["page_name"] for i in at._registered_pages.values()}
    assert not any(b.label == "Ask to join" for b in at.button)


def test_claims_too_old_for_the_platform_group_ask_to_sign_in_again(
    oidc_env: Gatehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEHOUSE_OIDC_PLATFORM_GROUP", "platform-team")
    st.cache_resource.clear()
    at = run_as(identity("dave", groups=["platform-team"], iat=int(time.time()) - 31 * 24 * 3600))
    assert "My data" in [t.value for t in at.title]
    assert "Platform" not in {info["page_name"] for info in at._registered_pages.values()}
    assert any("sign in again" in i.value for i in at.info)
    assert any(b.label == "Sign in again" for b in at.button)
