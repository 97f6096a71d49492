"""Fuzzed input on every form field: a clear message and nothing stored, or a sane stored result; never a traceback.

Each test fuzzes one field of one use case (the others hold valid values) with arbitrary text: control characters,
any Unicode, very long strings, and near-valid values that reach the deeper checks. Either the call succeeds, and
what it stored is sane, or it raises a GatehouseError whose message is one sentence and nothing changed. Any other
exception is a bug. The hypothesis tests run on SQLite only (they exercise the validation, which is the same Python
on both databases); fixed inputs that only PostgreSQL refuses (NUL characters, over-long text) run on PostgreSQL at
the end.
"""

from __future__ import annotations

import unicodedata
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from core import actions
from core.actions.add_user import add_user
from core.adapters.models import (
    AccessRequest,
    AuditEvent,
    DataSource,
    Grant,
    Notification,
    RequestStatus,
    SourceRequest,
    User,
    utcnow,
)
from core.config import Settings
from core.context import Gatehouse
from core.domain import MAX_END_DAYS, AccessLevel, GatehouseError, InvalidInput
from core.paths import Paths
from core.queries import get_user
from core.reads import queues
from core.startup import start

NEED = "Quarterly pricing review for the finance committee needs these reports."
SOURCE = "alpha-pricing-models"  # alice has no access to it; bob is its only admin
GRANTED_ON = "alpha-sales-analysis"  # bob's too: grants go there, so that alice may still ask for SOURCE
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW_FUZZ = settings(FUZZ, max_examples=25)  # successes make buckets or IAM roles in the emulation

# --- what a person might type ------------------------------------------------------------------------------

TEXT = st.one_of(
    st.text(),  # any Unicode but surrogates, control characters included
    st.text(st.characters(codec="ascii")),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=10),
    st.text(min_size=250, max_size=3000),
)
BUCKET_NAMES = st.one_of(
    TEXT,
    st.from_regex(r"alpha-[a-z0-9.\-]{1,60}", fullmatch=True),
    st.builds(lambda rest: "alpha-" + rest, TEXT),
    st.builds(lambda rest: "alpha-" + rest, st.text(min_size=60, max_size=400)),  # past the length check
    st.builds(lambda name, pad: pad + name + pad, st.from_regex(r"alpha-[a-z0-9]{3,20}", fullmatch=True), TEXT),
)
USERNAMES = st.one_of(
    TEXT,
    st.from_regex(r"[a-zA-Z0-9\-]{1,45}", fullmatch=True),
    st.sampled_from(["alice", " Alice ", "ALICE", "carol", "erin", "bob", "nobody", "xn--ab"]),
)
PATH_LINES = st.one_of(
    TEXT,
    st.builds(lambda rest: "/" + rest, TEXT),
    st.from_regex(r"/[a-z0-9_/.\-]{0,30}", fullmatch=True),
    # pasted as an S3 address, of the source or of another, with the blank lines and spaces people leave
    st.from_regex(
        r"\s*(s3://|arn:aws:s3:::)(alpha-pricing-models|alpha-sales-analysis|)/[a-z0-9_/.]{0,20}\s*", fullmatch=True
    ),
)
PATHS = st.one_of(st.none(), TEXT, st.lists(PATH_LINES, max_size=6).map("\n".join))
NEEDS = st.one_of(TEXT, st.builds(lambda a, b: a + NEED + b, TEXT, TEXT))
DATES = st.one_of(st.none(), st.dates(), st.dates(date(2000, 1, 1), date(2100, 1, 1)))


# --- the Gatehouse the fuzz runs on (SQLite) --------------------------------------------------------------


@pytest.fixture(scope="module")
def gatehouse(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gatehouse]:
    """One demo Gatehouse for the module: every example compares the state before and after itself."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10)
    folder = tmp_path_factory.mktemp("fuzz")
    port = int(moto_endpoint.rsplit(":", 1)[1])
    started = start(Settings(database_url=f"sqlite:///{folder / 'fuzz.db'}", local_aws_port=port, data_dir=folder))
    yield started
    started.engine.dispose()


def user(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def state(gatehouse: Gatehouse) -> dict[str, Any]:
    """What a refused form must leave as it was."""
    with gatehouse.session() as session:

        def count(model: type) -> int:
            return session.exec(select(func.count()).select_from(model)).one()

        return {
            "grants": sorted(
                (g.source_id, g.user_id or 0, g.app_id or 0, g.level, tuple(g.paths), g.expires_on)
                for g in session.exec(select(Grant))
            ),
            "requests": sorted((r.id or 0, r.status, r.version) for r in session.exec(select(AccessRequest))),
            "source requests": count(SourceRequest),
            "sources": count(DataSource),
            "users": count(User),
            "audit events": count(AuditEvent),
            "notifications": count(Notification),
        }


def assert_one_sentence(error: GatehouseError) -> None:
    message = str(error)
    assert message, "an empty message"
    assert "\n" not in message and "\r" not in message, f"more than one line: {message!r}"
    assert message.endswith("."), f"not a sentence: {message!r}"
    assert len(message) < 300, f"{len(message)} characters: {message[:120]!r}…"


def attempt(gatehouse: Gatehouse, call: Callable[[], Any]) -> Any:
    """The call's result; or, for a GatehouseError, a clear message and nothing changed (then None)."""
    before = state(gatehouse)
    try:
        return call()
    except GatehouseError as error:
        assert_one_sentence(error)
        assert state(gatehouse) == before, f"refused ({error}) but something changed"
        return None


def assert_sane_text(value: str, limit: int) -> None:
    assert value == value.strip() and 0 < len(value) <= limit, repr(value[:80])
    assert not any(unicodedata.category(c) == "Cc" for c in value), f"control character stored: {value[:80]!r}"


def assert_sane_paths(paths: list[str] | tuple[str, ...]) -> None:
    assert len(paths) <= 50 and len(set(paths)) == len(paths)
    for path in paths:
        assert path.startswith("/") and not path.endswith("/") and "//" not in path, repr(path)
        assert path == path.strip() and len(path.encode()) <= 512, repr(path)
        assert not any(c in "*?${}\\" or unicodedata.category(c) == "Cc" for c in path), f"stored: {path!r}"
        assert not {".", ".."} & set(path.split("/")), repr(path)


# --- request access -----------------------------------------------------------------------------------------


def ask(gatehouse: Gatehouse, **fields: Any) -> None:
    form = {"source_name": SOURCE, "level": AccessLevel.READ_ONLY, "paths": None, "business_need": NEED} | fields
    alice = user(gatehouse, "alice")
    asked = attempt(gatehouse, lambda: actions.request_access(gatehouse, alice, **form))
    if asked is None:
        return
    with gatehouse.session() as session:
        stored = session.get(AccessRequest, asked.id)
        assert stored is not None and stored.status == RequestStatus.PENDING_ADMIN
        assert stored.source_id == session.exec(select(DataSource.id).where(DataSource.name == SOURCE)).one()
        assert stored.paths == Paths.parse(form["paths"], SOURCE)
        assert_sane_paths(stored.paths)
        assert stored.business_need == form["business_need"].strip()
        assert 20 <= len(stored.business_need) <= 2000
        assert stored.expires_on is None or 0 < (stored.expires_on - utcnow().date()).days <= MAX_END_DAYS
    actions.withdraw_request(gatehouse, alice, asked.id)  # so that the next example may ask again


@settings(FUZZ)
@given(name=st.one_of(BUCKET_NAMES, st.sampled_from([SOURCE, f" {SOURCE}\t", SOURCE.upper(), "alpha-de-raw-intake"])))
def test_request_access_source_name(gatehouse: Gatehouse, name: str) -> None:
    ask(gatehouse, source_name=name)


@settings(FUZZ)
@given(level=st.sampled_from(AccessLevel), paths=PATHS)
def test_request_access_level_and_paths(gatehouse: Gatehouse, level: AccessLevel, paths: str | None) -> None:
    ask(gatehouse, level=level, paths=paths)


@FUZZ
@given(need=NEEDS)
def test_request_access_business_need(gatehouse: Gatehouse, need: str) -> None:
    ask(gatehouse, business_need=need)


@FUZZ
@given(expires_on=DATES)
def test_request_access_end_date(gatehouse: Gatehouse, expires_on: date | None) -> None:
    ask(gatehouse, expires_on=expires_on)


# --- grant access -------------------------------------------------------------------------------------------


def grant(gatehouse: Gatehouse, **fields: Any) -> None:
    form = {"usernames": ["alice"], "paths": None, "expires_on": None} | fields
    bob = user(gatehouse, "bob")
    outcome = attempt(
        gatehouse, lambda: actions.grant_access(gatehouse, bob, GRANTED_ON, level=AccessLevel.READ_ONLY, **form)
    )
    if outcome is None:
        return
    with gatehouse.session() as session:
        source_id = session.exec(select(DataSource.id).where(DataSource.name == GRANTED_ON)).one()
        names = {get_user(session, name).username for name in form["usernames"]}
        for name in names:
            [held] = session.exec(
                select(Grant).where(Grant.source_id == source_id, Grant.user_id == get_user(session, name).id)
            ).all()
            assert (held.level, held.paths, held.expires_on) == (
                AccessLevel.READ_ONLY,
                Paths.given(form["paths"], GRANTED_ON),
                form["expires_on"],
            )
            assert held.expires_on is None or 0 < (held.expires_on - utcnow().date()).days <= MAX_END_DAYS
            assert_sane_paths(held.paths)


@settings(FUZZ)
@given(usernames=st.lists(USERNAMES, max_size=5))
def test_grant_access_usernames(gatehouse: Gatehouse, usernames: list[str]) -> None:
    grant(gatehouse, usernames=usernames)


@settings(FUZZ)
@given(paths=PATHS)  # the form's text, or the CLI's --path lines, which it passes as that text
def test_grant_access_paths(gatehouse: Gatehouse, paths: str | None) -> None:
    grant(gatehouse, paths=paths)


@FUZZ
@given(expires_on=DATES)
def test_grant_access_end_date(gatehouse: Gatehouse, expires_on: date | None) -> None:
    grant(gatehouse, expires_on=expires_on)


# --- create a warehouse source; ask for a webapp source ------------------------------------------------------


@settings(SLOW_FUZZ)
@given(name=BUCKET_NAMES)
def test_create_source_name(gatehouse: Gatehouse, name: str) -> None:
    alice = user(gatehouse, "alice")
    created = attempt(gatehouse, lambda: actions.create_source(gatehouse, alice, name))
    if created is None:
        return
    assert created.name == name.strip()
    with gatehouse.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == created.name)).one()
        [admin] = session.exec(select(Grant).where(Grant.source_id == source.id)).all()
    assert (admin.user_id, admin.level) == (alice.id, AccessLevel.ADMIN)
    assert created.name.isascii() and created.name == created.name.lower() and 3 <= len(created.name) <= 63


def ask_for_webapp(gatehouse: Gatehouse, **fields: Any) -> None:
    form = {"bucket_name": f"alpha-fuzz-{uuid.uuid4().hex[:8]}", "app_name": "fuzz-app", "business_need": NEED}
    form |= fields
    alice = user(gatehouse, "alice")
    asked = attempt(gatehouse, lambda: actions.request_webapp_source(gatehouse, alice, **form))
    if asked is None:
        return
    with gatehouse.session() as session:
        stored = session.get(SourceRequest, asked.id)
    assert stored is not None and stored.status == RequestStatus.PENDING_PLATFORM
    assert stored.bucket_name == form["bucket_name"].strip() and stored.bucket_name.isascii()
    assert stored.app_name == form["app_name"].strip().lower() and stored.app_name.isascii()
    assert stored.business_need == form["business_need"].strip() and len(stored.business_need) <= 2000


@settings(FUZZ)
@given(bucket=BUCKET_NAMES)
def test_request_webapp_source_bucket(gatehouse: Gatehouse, bucket: str) -> None:
    ask_for_webapp(gatehouse, bucket_name=bucket)


@settings(FUZZ)
@given(app=USERNAMES)
def test_request_webapp_source_app(gatehouse: Gatehouse, app: str) -> None:
    ask_for_webapp(gatehouse, app_name=app)


@FUZZ
@given(need=NEEDS)
def test_request_webapp_source_business_need(gatehouse: Gatehouse, need: str) -> None:
    ask_for_webapp(gatehouse, business_need=need)


# --- the paths field on its own (pure) -----------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(text=PATHS)
def test_parse_paths(text: str | None) -> None:
    try:
        paths = Paths.parse(text, SOURCE)
    except InvalidInput as error:
        assert_one_sentence(error)
        return
    assert_sane_paths(paths)
    assert (paths == ()) is (text is None or not text.strip())  # blank lines are dropped


# --- add a user --------------------------------------------------------------------------------------------


def add(gatehouse: Gatehouse, username: str | None = None, email: str = "fuzz@example.org") -> None:
    username = username if username is not None else f"fuzz-{uuid.uuid4().hex[:8]}"
    dave = user(gatehouse, "dave")
    joiner = attempt(gatehouse, lambda: add_user(gatehouse, dave, username, email))
    if joiner is None:
        return
    stored = user(gatehouse, joiner.user.username)
    assert stored.username == username.strip().lower() and stored.username.isascii()
    assert 1 <= len(stored.username) <= 39
    assert_sane_text(stored.email, 254)
    assert stored.email == email.strip()


@settings(SLOW_FUZZ)
@given(username=USERNAMES)
def test_add_user_username(gatehouse: Gatehouse, username: str) -> None:
    add(gatehouse, username=username)


@settings(SLOW_FUZZ)
@given(email=st.one_of(TEXT, st.builds(lambda a, b: a + "@" + b + ".org", TEXT, TEXT)))
def test_add_user_email(gatehouse: Gatehouse, email: str) -> None:
    add(gatehouse, email=email)


# --- refuse a request ----------------------------------------------------------------------------------------


def open_request(gatehouse: Gatehouse, asker: str = "carol") -> int:
    """The asker's open request for the source (bob decides it), made if they have none."""
    person = user(gatehouse, asker)
    with gatehouse.session() as session:
        waiting = [r for r in queues.my_requests(session, person) if r.status is RequestStatus.PENDING_ADMIN]
    if waiting:
        return waiting[0].id
    return actions.request_access(gatehouse, person, SOURCE, AccessLevel.READ_ONLY, None, NEED).id


@FUZZ
@given(reason=TEXT)
def test_refuse_request_reason(gatehouse: Gatehouse, reason: str) -> None:
    request_id = open_request(gatehouse)
    bob = user(gatehouse, "bob")
    attempt(gatehouse, lambda: actions.refuse_request(gatehouse, bob, request_id, reason))
    with gatehouse.session() as session:
        stored = session.get(AccessRequest, request_id)
    assert stored is not None
    if stored.status == RequestStatus.REFUSED:
        assert stored.decision_reason == reason.strip() and len(stored.decision_reason) >= 5


# --- text longer than its limit (core/domain.py), as the CLI or a page's widget would let it through ---------------

LONG_NEED = (NEED + " ") * 28  # a business need the rules take, but for its length: 2,015 characters
MANY_PATHS = "\n".join(f"/reports-{n}" for n in range(51))
LONG_PATH = "/" + "é" * 257  # 515 bytes in UTF-8, 258 characters


def refuse_a_webapp_source(gatehouse: Gatehouse, reason: str) -> None:
    with gatehouse.session() as session:
        open_ask = session.exec(select(SourceRequest).where(SourceRequest.status == RequestStatus.PENDING_PLATFORM))
        ask_id = open_ask.first().id  # type: ignore[union-attr]
    actions.refuse_webapp_source(gatehouse, user(gatehouse, "dave"), ask_id, reason)


TOO_LONG: dict[str, tuple[Callable[[Gatehouse], Any], str]] = {
    "request_access business need": (
        lambda g: actions.request_access(g, user(g, "alice"), SOURCE, AccessLevel.READ_ONLY, None, LONG_NEED),
        "The business need is 2,015 characters long: keep it to 2,000 characters at most.",
    ),
    "request_webapp_source business need": (
        lambda g: actions.request_webapp_source(g, user(g, "alice"), "alpha-long-need", "long-app", LONG_NEED),
        "The business need is 2,015 characters long: keep it to 2,000 characters at most.",
    ),
    "refuse_request reason": (
        lambda g: actions.refuse_request(g, user(g, "bob"), open_request(g, "alice"), "No. " * 251),
        "The reason is 1,003 characters long: keep it to 1,000 characters at most.",
    ),
    "refuse_webapp_source reason": (
        lambda g: refuse_a_webapp_source(g, "No. " * 251),
        "The reason is 1,003 characters long: keep it to 1,000 characters at most.",
    ),
    "create_source description": (
        lambda g: actions.create_source(g, user(g, "alice"), "alpha-long-description", description="x" * 501),
        "The description is 501 characters long: keep it to 500 characters at most.",
    ),
    "request_access paths": (
        lambda g: actions.request_access(g, user(g, "alice"), SOURCE, AccessLevel.READ_ONLY, MANY_PATHS, NEED),
        "There are 51 paths: give at most 50.",
    ),
    "grant_access paths": (
        lambda g: actions.grant_access(g, user(g, "bob"), GRANTED_ON, ["alice"], AccessLevel.READ_ONLY, MANY_PATHS),
        "There are 51 paths: give at most 50.",
    ),
    "request_access a long path": (
        lambda g: actions.request_access(g, user(g, "alice"), SOURCE, AccessLevel.READ_ONLY, LONG_PATH, NEED),
        "is 515 bytes long: a path may be 512 bytes at most.",
    ),
}


@pytest.mark.parametrize("form", TOO_LONG)
def test_text_longer_than_its_limit_is_refused_in_a_sentence_that_names_the_limit(
    gatehouse: Gatehouse, form: str
) -> None:
    call, message = TOO_LONG[form]
    if form == "refuse_request reason":
        open_request(gatehouse, "alice")  # made before the state is taken: the refusal must change nothing
    if form == "refuse_webapp_source reason":
        actions.request_webapp_source(gatehouse, user(gatehouse, "alice"), "alpha-to-refuse", "refused-app", NEED)
    before = state(gatehouse)
    with pytest.raises(InvalidInput) as refused:
        call(gatehouse)
    assert_one_sentence(refused.value)
    assert str(refused.value).endswith(message)
    assert state(gatehouse) == before


# --- fixed inputs the fuzz cannot reach past a known bug --------------------------------------------------------


@pytest.mark.parametrize(
    "control",
    [
        "\x00",
        "\x1b",
        "\x7f",
        "\x85",
        "\x9b",
    ],
    ids=repr,
)
def test_a_path_holding_a_control_character_is_refused(control: str) -> None:
    """The rule says no control character; Unicode's control characters include C1 (U+0080 to U+009F)."""
    with pytest.raises(InvalidInput, match="control character"):
        Paths.parse(f"/reports{control}x", SOURCE)


# --- inputs only PostgreSQL refuses: NUL characters, text longer than its column -------------------------------


@pytest.fixture
def postgres_gatehouse(postgres_url: str, moto_reset: str, tmp_path: Path) -> Iterator[Gatehouse]:
    port = int(moto_reset.rsplit(":", 1)[1])
    started = start(Settings(database_url=postgres_url, local_aws_port=port, data_dir=tmp_path))
    yield started
    started.engine.dispose()


POSTGRES_ONLY: dict[str, Callable[[Gatehouse], Any]] = {
    "request_access source name": lambda g: actions.request_access(
        g, user(g, "alice"), "alpha-pricing\x00", AccessLevel.READ_ONLY, None, NEED
    ),
    "request_access business need": lambda g: actions.request_access(
        g, user(g, "alice"), SOURCE, AccessLevel.READ_ONLY, None, NEED + "\x00"
    ),
    "grant_access username": lambda g: actions.grant_access(
        g, user(g, "bob"), SOURCE, ["al\x00ice"], AccessLevel.READ_ONLY
    ),
    "request_webapp_source business need": lambda g: actions.request_webapp_source(
        g, user(g, "alice"), "alpha-nul-webapp", "nul-app", NEED + "\x00"
    ),
    "add_user email with NUL": lambda g: add_user(g, user(g, "dave"), "nul-user", "nul\x00@example.org"),
    "add_user email of 262 characters": lambda g: add_user(g, user(g, "dave"), "long-mail", "a" * 250 + "@example.org"),
    "refuse_request reason": lambda g: actions.refuse_request(
        g, user(g, "bob"), open_request(g, "alice"), "Not\x00 needed here."
    ),
}


@pytest.mark.postgres
@pytest.mark.parametrize(
    "form",
    POSTGRES_ONLY,
)
def test_inputs_only_postgresql_refuses_get_a_clear_message(postgres_gatehouse: Gatehouse, form: str) -> None:
    if form == "refuse_request reason":
        open_request(postgres_gatehouse, "alice")  # made before the state is taken: the refusal must change nothing
    attempt(postgres_gatehouse, lambda: POSTGRES_ONLY[form](postgres_gatehouse))
