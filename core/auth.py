"""Passwords and sign-in throttling. Accounts and bcrypt hashes live in the database; the sign-in widget is
streamlit-authenticator's, fed from here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import bcrypt
from sqlmodel import Session, col, select

from core import audit
from core.config import Settings
from core.models import User, UserStatus, utcnow


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def sign_in_credentials(session: Session, settings: Settings, username: str | None = None) -> dict[str, Any]:
    """The credentials mapping streamlit-authenticator expects, for active users with a password.

    A locked-out account carries `failed_login_attempts` at the maximum, so the widget refuses it before
    checking the password (and we show why). Pass `username` to load just the signed-in user.
    """
    query = select(User).where(User.status == UserStatus.ACTIVE, col(User.password_hash).is_not(None))
    if username is not None:
        query = query.where(User.username == username)
    now = utcnow()
    usernames = {
        user.username: {
            "email": user.email,
            "first_name": user.display_name or user.username,
            "last_name": "",
            "password": user.password_hash,
            "failed_login_attempts": settings.max_failed_sign_ins
            if user.locked_until and user.locked_until > now
            else 0,
        }
        for user in session.exec(query)
    }
    return {"usernames": usernames}


def failed_usernames(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Which accounts the widget just counted a failed attempt against (it bumps failed_login_attempts)."""
    return [
        name
        for name, entry in after["usernames"].items()
        if entry.get("failed_login_attempts", 0) > before.get(name, 0)
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
