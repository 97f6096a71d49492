"""Sign-in: password accounts and their throttling (bcrypt hashes in the database; the sign-in widget is
streamlit-authenticator's, fed from here), the identity provider's claims matched to a platform member (OIDC through
Streamlit's st.login), and the bookkeeping of both."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import bcrypt
from sqlalchemy import func
from sqlmodel import Session, col, select

from core import audit
from core.adapters.models import User, UserStatus, utcnow
from core.config import Settings
from core.domain import BIDI_CONTROLS, shown


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


def record_sign_in(session: Session, username: str, **details: Any) -> None:
    user = session.exec(select(User).where(User.username == username)).one()
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = utcnow()
    session.add(user)
    audit.record(session, username, "sign-in", f"{username} signed in", subject=username, **details)


def record_sign_out(session: Session, username: str) -> None:
    audit.record(session, username, "sign-out", f"{username} signed out", subject=username)


def lockout_message(settings: Settings) -> str:
    return (
        f"Too many failed sign-ins for this account: wait {settings.sign_in_lockout_minutes} minutes "
        "and try again, or ask the platform team."
    )


# --- the identity provider (OIDC) -------------------------------------------------------------------------------

NOT_A_MEMBER = "You are not a member of the platform yet: the platform team adds members."
LEFT_THE_PLATFORM = "You have left the platform, so you cannot sign in: ask the platform team if this is wrong."
OIDC_ACTOR = "oidc:"  # how an identity that is no member is named in the audit trail


@dataclass(frozen=True)
class Identity:
    """Who the identity provider says someone is (the claims of its ID token, as Streamlit's st.user holds them)."""

    name: str  # the username claim's value, trimmed and lower case; "" when the provider sent none
    email: str
    display_name: str
    groups: tuple[str, ...]

    @property
    def audit_name(self) -> str:
        return (OIDC_ACTOR + (self.name or "?"))[:64]


def _claim_text(value: Any, limit: int) -> str:
    """A claim as one line of text: no control or text-direction characters (a provider's claim is someone's
    typing too), bounded."""
    if not isinstance(value, str | int):
        return ""
    text = "".join(c for c in str(value) if c.isprintable() and c not in BIDI_CONTROLS).strip()
    return text[:limit]


def identity(settings: Settings, claims: Mapping[str, Any]) -> Identity:
    groups = claims.get(settings.oidc_groups_claim) or ()
    if isinstance(groups, str):
        groups = (groups,)
    return Identity(
        name=_claim_text(claims.get(settings.oidc_username_claim), 254).lower(),
        email=_claim_text(claims.get("email"), 254),
        display_name=_claim_text(claims.get("name"), 120),
        groups=tuple(str(g) for g in groups if isinstance(g, str | int)) if isinstance(groups, list | tuple) else (),
    )


def find_member(session: Session, name: str) -> User | None:
    """The member an identity names, whether active or not: a name holding an @ is a member's email (the only
    member with it), any other their username."""
    if not name:
        return None
    if "@" in name:
        found = session.exec(select(User).where(func.lower(User.email) == name).limit(2)).all()
        return found[0] if len(found) == 1 else None
    return session.exec(select(User).where(User.username == name)).first()


@dataclass(frozen=True)
class OidcSignIn:
    """What a sign-in through the identity provider came to: a member's username, or one sentence instead."""

    username: str | None
    refusal: str | None = None
    may_ask_to_join: bool = False


def record_oidc_sign_in(session: Session, settings: Settings, claims: Mapping[str, Any]) -> OidcSignIn:
    """Match the identity provider's claims to a platform member and record the sign-in, or its refusal: only
    active members get in. With GATEHOUSE_OIDC_PLATFORM_GROUP set, membership of the platform team follows that
    group of the groups claim (an external member is never put in it)."""
    who = identity(settings, claims)
    if not who.name:
        audit.record(
            session,
            who.audit_name,
            "sign-in-refused",
            f"A sign-in was refused: the identity provider sent no {settings.oidc_username_claim} claim",
            claim=settings.oidc_username_claim,
        )
        return OidcSignIn(
            None,
            f"Your identity provider did not say who you are (no {shown(settings.oidc_username_claim, 64)} claim): "
            "ask the platform team.",
        )
    user = find_member(session, who.name)
    if user is None:
        audit.record(
            session,
            who.audit_name,
            "sign-in-refused",
            f"{shown(who.name, 60)} is not a platform member and could not sign in",
            subject=who.name[:64],
            email=who.email,
        )
        return OidcSignIn(None, NOT_A_MEMBER, may_ask_to_join=True)
    if user.status != UserStatus.ACTIVE:
        audit.record(
            session,
            user.username,
            "sign-in-refused",
            f"{user.username} has left and could not sign in",
            subject=user.username,
        )
        return OidcSignIn(None, LEFT_THE_PLATFORM)
    if settings.oidc_platform_group:
        _follow_platform_group(session, user, settings.oidc_platform_group in who.groups)
    record_sign_in(session, user.username, method="oidc")
    return OidcSignIn(user.username)


def _follow_platform_group(session: Session, user: User, in_group: bool) -> None:
    team = in_group and not user.is_external
    if user.is_platform_admin == team:
        return
    user.is_platform_admin = team
    session.add(user)
    audit.record(
        session,
        audit.SYSTEM,
        "platform-team-changed",
        f"{user.username} {'joined' if team else 'left'} the platform team (the identity provider's group)",
        subject=user.username,
        platform_admin=team,
    )
