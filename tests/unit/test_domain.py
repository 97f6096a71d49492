"""The pure rules: paths, bucket names, usernames, settings."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import DEFAULT_COOKIE_KEY, Settings, load_settings
from core.domain import (
    MAX_BUSINESS_NEED,
    MAX_PATH_BYTES,
    MAX_PATHS,
    MAX_PATHS_TEXT,
    MAX_REASON,
    AccessLevel,
    GatehouseError,
    InvalidInput,
    check_text,
    console_url,
    user_role_name,
    validate_bucket_name,
    validate_username,
)
from core.paths import Paths

BUCKET = "alpha-pricing-models"


def paths(text: str | None) -> Paths:
    return Paths.parse(text, BUCKET)


class TestPaths:
    def test_empty_field_means_whole_bucket(self) -> None:
        assert paths("") == ()
        assert paths(None) == ()

    def test_one_path_a_line(self) -> None:
        assert paths("/folder-one\n/folder-two") == ("/folder-one", "/folder-two")

    def test_windows_line_endings_and_surrounding_spaces_are_tolerated(self) -> None:
        assert paths(" /a\r\n/b/c ") == ("/a", "/b/c")

    def test_blank_lines_anywhere_are_a_slip_and_are_dropped(self) -> None:
        assert paths("/folder-one\n/folder-two\n") == ("/folder-one", "/folder-two")
        assert paths("\n/folder-one\n\n  \n\t\n/folder-two\n\n") == ("/folder-one", "/folder-two")
        assert paths("\n  \n") == ()  # a field that looks empty is what an empty field means: the whole bucket

    def test_a_mistake_after_a_blank_line_names_the_line_the_person_sees(self) -> None:
        with pytest.raises(InvalidInput, match=r"^Line 3 \(models\) must start with /"):
            paths("/a\n\nmodels")

    def test_a_folder_written_with_its_slash_is_the_folder_and_the_hint_is_what_the_rule_takes(self) -> None:
        assert paths("/models/") == ("/models",)
        with pytest.raises(InvalidInput, match=r"for example /models\.$") as refused:
            paths("models/")
        assert paths(str(refused.value).rsplit("for example ", 1)[1].rstrip(".")) == ("/models",)

    def test_a_space_before_a_folders_slash_is_a_slip_like_the_spaces_around_a_line(self) -> None:
        """`/models /` was the folder "models " once: shown in Edit as `/models `, saved again as /models, the grant
        changed under the admin's hands. It is /models from the start now; `/ /` is the whole bucket."""
        assert paths("/models /") == ("/models",)
        assert paths("/models /").text == "/models"
        with pytest.raises(InvalidInput, match="is the whole bucket"):
            paths("/ /")

    @pytest.mark.parametrize(
        "pasted",
        [
            f"s3://{BUCKET}/models",
            f"s3://{BUCKET}/models/",
            f"S3://{BUCKET}/models",
            f"  s3://{BUCKET}/models  ",
            f"arn:aws:s3:::{BUCKET}/models",
            f"arn:aws-us-gov:s3:::{BUCKET}/models/",
        ],
    )
    def test_an_s3_address_of_this_source_is_its_path(self, pasted: str) -> None:
        assert paths(pasted) == ("/models",)
        assert paths(f"/reports\n{pasted}") == ("/reports", "/models")

    def test_an_s3_address_of_the_bucket_itself_is_the_whole_bucket_said_as_such(self) -> None:
        for pasted in (f"s3://{BUCKET}", f"s3://{BUCKET}/"):
            with pytest.raises(InvalidInput, match="is the whole bucket: leave the paths field empty instead"):
                paths(pasted)

    def test_an_s3_address_of_another_source_names_both(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            paths("/reports\ns3://alpha-sales-analysis/published")
        assert str(refused.value) == (
            "Line 2 (s3://alpha-sales-analysis/published) is in alpha-sales-analysis, not in alpha-pricing-models: "
            "give folders of alpha-pricing-models here, for example /published."
        )

    def test_an_s3_address_is_checked_as_any_path_and_said_as_typed(self) -> None:
        with pytest.raises(InvalidInput, match=r"^Line 1 \(s3://alpha-pricing-models/a/\*\) holds \*"):
            paths(f"s3://{BUCKET}/a/*")
        with pytest.raises(InvalidInput, match="listed twice"):
            paths(f"/models\ns3://{BUCKET}/models")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("folder", "must start with /"),
            ("/", "whole bucket"),
            ("/a//b", "empty folder name"),
            ("/a/*", "holds \\*: a path may not hold"),
            ("/a?", "holds \\?: a path may not hold"),
            ("/${aws:username}", "holds \\$: a path may not hold"),
            ("/published/![x](https:attacker.example/p.png)", "holds !: a path may not hold"),
            ("/a[b]", "holds \\[: a path may not hold"),
            ("/a(b)", "holds \\(: a path may not hold"),
            ("/a<b>", "holds <: a path may not hold"),
            ("/ok\u202evsc.exe", "holds U\\+202E: a path may not hold"),
            ("/a/../b", "must not contain"),
            ("/a\n/a", "listed twice"),
            ("/a\n/a/b", "already inside /a"),
        ],
    )
    def test_each_mistake_gets_its_own_sentence(self, text: str, message: str) -> None:
        with pytest.raises(InvalidInput, match=message):
            paths(text)

    def test_a_list_of_paths_and_each_path_have_a_limit_named_in_the_sentence(self) -> None:
        assert len(paths("\n".join(f"/p{n}" for n in range(MAX_PATHS)))) == MAX_PATHS
        assert len(paths("\n\n".join(f"/p{n}" for n in range(MAX_PATHS)))) == MAX_PATHS  # blank lines are no paths
        with pytest.raises(InvalidInput, match=r"^There are 51 paths: give at most 50\.$"):
            paths("\n".join(f"/p{n}" for n in range(MAX_PATHS + 1)))
        assert paths("/" + "a" * (MAX_PATH_BYTES - 1)) == ("/" + "a" * (MAX_PATH_BYTES - 1),)
        with pytest.raises(InvalidInput, match=r"is 513 bytes long: a path may be 512 bytes at most\.$"):
            paths("/" + "a" * MAX_PATH_BYTES)
        with pytest.raises(InvalidInput, match=r"is 514 bytes long"):  # S3 counts bytes: é is two
            paths("/" + "é" * 256 + "a")
        # The form's field holds the longest list the rule takes, each path on its line
        longest = "\n".join(f"/{n:02d}" + "a" * (MAX_PATH_BYTES - 3) for n in range(MAX_PATHS))
        assert len(longest) <= MAX_PATHS_TEXT and len(paths(longest)) == MAX_PATHS

    @given(st.text(max_size=200))
    def test_any_input_is_either_valid_paths_or_one_clear_sentence(self, text: str) -> None:
        try:
            parsed = paths(text)
        except InvalidInput as error:
            message = str(error)
            assert message and "\n" not in message and message.endswith(".")
        else:
            for path in parsed:
                assert path.startswith("/") and not path.endswith("/") and "*" not in path
                assert not set(path) & set("[]()!<>\u202e")  # nothing Markdown, HTML or a bidi override needs

    @given(
        st.lists(st.from_regex(r"/[a-z0-9][a-z0-9_-]{0,12}(/[a-z0-9_-]{1,8}){0,2}", fullmatch=True), max_size=8),
        st.lists(st.sampled_from(["", " ", "\t", "  "]), min_size=9, max_size=9),
        st.lists(st.sampled_from(["{p}", "{p}/", f"s3://{BUCKET}{{p}}", f"arn:aws:s3:::{BUCKET}{{p}}/"]), min_size=8),
    )
    def test_blank_lines_and_s3_addresses_of_this_source_change_nothing(
        self, folders: list[str], blanks: list[str], forms: list[str]
    ) -> None:
        """However the same paths are written (blank lines between them, each as a path or an address of this
        source), they are the same paths, or the same sentence."""
        plain = "\n".join(folders)
        written = (
            "\n".join(
                blank + "\n" + form.format(p=folder)
                for folder, blank, form in zip(folders, blanks, forms, strict=False)
            )
            + "\n"
            + blanks[-1]
        )
        try:
            expected: tuple[str, ...] | str = paths(plain)
        except InvalidInput:  # a folder listed twice, or inside another: refused either way
            with pytest.raises(InvalidInput):
                paths(written)
            return
        assert paths(written) == expected

    @given(
        st.one_of(
            st.text(max_size=200),
            st.lists(
                st.one_of(
                    st.from_regex(r"\s*/[\w .\-]{1,16}(/[\w .\-]{1,8}){0,3}/?\s*", fullmatch=True),
                    st.from_regex(
                        rf"(s3://|arn:aws:s3:::)({BUCKET}|alpha-other)(/[a-z0-9_.]{{0,12}}){{0,3}}", fullmatch=True
                    ),
                    st.text(max_size=20),
                    st.just(""),
                ),
                max_size=12,
            ).map("\n".join),
        )
    )
    def test_the_text_a_paths_shows_reads_back_as_it_and_a_refusal_is_one_sentence(self, text: str) -> None:
        """A path list is a value: the text a form shows for it (`Paths.text`) is read back as the same value, and what
        the reader refuses it refuses with one sentence."""
        try:
            parsed = paths(text)
        except InvalidInput as error:
            message = str(error)
            assert message and "\n" not in message and message.endswith(".") and len(message) < 300
            return
        assert isinstance(parsed, Paths)
        assert paths(parsed.text) == parsed  # shown in a field and sent again: the same paths
        assert Paths.given(parsed, BUCKET) is parsed  # a value made once is not read again
        assert str(parsed) == (", ".join(parsed) if parsed else "whole bucket")


class TestBucketNames:
    def test_valid_name_with_prefix(self) -> None:
        assert validate_bucket_name("alpha-my-project", "alpha-") == "alpha-my-project"

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("my-project", "must start with alpha-"),
            ("alpha-", "Add a name after the prefix"),
            ("alpha-My-Project", "lower case"),
            ("alpha-my_project", "has an underscore"),
            (
                "Bad_Name",
                r"^Bad_Name cannot name a data source: it has capital letters \(names are in lower case\), has an "
                r"underscore \(use a hyphen\) and must start with alpha-; alpha-bad-name would do\.$",
            ),
            ("alpha-sales data", "has a space .*; alpha-sales-data would do"),
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
    def test_github_style_with_plain_capitals_folded(self) -> None:
        assert validate_username("Alice-Smith") == "alice-smith"

    @pytest.mark.parametrize(
        ("name", "named"),
        [
            ("da\u200bve", "U+200B"),  # a zero-width space: looks like dave
            ("\ufeffdave", "U+FEFF"),  # a byte-order mark
            ("\u212aate", "U+212A"),  # the Kelvin sign: .lower() makes it kate
            ("ｄａｖｅ", "U+FF44"),  # full-width letters: NFKC makes them dave
            ("dav\u00e9", "U+00E9"),
            (" dave", "spaces around it"),
            ("dave\n", "spaces around it"),
        ],
    )
    def test_what_a_normalisation_would_change_is_refused_never_cleaned(self, name: str, named: str) -> None:
        with pytest.raises(InvalidInput, match="not a valid username") as refused:
            validate_username(name)
        message = str(refused.value)  # names the character: the name shown never reads as dave or kate
        assert named in message and "'dave'" not in message and "'kate'" not in message

    @pytest.mark.parametrize("name", ["-alice", "alice-", "al--ice", "a" * 40, "ali ce", "", "alice_s"])
    def test_invalid(self, name: str) -> None:
        with pytest.raises(InvalidInput, match="not a valid username"):
            validate_username(name)


def test_role_names_and_console_links() -> None:
    assert user_role_name("alpha", "Alice") == "alpha_user_alice"
    assert console_url("alpha-x", "eu-west-1").startswith("https://eu-west-1.console.aws.amazon.com/s3/buckets/alpha-x")
    # A folder as a granted path or as a prefix opens the console at that folder
    at_path = "https://eu-west-1.console.aws.amazon.com/s3/buckets/alpha-x?region=eu-west-1&tab=objects&prefix=p/q/"
    assert console_url("alpha-x", "eu-west-1", "/p/q") == console_url("alpha-x", "eu-west-1", "p/q/") == at_path
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

    @pytest.mark.parametrize("key", ["", "a", "x" * 31, DEFAULT_COOKIE_KEY], ids=["empty", "a", "31", "default"])
    def test_production_refuses_a_cookie_key_shorter_than_32_characters_or_the_default(self, key: str) -> None:
        with pytest.raises(ValueError, match=r"GATEHOUSE_COOKIE_KEY must be .* at least 32 characters"):
            Settings(_env_file=None, aws_mode="aws", cookie_key=key)

    def test_production_accepts_a_cookie_key_of_32_characters(self) -> None:
        settings = Settings(_env_file=None, aws_mode="aws", cookie_key="x" * 32, sign_in="password")
        assert settings.cookie_key.get_secret_value() == "x" * 32

    def test_local_mode_accepts_any_cookie_key(self) -> None:
        assert Settings(_env_file=None, cookie_key="a").cookie_key.get_secret_value() == "a"

    @pytest.mark.parametrize("password", [None, ""], ids=["unset", "empty"])
    def test_production_refuses_an_smtp_username_without_a_password(self, password: str | None) -> None:
        with pytest.raises(ValueError, match="GATEHOUSE_SMTP_PASSWORD must be set"):
            Settings(
                _env_file=None,
                aws_mode="aws",
                cookie_key="x" * 32,
                smtp_host="smtp.example.org",
                smtp_username="gatehouse",
                smtp_password=password,
            )

    def test_production_refuses_the_demo_whose_password_is_published(self) -> None:
        with pytest.raises(ValueError, match="GATEHOUSE_SEED_DEMO"):
            Settings(_env_file=None, aws_mode="aws", cookie_key="x" * 32, seed_demo=True)

    @pytest.mark.parametrize(
        ("variable", "value", "expected"),
        [
            ("GATEHOUSE_COOKIE_KEY", "a", "at least 32 characters"),
            ("GATEHOUSE_COOKIE_KEY", "", 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'),
            ("GATEHOUSE_SMTP_PORT", "not-a-port", "GATEHOUSE_SMTP_PORT"),
            ("GATEHOUSE_AWS_MODE", "prod", "GATEHOUSE_AWS_MODE"),
        ],
    )
    def test_a_bad_setting_is_one_sentence_for_the_person_not_pydantics_report(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
    ) -> None:
        monkeypatch.setenv("GATEHOUSE_AWS_MODE", "aws")
        monkeypatch.setenv(variable, value)
        with pytest.raises(GatehouseError) as raised:
            load_settings(_env_file=None)
        message = str(raised.value)
        assert expected in message
        assert "\n" not in message and "Value error" not in message and "pydantic" not in message

    def test_the_app_gets_a_bad_setting_as_a_gatehouse_error(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """app.py shows a GatehouseError as one sentence; anything else would be a traceback on the page."""
        from core.startup import start

        monkeypatch.chdir(tmp_path)  # no .env here: only the environment below counts
        monkeypatch.setenv("GATEHOUSE_AWS_MODE", "aws")
        monkeypatch.setenv("GATEHOUSE_COOKIE_KEY", "a")
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # were it to start, it would fail fast
        with pytest.raises(GatehouseError, match="at least 32 characters"):
            start()
        assert list(tmp_path.iterdir()) == []  # refused before any database was made

    def test_production_uses_aws_endpoint_url_and_does_not_seed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9999")
        monkeypatch.setenv("GATEHOUSE_AWS_MODE", "aws")
        monkeypatch.setenv("GATEHOUSE_COOKIE_KEY", "a-real-secret-of-at-least-32-characters!")
        monkeypatch.setenv("GATEHOUSE_SIGN_IN", "password")
        settings = Settings(_env_file=None)
        assert settings.endpoint_url == "http://127.0.0.1:9999"
        assert not settings.should_seed_demo
        assert settings.deny_insecure_transport


@pytest.mark.parametrize(("what", "limit"), [("business need", MAX_BUSINESS_NEED), ("reason", MAX_REASON)])
def test_free_text_has_a_limit_named_in_one_sentence(what: str, limit: int) -> None:
    assert check_text(" " + "x" * limit + "\n", what, limit) == "x" * limit  # what is kept is what counts
    with pytest.raises(InvalidInput) as refused:
        check_text("x" * (limit + 1), what, limit)
    assert str(refused.value) == (
        f"The {what} is {limit + 1:,} characters long: keep it to {limit:,} characters at most."
    )
