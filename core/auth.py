"""Sign-in: password accounts (bcrypt hashes in the database) and their throttle, by client and by account; the
identity provider's claims bound to a platform member (OIDC through Streamlit's st.login); the bookkeeping of both.
The password form is the page's; the sign-in cookie is streamlit-authenticator's, fed from here (`Accounts`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from core import audit
from core.adapters.models import User, UserStatus, utcnow
from core.adapters.sign_in_models import SignInFailure
from core.config import Settings
from core.domain import InvalidInput, plain, validate_email, validate_username


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def _active_account(session: Session, username: str) -> User | None:
    user = _password_account(session, username)
    return user if user is not None and user.status == UserStatus.ACTIVE else None


def _password_account(session: Session, username: str) -> User | None:
    """The account with a password of this name, whether its member is active or has left."""
    return session.exec(select(User).where(User.username == username, col(User.password_hash).is_not(None))).first()


def account(session: Session, username: str) -> dict[str, Any] | None:
    """One active account with a password, as streamlit-authenticator expects it; None for anyone else."""
    user = _active_account(session, username)
    if user is None:
        return None
    return {
        "email": user.email,
        "first_name": user.display_name or user.username,
        "last_name": "",
        "password": user.password_hash,
    }


class Accounts(dict[str, dict[str, Any]]):
    """streamlit-authenticator's `usernames` mapping, read from the database one account at a time, when the
    widget looks one up: the one in the sign-in cookie, to restore a sign-in (passwords are checked here, in
    `password_sign_in`, never by the widget).

    Handing the widget every active account instead would cost each rerun of the sign-in page as much as the
    platform has users. The widget only ever asks for one account (`in`, `[]`, `.get`)."""

    def __init__(self, lookup: Callable[[str], dict[str, Any] | None]) -> None:
        """`lookup`: `account` in a unit of work of its own (the page's `cached.read_now(account, username)`)."""
        super().__init__()
        self._lookup = lookup

    def _loaded(self, username: object) -> bool:
        if not isinstance(username, str):
            return False
        if dict.__contains__(self, username):
            return True
        entry = self._lookup(username)
        if entry is None:
            return False
        dict.__setitem__(self, username, entry)
        return True

    def __contains__(self, username: object) -> bool:
        return self._loaded(username)

    def __missing__(self, username: str) -> dict[str, Any]:
        if self._loaded(username):
            return dict.__getitem__(self, username)
        raise KeyError(username)

    def get(self, username: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[username] if self._loaded(username) else default


# --- password sign-in and its throttle ----------------------------------------------------------------------------

# The one message for a wrong password, an unknown or invalid name, and an attempt the throttle holds back: anything
# else would tell a stranger which accounts exist. Only the right password earns a leaver the reason why.
SIGN_IN_FAILED = "The username or password is incorrect, or too many sign-ins failed just now: wait a little and retry."
EMPTY_SIGN_IN = "Enter your username and password."
LEFT_THE_PLATFORM = "You have left the platform, so you cannot sign in: ask the platform team if this is wrong."
NO_PASSWORD_NOW = "You cannot sign in with this account any more: ask the platform team for a way in."
UNKNOWN_CLIENT = "unknown"


@dataclass(frozen=True)
class PasswordSignIn:
    """A password sign-in's outcome: the member's username, or the sentence that refuses it; and how long this client
    must now wait before its next attempt is even checked (the throttle's decision, in seconds)."""

    username: str | None
    wait_seconds: int = 0
    refusal: str | None = None


def client_address(settings: Settings, address: object, forwarded_for: object) -> str:
    """Who is trying, as far as the throttle can tell: the connection's address, or behind a proxy
    (GATEHOUSE_BEHIND_PROXY) the last address of X-Forwarded-For, the one the proxy itself saw; the earlier ones
    are whatever the client chose to send. Whatever the page could not tell (not text) is unknown."""
    if settings.behind_proxy and isinstance(forwarded_for, str) and forwarded_for:
        address = forwarded_for.rsplit(",", 1)[-1]
    return (address.strip()[:64] if isinstance(address, str) else "") or UNKNOWN_CLIENT


def _delay(failures: int, settings: Settings) -> int:
    """Seconds to wait after the last failure: none for the first GATEHOUSE_MAX_FAILED_SIGN_INS, then 1, 2, 4, …
    up to the whole window. A delay, never a lock: the right password gets in once the wait is over."""
    beyond = failures - settings.max_failed_sign_ins
    if beyond <= 0:
        return 0
    return min(2 ** min(beyond - 1, 30), settings.sign_in_throttle_minutes * 60)


def sign_in_wait(session: Session, settings: Settings, client: str, username: str, now: datetime) -> int:
    """How many seconds this attempt must wait before it is checked (0: check it now).

    By client: every failure from it counts (one client trying many names, or one name many times). By account:
    the number of different clients that failed on it counts, so that someone failing from one place slows only
    themselves, and the member signs in from their own at once; only a guess spread over many clients slows
    everyone's attempts on that account, by a delay and never a lock."""
    since = now - timedelta(minutes=settings.sign_in_throttle_minutes)
    by_client = session.exec(
        select(func.count(), func.max(SignInFailure.at)).where(SignInFailure.client == client, SignInFailure.at > since)
    ).one()
    by_account = session.exec(
        select(func.count(func.distinct(SignInFailure.client)), func.max(SignInFailure.at)).where(
            SignInFailure.username == username, SignInFailure.at > since
        )
    ).one()
    wait = 0.0
    for failures, last in (by_client, by_account if username else (0, None)):
        if last is not None:
            ends = _aware(last) + timedelta(seconds=_delay(failures, settings))
            wait = max(wait, (ends - now).total_seconds())
    return int(-(-wait // 1))  # whole seconds, rounded up


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives back naive UTC


@functools.cache
def _no_account_hash() -> str:
    """Checked against when no account matches, so that an unknown name takes as long to refuse as a known one."""
    return hash_password("no account has this password")


def password_sign_in(
    session: Session, settings: Settings, client: str, username: str, password: str, now: datetime | None = None
) -> PasswordSignIn:
    """Check a password sign-in, unless the throttle holds it back; record the sign-in, or its refusal (in the audit
    trail, and as a failure for the throttle when the password was wrong). An empty form is no attempt: only asked
    to be completed. The audit trail names an account only when it exists: a name no account has may be a password
    typed into the wrong box."""
    now = now or utcnow()
    if not username.strip() or not password:
        return PasswordSignIn(None, refusal=EMPTY_SIGN_IN)
    try:
        name = validate_username(username)
    except InvalidInput:
        name = ""  # no account has it: fails below, after the same work as any other failure
    user = _password_account(session, name) if name else None
    who = f" as {user.username}" if user is not None else ""
    details = {"method": "password", "client": client}
    if wait := sign_in_wait(session, settings, client, name, now):
        summary = f"A password sign-in{who} from {plain(client, 40)} was held back: too many sign-ins failed just now"
        _record_refusal(session, summary, user, **details, wait_seconds=wait)
        return PasswordSignIn(None, wait, SIGN_IN_FAILED)
    stored = user.password_hash if user is not None and user.password_hash else _no_account_hash()
    typed = password.encode()
    # bcrypt refuses more than 72 bytes, and no password set here is longer: checked all the same, for the time
    checked = bcrypt.checkpw(typed[:72], stored.encode()) and len(typed) <= 72
    if user is not None and checked:
        if user.status != UserStatus.ACTIVE:
            _record_leaver(session, user, **details)
            return PasswordSignIn(None, refusal=LEFT_THE_PLATFORM)
        record_sign_in(session, user.username, method="password")
        return PasswordSignIn(user.username)
    why = "the password was wrong" if user is not None else "no account with a password has the username typed"
    _record_refusal(session, f"A password sign-in{who} from {plain(client, 40)} was refused: {why}", user, **details)
    return PasswordSignIn(None, _record_failure(session, settings, client, name, now), SIGN_IN_FAILED)


def refuse_remembered_sign_in(session: Session, username: str) -> str:
    """A browser's sign-in cookie names an account that may no longer sign in (its member left, or it has no password
    now): the refusal on record, and the sentence for its holder. The cookie is Gatehouse's own, signed: whoever holds
    it signed in as them, so a leaver may be told why."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is not None and user.status != UserStatus.ACTIVE:
        _record_leaver(session, user, method="cookie")
        return LEFT_THE_PLATFORM
    summary = f"A remembered sign-in as {plain(username, 60)} was refused: no account with a password has that name now"
    _record_refusal(session, summary, user, method="cookie")
    return NO_PASSWORD_NOW


def _record_refusal(session: Session, summary: str, account: User | None, **details: Any) -> None:
    subject = account.username if account is not None else None
    audit.record(session, audit.SYSTEM, "sign-in-refused", summary, subject=subject, **details)


def _record_leaver(session: Session, user: User, **details: Any) -> None:
    summary = f"{user.username} has left and could not sign in"  # the identity provider's refusal says the same
    audit.record(session, user.username, "sign-in-refused", summary, subject=user.username, **details)


def _record_failure(session: Session, settings: Settings, client: str, username: str, now: datetime) -> int:
    session.exec(
        delete(SignInFailure).where(col(SignInFailure.at) <= now - timedelta(minutes=settings.sign_in_throttle_minutes))
    )
    session.add(SignInFailure(at=now, client=client, username=username))
    session.flush()
    wait = sign_in_wait(session, settings, client, username, now)
    if wait and wait == 1:  # the throttle starts holding back: once on record, not at every failure after
        audit.record(
            session,
            audit.SYSTEM,
            "sign-in-throttled",
            f"Password sign-ins from {plain(client, 40)}"
            + (f" or for {username}" if username else "")
            + f" wait between attempts after {settings.max_failed_sign_ins} failures",
            subject=username or None,
            client=client,
        )
    return wait


def record_sign_in(session: Session, username: str, **details: Any) -> None:
    user = session.exec(select(User).where(User.username == username)).one()
    user.last_sign_in_at = utcnow()
    session.add(user)
    audit.record(session, username, "sign-in", f"{username} signed in", subject=username, **details)


def record_sign_out(session: Session, username: str) -> None:
    audit.record(session, username, "sign-out", f"{username} signed out", subject=username)


# --- the identity provider (OIDC) -------------------------------------------------------------------------------

NOT_A_MEMBER = "You are not a member of the platform yet: the platform team adds members."
NO_IDENTITY = "Your identity provider did not say who you are (no iss and sub claims): ask the platform team."
ANOTHER_IDENTITY = (
    "This member is already linked to another account at your identity provider, so you cannot sign in as them: "
    "ask the platform team."
)
EMAIL_NOT_VERIFIED = (
    "Your identity provider has not verified your email address, so it cannot name you: verify it there, or ask "
    "the platform team."
)
OIDC_ACTOR = "oidc:"  # how an identity that is no member is named in the audit trail


@dataclass(frozen=True)
class Identity:
    """Who the identity provider says someone is (the claims of its ID token, as Streamlit's st.user holds them).
    Nothing is cleaned: a claim is taken as sent, or refused."""

    issuer: str
    subject: str
    name: str  # the username claim's value as sent; "" when the provider sent none
    email: str
    display_name: str
    groups: tuple[str, ...]
    issued_at: datetime | None  # the token's iat: when the provider said all this

    @property
    def audit_name(self) -> str:
        return (OIDC_ACTOR + plain(self.name or self.subject or "?", 59))[:64]


def _claim(claims: Mapping[str, Any], name: str, limit: int) -> str:
    value = claims.get(name)
    return str(value)[:limit] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def identity(settings: Settings, claims: Mapping[str, Any]) -> Identity:
    groups = claims.get(settings.oidc_groups_claim) or ()
    if isinstance(groups, str):
        groups = (groups,)
    iat = claims.get("iat")
    return Identity(
        issuer=_claim(claims, "iss", 512),
        subject=_claim(claims, "sub", 255),
        name=_claim(claims, settings.oidc_username_claim, 254),
        email=_claim(claims, "email", 254),
        display_name=_claim(claims, "name", 120),
        groups=tuple(str(g) for g in groups if isinstance(g, str | int)) if isinstance(groups, list | tuple) else (),
        issued_at=datetime.fromtimestamp(iat, UTC)
        if isinstance(iat, int | float) and not isinstance(iat, bool)
        else None,
    )


def claimed_name(settings: Settings, who: Identity, claims: Mapping[str, Any]) -> str:
    """The member name the username claim gives, by the rule for every username (domain.validate_username; an
    email by the same rule), lower case: only a claim the provider vouches for (an email only when email_verified
    is true). Raises InvalidInput with the sentence for the person otherwise."""
    claim = settings.oidc_username_claim
    if not who.name:
        raise InvalidInput(
            f"Your identity provider did not say who you are (no {plain(claim, 64)} claim): ask the platform team."
        )
    if claim == "email" and claims.get("email_verified") not in (True, "true"):
        raise InvalidInput(EMAIL_NOT_VERIFIED)
    try:
        return validate_email(who.name).lower() if "@" in who.name else validate_username(who.name)
    except InvalidInput as error:
        raise InvalidInput(f"Your identity provider's {plain(claim, 64)} claim cannot name a member: {error}") from None


def find_member(session: Session, name: str) -> User | None:
    """The member a valid name means, whether active or not: a name holding an @ is a member's email or the sign-in
    name the identity provider provisioned them with (its userName, Entra ID's UPN; the only member with it), any
    other their username."""
    if "@" in name:
        named = or_(func.lower(User.email) == name, col(User.sign_in_name) == name)
        found = session.exec(select(User).where(named).limit(2)).all()
        return found[0] if len(found) == 1 else None
    return session.exec(select(User).where(User.username == name)).first()


def bound_member(session: Session, who: Identity) -> User | None:
    return session.exec(select(User).where(User.oidc_issuer == who.issuer, User.oidc_subject == who.subject)).first()


def groups_are_fresh(settings: Settings, claims: Mapping[str, Any], now: datetime | None = None) -> bool:
    """Whether the token's claims are recent enough to make someone platform team
    (GATEHOUSE_OIDC_GROUPS_MAX_AGE_MINUTES): Streamlit keeps them in its identity cookie for 30 days, long after
    the provider may have removed the group."""
    issued = identity(settings, claims).issued_at
    return issued is not None and (now or utcnow()) - issued <= timedelta(minutes=settings.oidc_groups_max_age_minutes)


@dataclass(frozen=True)
class OidcSignIn:
    """What a sign-in through the identity provider came to: a member's username, or one sentence instead; and a
    note for a member whose claims are too old to make them platform team (they may sign in again)."""

    username: str | None
    refusal: str | None = None
    may_ask_to_join: bool = False
    note: str | None = None


def _refuse(session: Session, who: Identity, refusal: str, summary: str, actor: str, subject: str | None) -> OidcSignIn:
    audit.record(session, actor[:64], "sign-in-refused", summary, subject=subject, issuer=who.issuer, sub=who.subject)
    return OidcSignIn(None, refusal, may_ask_to_join=refusal == NOT_A_MEMBER)


def record_oidc_sign_in(
    session: Session, settings: Settings, claims: Mapping[str, Any], now: datetime | None = None
) -> OidcSignIn:
    """Find the member the provider's identity (iss, sub) is bound to, or bind it at its first sign-in through the
    username claim, and record the sign-in, or its refusal: only active members get in, each bound to one identity.
    With GATEHOUSE_OIDC_PLATFORM_GROUP set, membership of the platform team follows that group of fresh claims."""
    now = now or utcnow()
    who = identity(settings, claims)
    if not who.issuer or not who.subject:
        summary = "A sign-in was refused: the identity provider sent no iss or sub claim"
        return _refuse(session, who, NO_IDENTITY, summary, who.audit_name, None)
    user = bound_member(session, who)
    if user is None:
        try:
            name = claimed_name(settings, who, claims)
        except InvalidInput as error:
            summary = f"A sign-in as {plain(who.name, 60) or '?'} was refused: {error}"
            return _refuse(session, who, str(error), summary, who.audit_name, plain(who.name, 64) or None)
        user = find_member(session, name)
        if user is None:
            summary = f"{name[:60]} is not a platform member and could not sign in"
            return _refuse(session, who, NOT_A_MEMBER, summary, OIDC_ACTOR + name, name[:64])
        if user.status == UserStatus.ACTIVE and (user.oidc_subject is not None or not _bind(session, user, who)):
            summary = (
                f"{user.username} is linked to another identity at the identity provider: a sign-in as "
                f"{plain(who.subject, 60)} of {plain(who.issuer, 80)} naming them was refused"
            )
            return _refuse(session, who, ANOTHER_IDENTITY, summary, user.username, user.username)
    if user.status != UserStatus.ACTIVE:
        summary = f"{user.username} has left and could not sign in"
        return _refuse(session, who, LEFT_THE_PLATFORM, summary, user.username, user.username)
    note = None
    if settings.oidc_platform_group:
        in_group = settings.oidc_platform_group in who.groups
        fresh = groups_are_fresh(settings, claims, now)
        _follow_platform_group(session, user, in_group and fresh, fresh)
        if in_group and not fresh and not user.is_external:
            note = (
                f"Your sign-in is older than {settings.oidc_groups_max_age_minutes} minutes, so the platform team's "
                "pages wait until you sign in again."
            )
    record_sign_in(session, user.username, method="oidc")
    return OidcSignIn(user.username, note=note)


def _bind(session: Session, user: User, who: Identity) -> bool:
    """Bind the member to this identity, unless another got there first (one conditional UPDATE: of two first
    sign-ins at once, one binds)."""
    bound = session.exec(
        update(User)
        .where(col(User.id) == user.id, col(User.oidc_subject).is_(None))
        .values(oidc_issuer=who.issuer, oidc_subject=who.subject)
    )
    if bound.rowcount != 1:
        return False
    audit.record(
        session,
        user.username,
        "identity-linked",
        f"{user.username} was linked to {plain(who.subject, 60)} of {plain(who.issuer, 80)} at their first sign-in "
        "through the identity provider",
        subject=user.username,
        issuer=who.issuer,
        sub=who.subject,
    )
    return True


def _follow_platform_group(session: Session, user: User, team: bool, fresh: bool) -> None:
    team = team and not user.is_external
    if user.is_platform_admin == team:
        return
    user.is_platform_admin = team
    session.add(user)
    why = "the identity provider's group" if fresh else "the identity provider's claims are too old to say"
    audit.record(
        session,
        audit.SYSTEM,
        "platform-team-changed",
        f"{user.username} {'joined' if team else 'left'} the platform team ({why})",
        subject=user.username,
        platform_admin=team,
    )
