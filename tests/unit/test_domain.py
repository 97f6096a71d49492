"""The pure rules: paths, bucket names, usernames, settings."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import Settings
from core.domain import (
    AccessLevel,
    InvalidInput,
    console_url,
    parse_paths,
    user_role_name,
    validate_bucket_name,
    validate_username,
)


class TestPaths:
    def test_empty_field_means_whole_bucket(self) -> None:
        assert parse_paths("") == ()
        assert parse_paths(None) == ()

    def test_one_path_a_line(self) -> None:
        assert parse_paths("/folder-one\n/folder-two") == ("/folder-one", "/folder-two")

    def test_windows_line_endings_and_surrounding_spaces_are_tolerated(self) -> None:
        assert parse_paths(" /a\r\n/b/c ") == ("/a", "/b/c")

    def test_the_trailing_empty_line_the_guidance_warns_about_is_an_error_not_whole_bucket(self) -> None:
        with pytest.raises(InvalidInput, match="empty line after the last path"):
            parse_paths("/folder-one\n/folder-two\n")

    def test_an_empty_line_in_the_middle_names_its_line(self) -> None:
        with pytest.raises(InvalidInput, match="on line 2"):
            parse_paths("/a\n\n/b")

    def test_only_blank_lines_is_not_silently_whole_bucket(self) -> None:
        with pytest.raises(InvalidInput, match="only blank lines"):
            parse_paths("\n  \n")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("folder", "must start with /"),
            ("/folder/", "must not end with /"),
            ("/", "whole bucket"),
            ("/a//b", "empty folder name"),
            ("/a/*", "not allowed"),
            ("/a?", "not allowed"),
            ("/${aws:username}", "not allowed"),
            ("/a/../b", "must not contain"),
            ("/a\n/a", "listed twice"),
            ("/a\n/a/b", "already inside /a"),
        ],
    )
    def test_each_mistake_gets_its_own_sentence(self, text: str, message: str) -> None:
        with pytest.raises(InvalidInput, match=message):
            parse_paths(text)

    @given(st.text(max_size=200))
    def test_any_input_is_either_valid_paths_or_one_clear_sentence(self, text: str) -> None:
        try:
            paths = parse_paths(text)
        except InvalidInput as error:
            message = str(error)
            assert message and "\n" not in message and message.endswith(".")
        else:
            for path in paths:
                assert path.startswith("/") and not path.endswith("/") and "*" not in path


class TestBucketNames:
    def test_valid_name_with_prefix(self) -> None:
        assert validate_bucket_name("alpha-my-project", "alpha-") == "alpha-my-project"

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("my-project", "must start with alpha-"),
            ("alpha-", "Add a name after the prefix"),
            ("alpha-My-Project", "lower case"),
            ("alpha-my_project", "only lower-case letters"),
            ("alpha-project-", "start and end with a letter or digit"),
            ("alpha-a..b", "two dots"),
            ("alpha-" + "x" * 60, "3 to 63 characters"),
            ("alpha-x-s3alias", "reserves"),
            ("", "Enter a name"),
        ],
    )
    def test_invalid_names(self, name: str, message: str) -> None:
        with pytest.raises(InvalidInput, match=message):
            validate_bucket_name(name, "alpha-")


class TestUsernames:
    def test_github_style(self) -> None:
        assert validate_username(" Alice-Smith ") == "alice-smith"

    @pytest.mark.parametrize("name", ["-alice", "alice-", "al--ice", "a" * 40, "ali ce", "", "alice_s"])
    def test_invalid(self, name: str) -> None:
        with pytest.raises(InvalidInput, match="not a valid username"):
            validate_username(name)


def test_role_names_and_console_links() -> None:
    assert user_role_name("alpha", "Alice") == "alpha_user_alice"
    assert console_url("alpha-x", "eu-west-1").startswith("https://eu-west-1.console.aws.amazon.com/s3/buckets/alpha-x")
    assert AccessLevel.ADMIN.can_write and not AccessLevel.READ_ONLY.can_write
    assert AccessLevel.READ_ONLY.label == "Read only"


class TestSettings:
    def test_local_defaults_need_no_configuration(self) -> None:
        settings = Settings(_env_file=None)
        assert settings.aws_mode == "local"
        assert settings.db_url.startswith("sqlite:///")
        assert settings.endpoint_url == f"http://127.0.0.1:{settings.local_aws_port}"
        assert settings.should_seed_demo

    def test_production_refuses_the_default_cookie_key(self) -> None:
        with pytest.raises(ValueError, match="GATEHOUSE_COOKIE_KEY must be set"):
            Settings(_env_file=None, aws_mode="aws")

    def test_production_uses_aws_endpoint_url_and_does_not_seed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9999")
        monkeypatch.setenv("GATEHOUSE_AWS_MODE", "aws")
        monkeypatch.setenv("GATEHOUSE_COOKIE_KEY", "a-real-secret-of-at-least-32-characters!")
        settings = Settings(_env_file=None)
        assert settings.endpoint_url == "http://127.0.0.1:9999"
        assert not settings.should_seed_demo
        assert settings.deny_insecure_transport
