"""Password sign-in (issue #24 §5): checked in core, throttled by client and by account with growing delays instead
of a lock-out anyone could set off, with one message for every failure, whoever the name is. No timing here: each
test asserts the throttle's decision (the seconds an attempt must wait) at the times it gives."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from core import audit, auth
from core.adapters.models import AuditEvent, utcnow
from core.adapters.sign_in_models import SignInFailure
from core.config import Settings
from core.context import Gatehouse
from core.seed import DEMO_PASSWORD

ATTACKER, DAVES_LAPTOP = "203.0.113.7", "198.51.100.20"


pytestmark = pytest.mark.both_databases  # the throttle's windows are dates compared in SQL


def attempt(gatehouse: Gatehouse, client: str, username: str, password: str, at: datetime) -> auth.PasswordSignIn:
    return gatehouse.run(auth.password_sign_in, gatehouse.settings, client, username, password, at)


def guesses(gatehouse: Gatehouse, client: str, username: str, start: datetime, count: int) -> list[int]:
    """`count` wrong passwords, each tried as soon as the throttle lets it be checked; the waits it decided."""
    waits, at = [], start
    for _ in range(count):
        outcome = attempt(gatehouse, client, username, "guess", at)
        assert outcome.username is None
        waits.append(outcome.wait_seconds)
        at += timedelta(seconds=outcome.wait_seconds)
    return waits


def test_failures_from_one_client_slow_it_down_and_dave_still_signs_in_from_his_own(gatehouse: Gatehouse) -> None:
    """Six wrong passwords for dave used to lock dave (the platform team) out, for anyone."""
    free = gatehouse.settings.max_failed_sign_ins
    start = utcnow()
    assert guesses(gatehouse, ATTACKER, "dave", start, free + 4) == [0] * free + [1, 2, 4, 8]
    # the last failure was at 7 s and waits 8 s: at 14 s the attacker's next try, even with the right password, is
    # not checked at all; dave, from his own laptop, signs in
    held = attempt(gatehouse, ATTACKER, "dave", DEMO_PASSWORD, start + timedelta(seconds=14))
    assert held == auth.PasswordSignIn(None, 1, auth.SIGN_IN_FAILED)
    assert attempt(gatehouse, DAVES_LAPTOP, "dave", DEMO_PASSWORD, start + timedelta(seconds=14)).username == "dave"
    with gatehouse.session() as session:  # held back attempts are not counted: only the checked failures
        assert len(session.exec(select(SignInFailure)).all()) == free + 4


def test_the_delay_doubles_within_the_window_and_old_failures_are_forgotten(gatehouse: Gatehouse) -> None:
    settings = gatehouse.settings
    free, window = settings.max_failed_sign_ins, settings.sign_in_throttle_minutes * 60
    start = utcnow() - timedelta(days=1)
    waits = guesses(gatehouse, ATTACKER, "alice", start, free + 14)
    assert waits[: free + 9] == [0] * free + [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert max(waits) <= window  # failures older than the window no longer count: a delay, never a lock
    after = start + timedelta(seconds=sum(waits) + window)
    assert attempt(gatehouse, ATTACKER, "alice", DEMO_PASSWORD, after).username == "alice"


def test_an_unknown_name_fails_exactly_as_a_real_one(gatehouse: Gatehouse) -> None:
    """The lock-out message existed only for real accounts, which told who exists; now every failure is the same."""
    start = utcnow()
    count = gatehouse.settings.max_failed_sign_ins + 3
    real = guesses(gatehouse, ATTACKER, "dave", start, count)
    unknown = guesses(gatehouse, "192.0.2.1", "mallory", start, count)
    invalid = guesses(gatehouse, "192.0.2.2", "da\u200bve", start, count)
    assert real == unknown == invalid
    # erin has left: only her right password tells her so
    assert attempt(gatehouse, "192.0.2.3", "erin", "guess", start).refusal == auth.SIGN_IN_FAILED
    assert attempt(gatehouse, "192.0.2.3", "erin", DEMO_PASSWORD, start).refusal == auth.LEFT_THE_PLATFORM


def test_a_guess_spread_over_many_clients_delays_the_account_but_never_locks_it(gatehouse: Gatehouse) -> None:
    free = gatehouse.settings.max_failed_sign_ins
    start = utcnow()
    for n in range(free + 1):
        attempt(gatehouse, f"10.0.0.{n}", "dave", "guess", start)
    fresh = attempt(gatehouse, DAVES_LAPTOP, "dave", DEMO_PASSWORD, start)
    assert fresh == auth.PasswordSignIn(
        None, 1, auth.SIGN_IN_FAILED
    )  # one client more than is free: the account waits, for everyone
    assert attempt(gatehouse, DAVES_LAPTOP, "alice", DEMO_PASSWORD, start).username == "alice"  # others do not
    after = start + timedelta(seconds=1)
    assert attempt(gatehouse, DAVES_LAPTOP, "dave", DEMO_PASSWORD, after).username == "dave"


def test_the_throttle_starting_is_on_record_once(gatehouse: Gatehouse) -> None:
    guesses(gatehouse, ATTACKER, "dave", utcnow(), gatehouse.settings.max_failed_sign_ins + 3)
    with gatehouse.session() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "sign-in-throttled").order_by(col(AuditEvent.id))
        ).all()
    assert [(e.subject, e.details["client"]) for e in events] == [("dave", ATTACKER)]


def test_a_name_is_taken_by_the_one_username_rule(gatehouse: Gatehouse) -> None:
    now = utcnow()
    assert attempt(gatehouse, DAVES_LAPTOP, "DAVE", DEMO_PASSWORD, now).username == "dave"  # ASCII capitals
    for typed in ("da\u200bve", "\ufeffdave", " dave", "\u212aate"):
        assert attempt(gatehouse, f"client-{typed!r}", typed, DEMO_PASSWORD, now).username is None
    refused = auth.PasswordSignIn(None, 0, auth.SIGN_IN_FAILED)
    assert attempt(gatehouse, DAVES_LAPTOP, "dave", DEMO_PASSWORD + "x" * 80, now) == refused


@pytest.mark.parametrize(
    ("behind_proxy", "address", "forwarded", "client"),
    [
        (False, "203.0.113.7", "10.9.9.9", "203.0.113.7"),  # not behind a proxy: the header is the client's say
        (True, "10.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the address the proxy saw, not the first
        (True, "10.0.0.1", None, "10.0.0.1"),
        (False, None, None, auth.UNKNOWN_CLIENT),
    ],
)
def test_the_client_is_what_the_connection_or_the_proxy_saw(
    behind_proxy: bool, address: str | None, forwarded: str | None, client: str
) -> None:
    settings = Settings(_env_file=None, behind_proxy=behind_proxy)
    assert auth.client_address(settings, address, forwarded) == client


def test_every_refused_password_sign_in_is_on_record_without_the_password(gatehouse: Gatehouse) -> None:
    """A wrong password, a name no account has, a leaver's right password and an attempt held back each leave a
    sign-in-refused event; the audit trail names an account only when it exists, and never holds a password."""
    free, now = gatehouse.settings.max_failed_sign_ins, utcnow()
    assert attempt(gatehouse, ATTACKER, "alice", "alices-guess", now).refusal == auth.SIGN_IN_FAILED
    assert attempt(gatehouse, ATTACKER, "mallory", "mallorys-guess", now).refusal == auth.SIGN_IN_FAILED
    assert attempt(gatehouse, ATTACKER, "wrong-box-Pa55", "in-the-name-box", now).refusal == auth.SIGN_IN_FAILED
    assert attempt(gatehouse, DAVES_LAPTOP, "erin", DEMO_PASSWORD, now).refusal == auth.LEFT_THE_PLATFORM
    guesses(gatehouse, ATTACKER, "bob", now, free)  # the throttle holds this client back from now on
    held = attempt(gatehouse, ATTACKER, "bob", DEMO_PASSWORD, now)
    assert (held.username, held.refusal) == (None, auth.SIGN_IN_FAILED) and held.wait_seconds > 0
    assert attempt(gatehouse, ATTACKER, " ", "", now) == auth.PasswordSignIn(None, refusal=auth.EMPTY_SIGN_IN)

    with gatehouse.session() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "sign-in-refused").order_by(col(AuditEvent.id))
        ).all()
        check = audit.verify(session)
    said = [(e.actor, e.subject, e.summary) for e in events]
    assert said[:4] == [
        ("system", "alice", f"A password sign-in as alice from {ATTACKER} was refused: the password was wrong"),
        (
            "system",
            None,
            f"A password sign-in from {ATTACKER} was refused: no account with a password has the username typed",
        ),
        (
            "system",
            None,
            f"A password sign-in from {ATTACKER} was refused: no account with a password has the username typed",
        ),
        ("erin", "erin", "erin has left and could not sign in"),
    ]
    assert said[-1] == (
        "system",
        "bob",
        f"A password sign-in as bob from {ATTACKER} was held back: too many sign-ins failed just now",
    )
    assert len(events) == 4 + free + 1  # bob's wrong guesses, each; the empty form is no attempt
    assert {e.details["client"] for e in events} == {ATTACKER, DAVES_LAPTOP}
    recorded = repr([(e.actor, e.subject, e.summary, e.details) for e in events])
    for secret in ("alices-guess", "mallorys-guess", "wrong-box-Pa55", "in-the-name-box", "mallory", DEMO_PASSWORD):
        assert secret not in recorded
    assert check.broken_at is None  # chained like every other event


def test_a_remembered_sign_in_that_no_longer_holds_is_refused_on_record(gatehouse: Gatehouse) -> None:
    """A browser's sign-in cookie outlives its account's right to sign in: erin has left; frank has no password."""
    assert gatehouse.run(auth.refuse_remembered_sign_in, "erin") == auth.LEFT_THE_PLATFORM
    assert gatehouse.run(auth.refuse_remembered_sign_in, "frank") == auth.NO_PASSWORD_NOW
    with gatehouse.session() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "sign-in-refused").order_by(col(AuditEvent.id))
        ).all()
    assert [(e.actor, e.subject, e.summary, e.details) for e in events] == [
        ("erin", "erin", "erin has left and could not sign in", {"method": "cookie"}),
        (
            "system",
            None,
            "A remembered sign-in as frank was refused: no account with a password has that name now",
            {"method": "cookie"},
        ),
    ]
