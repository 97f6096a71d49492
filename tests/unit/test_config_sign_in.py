"""GATEHOUSE_SIGN_IN and the OIDC settings (issue #15): password by default in local mode, a choice required in aws
mode; with oidc, Gatehouse's own cookie key is not needed (Streamlit's [auth] cookie_secret signs the sign-in)."""

from __future__ import annotations

import pytest

from core.config import Settings, load_settings
from core.domain import GatehouseError

REAL_KEY = "a-real-secret-of-at-least-32-characters!"


def test_local_mode_signs_in_with_passwords_and_needs_no_configuration() -> None:
    settings = Settings(_env_file=None)
    assert settings.sign_in_method == "password"
    assert settings.oidc_username_claim == "preferred_username"
    assert settings.oidc_platform_group is None


def test_local_mode_may_sign_in_through_the_identity_provider() -> None:
    assert Settings(_env_file=None, sign_in="oidc").sign_in_method == "oidc"


def test_aws_mode_requires_the_way_in_to_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_AWS_MODE", "aws")
    monkeypatch.setenv("GATEHOUSE_COOKIE_KEY", REAL_KEY)
    with pytest.raises(GatehouseError) as raised:
        load_settings(_env_file=None)
    message = str(raised.value)
    assert "GATEHOUSE_SIGN_IN must be set" in message and "password" in message and "oidc" in message
    assert "\n" not in message


@pytest.mark.parametrize("way", ["password", "oidc"])
def test_aws_mode_takes_either_way_in(monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    monkeypatch.setenv("GATEHOUSE_AWS_MODE", "aws")
    monkeypatch.setenv("GATEHOUSE_COOKIE_KEY", REAL_KEY)
    monkeypatch.setenv("GATEHOUSE_SIGN_IN", way)
    assert load_settings(_env_file=None).sign_in_method == way


def test_oidc_in_aws_mode_needs_no_gatehouse_cookie_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_AWS_MODE", "aws")
    monkeypatch.setenv("GATEHOUSE_SIGN_IN", "oidc")
    assert load_settings(_env_file=None).sign_in_method == "oidc"


def test_passwords_in_aws_mode_still_need_a_real_cookie_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_AWS_MODE", "aws")
    monkeypatch.setenv("GATEHOUSE_SIGN_IN", "password")
    with pytest.raises(GatehouseError, match="GATEHOUSE_COOKIE_KEY must be set"):
        load_settings(_env_file=None)


def test_an_unknown_way_in_is_one_sentence_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_SIGN_IN", "saml")
    with pytest.raises(GatehouseError) as raised:
        load_settings(_env_file=None)
    assert str(raised.value).startswith("GATEHOUSE_SIGN_IN is not valid") and "\n" not in str(raised.value)


def test_the_claims_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_OIDC_USERNAME_CLAIM", "nickname")
    monkeypatch.setenv("GATEHOUSE_OIDC_PLATFORM_GROUP", "data-platform-team")
    monkeypatch.setenv("GATEHOUSE_OIDC_GROUPS_CLAIM", "roles")
    settings = load_settings(_env_file=None)
    assert (settings.oidc_username_claim, settings.oidc_platform_group, settings.oidc_groups_claim) == (
        "nickname",
        "data-platform-team",
        "roles",
    )
