"""Passwords and sign-in throttling. Accounts and bcrypt hashes live in the database; the sign-in widget is
streamlit-authenticator's, fed from here."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import bcrypt
from sqlmodel import Session, col, select

from core import audit
from core.adapters.models import User, UserStatus, utcnow
from core.config import Settings


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def account(session: Session, settings: Settings, username: str) -> dict[str, Any] | None:
    """One active account with a password, as streamlit-authenticator expects it; None for anyone else.

    A locked-out account carries `failed_login_attempts` at the maximum, so the widget refuses it before
    checking the password (and we show why)."""
    user = session.exec(
        select(User).where(
            User.username == username, User.status == UserStatus.ACTIVE, col(User.password_hash).is_not(None)
        )
    ).first()
    if user is None:
        return None
    locked = user.locked_until is not None and user.locked_until > utcnow()
    return {
        "email": user.email,
        "first_name": user.display_name or user.username,
        "last_name": "",
        "password": user.password_hash,
        "failed_login_attempts": settings.max_failed_sign_ins if locked else 0,
    }


class Accounts(dict[str, dict[str, Any]]):
    """streamlit-authenticator's `usernames` mapping, read from the database one account at a time, when the widget
    looks one up (the username typed, or the one in the sign-in cookie).

    Handing the widget every active account instead would cost each rerun of the sign-in page as much as the
    platform has users. The widget only ever asks for the account being signed in (`in`, `[]`, `.get`); it counts
    a failed attempt in the entry it was given, which `failed()` reports.
    """

    def __init__(self, session: Callable[[], AbstractContextManager[Session]], settings: Settings) -> None:
        super().__init__()
        self._session = session
        self._settings = settings
        self._attempts_at_load: dict[str, int] = {}

    def _loaded(self, username: object) -> bool:
        if not isinstance(username, str):
            return False
        if dict.__contains__(self, username):
            return True
        with self._session() as session:
            entry = account(session, self._settings, username)
        if entry is None:
            return False
        dict.__setitem__(self, username, entry)
        self._attempts_at_load[username] = entry["failed_login_attempts"]
        return True

    def __contains__(self, username: object) -> bool:
        return self._loaded(username)

    def __missing__(self, username: str) -> dict[str, Any]:
        if self._loaded(username):
            return dict.__getitem__(self, username)
        raise KeyError(username)

    def get(self, username: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[username] if self._loaded(username) else default

    def failed(self) -> list[str]:
        """The accounts the widget has just counted a failed attempt against."""
        return [
            name
            for name, entry in self.items()
            if entry.get("failed_login_attempts", 0) > self._attempts_at_load.get(name, 0)
        ]


def record_failed_sign_in(session: Session, settings: Settings, username: str) -> User | None:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        return None
    user.failed_sign_ins += 1
    if user.failed_sign_ins >= settings.max_failed_sign_ins:
        user.locked_until = utcnow() + timedelta(minutes=settings.sign_in_lockout_minutes)
        user.failed_sign_ins = 0
        audit.record(
            session,
            audit.SYSTEM,
            "sign-in-locked",
            f"{username} was locked out for {settings.sign_in_lockout_minutes} minutes after "
            f"{settings.max_failed_sign_ins} failed sign-ins",
            subject=username,
        )
    session.add(user)
    return user


def record_sign_in(session: Session, username: str) -> None:
    user = session.exec(select(User).where(User.username == username)).one()
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = utcnow()
    session.add(user)
    audit.record(session, username, "sign-in", f"{username} signed in", subject=username)


def record_sign_out(session: Session, username: str) -> None:
    audit.record(session, username, "sign-out", f"{username} signed out", subject=username)


def lockout_message(settings: Settings) -> str:
    return (
        f"Too many failed sign-ins for this account: wait {settings.sign_in_lockout_minutes} minutes "
        "and try again, or ask the platform team."
    )
