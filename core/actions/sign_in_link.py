"""A one-time link that sets a member's password (password sign-in): made for a joiner when they are added, or anew
for a member who has none or forgot it, which replaces the one before. Its token is shown once, to the platform
team, and emailed to the member when SMTP is set up; the database keeps only its sha256 (token_hash). The member
opens it on the sign-in page, which shows `set_password_from_link`'s form: the password's rules are here."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import update
from sqlmodel import Session, col, select

from core import audit, auth
from core.actor import acting
from core.adapters import email
from core.adapters.models import User, UserStatus, utcnow
from core.config import Settings
from core.context import Gatehouse
from core.domain import InvalidInput, moment
from core.queries import get_user
from core.rules import check_not_left, check_platform_admin

LINK_UNKNOWN = "This link has been used, or replaced by a newer one: ask the platform team for a new link."
LINK_EXPIRED = "This link has expired: ask the platform team for a new link."
QUERY_PARAMETER = "set-password"  # the sign-in page's query parameter that holds a link's token
NOT_WITH_OIDC = "Members sign in through the identity provider, so no link is made: it signs them in."
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further: a longer password would be checked by its first 72 bytes only


@dataclass(frozen=True)
class SignInLink:
    """A link just made: shown once, never stored (only its token's hash is)."""

    username: str
    url: str
    expires_at: datetime
    emailed_to: str | None = None  # the address it was emailed to (SMTP set up and the server took it)
    email_error: str | None = None  # why emailing it failed: the platform team passes the link on themselves


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.app_url.rstrip('/')}/?{urlencode({QUERY_PARAMETER: token})}"


def make_link(session: Session, settings: Settings, user: User, actor: str) -> SignInLink:
    """Give the member a new link, in the caller's unit of work, replacing any earlier one; audited."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=settings.sign_in_link_hours)
    user.sign_in_link_hash, user.sign_in_link_expires_at = token_hash(token), expires
    session.add(user)
    audit.record(
        session,
        actor,
        "sign-in-link-made",
        f"{actor} made a one-time link for {user.username} to set their password, usable for "
        f"{settings.sign_in_link_hours} hours",
        subject=user.username,
        expires_at=expires.isoformat(),
    )
    return SignInLink(user.username, link_url(settings, token), expires)


def new_sign_in_link(gatehouse: Gatehouse, actor: User, username: str) -> SignInLink:
    """The platform team makes a new link for a member (no password yet, or forgotten): the earlier one stops
    working."""
    if gatehouse.settings.sign_in_method != "password":
        raise InvalidInput(NOT_WITH_OIDC)
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        user = get_user(session, username)
        check_not_left(user, " and cannot sign in").enforce(InvalidInput)
        link = make_link(session, gatehouse.settings, user, actor.username)
        address = user.email
    return send_link(gatehouse, link, address)


def send_link(gatehouse: Gatehouse, link: SignInLink, address: str) -> SignInLink:
    """Email the link to the member, once its unit of work is committed, when SMTP is set up. Sent at once, never
    kept in the outbox (the inbox's notifications are stored: the token would be). A failure is told the platform
    team, who have the link in front of them."""
    settings = gatehouse.settings
    if not settings.smtp_host or not address:
        return link
    body = (
        f"You are a member of Gatehouse as {link.username}. Choose your password here (the link works once, until "
        f"{moment(link.expires_at)}):\n\n{link.url}"
    )
    try:
        with email.Mailer(settings) as mailer:
            mailer.send("Choose your Gatehouse password", body, address)
    except (*email.ABOUT_MESSAGE, OSError) as error:
        return SignInLink(link.username, link.url, link.expires_at, email_error=email.describe(error))
    return SignInLink(link.username, link.url, link.expires_at, emailed_to=address)


def way_in(settings: Settings, link: SignInLink | None) -> str:
    """What the platform team is told of how the member signs in, after they are added or a link is made; the link
    itself is shown after it, on its own (copied whole, never part of a sentence)."""
    if settings.sign_in_method == "oidc":
        return "They sign in through the identity provider, so no link is made."
    if link is None:
        return ""
    told = (
        f"It was emailed to {link.emailed_to}."
        if link.emailed_to
        else f"Emailing it failed ({link.email_error}): pass it on yourself."
        if link.email_error
        else "No email is set up (GATEHOUSE_SMTP_HOST): pass it on yourself."
    )
    return (
        f"{link.username} chooses their password with the one-time link below, shown only now and usable until "
        f"{moment(link.expires_at)}. {told}"
    )


# --- the member uses their link (the sign-in page) ----------------------------------------------------------------


def token_hash(token: str) -> str:
    """What is stored of a link's token: its sha256 (the token is random, 32 bytes: no salt or slow hash needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def link_holder(session: Session, token: str, now: datetime | None = None) -> str:
    """The username of the active member a one-time link is for; InvalidInput with one sentence for a link used,
    replaced or expired (or never made)."""
    return _link_holder(session, token, now).username


def _link_holder(session: Session, token: str, now: datetime | None) -> User:
    user = session.exec(
        select(User).where(User.sign_in_link_hash == token_hash(token), User.status == UserStatus.ACTIVE)
    ).first()
    if user is None or user.sign_in_link_expires_at is None:
        raise InvalidInput(LINK_UNKNOWN)
    if _aware(user.sign_in_link_expires_at) <= (now or utcnow()):
        raise InvalidInput(LINK_EXPIRED)
    return user


def set_password_from_link(session: Session, token: str, password: str, again: str, now: datetime | None = None) -> str:
    """Set the password of the member a one-time link is for, use the link up, and sign them in; their username.
    One conditional UPDATE: of two uses of one link at once, one sets the password."""
    now = now or utcnow()
    user = _link_holder(session, token, now)
    check_new_password(password, again)
    used = session.exec(
        update(User)
        .where(
            col(User.id) == user.id,
            col(User.sign_in_link_hash) == token_hash(token),
            col(User.sign_in_link_expires_at) > now,
            col(User.status) == UserStatus.ACTIVE,
        )
        .values(password_hash=auth.hash_password(password), sign_in_link_hash=None, sign_in_link_expires_at=None)
    )
    if used.rowcount != 1:
        raise InvalidInput(LINK_UNKNOWN)
    audit.record(
        session,
        user.username,
        "password-set",
        f"{user.username} set their password with a one-time link",
        subject=user.username,
    )
    session.refresh(user)
    auth.record_sign_in(session, user.username, method="sign-in link")
    return user.username


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives back naive UTC


def check_new_password(password: str, again: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidInput(f"The password can be at most {MAX_PASSWORD_BYTES} bytes long (fewer accented letters).")
    if password != again:
        raise InvalidInput("The two passwords differ: type the same password in both boxes.")
