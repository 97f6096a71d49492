"""The identity provider's bearer tokens for SCIM: made by the platform team (shown once, only their sha256 kept),
listed with their last use, revoked; and the check every SCIM request passes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from core import audit
from core.actor import acting
from core.adapters.db import taken_means
from core.adapters.models import AuditEvent, User, utcnow
from core.adapters.sign_in_models import ScimToken
from core.context import Gatehouse
from core.domain import InvalidInput, NotFound, check_text, shown
from core.rules import check_platform_admin

log = logging.getLogger("gatehouse.scim")
FROM_THE_ENVIRONMENT = "GATEHOUSE_SCIM_TOKEN"
# A token's last use is written at most this often: a sync sends thousands of requests a minute, and each write
# would be one more transaction that waits for the others.
LAST_USE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenShown:
    name: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(gatehouse: Gatehouse, actor: User, name: str) -> str:
    """A new token named `name`, returned this once: only its sha256 is kept."""
    name = _token_name(name)
    token = secrets.token_urlsafe(32)
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        if session.exec(select(ScimToken.id).where(ScimToken.name == name)).first() is not None:
            raise InvalidInput(f"There is already a SCIM token called {name}: revoke it first, or choose another name.")
        session.add(ScimToken(name=name, token_hash=digest(token), created_by=actor.username))
        with taken_means(f"There is already a SCIM token called {name}."):
            session.flush()
        audit.record(session, actor.username, "scim-token-created", f"{actor.username} created the SCIM token {name}")
    return token


def revoke_token(gatehouse: Gatehouse, actor: User, name: str) -> None:
    """The token stops working at once, in every process serving SCIM."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        token = session.exec(select(ScimToken).where(ScimToken.name == name.strip())).first()
        if token is None:
            raise NotFound(f"There is no SCIM token called {shown(name, 40)}.")
        session.delete(token)
        audit.record(  # its sha256 (all that was kept of it): a revoked token is never made again from the environment
            session,
            actor.username,
            "scim-token-revoked",
            f"{actor.username} revoked the SCIM token {token.name}",
            token_hash=token.token_hash,
        )


def list_tokens(gatehouse: Gatehouse, actor: User) -> list[TokenShown]:
    with gatehouse.session() as session:
        check_platform_admin(acting(session, actor)).enforce()
        tokens = session.exec(select(ScimToken).order_by(ScimToken.name)).all()
        return [TokenShown(t.name, t.created_by, t.created_at, t.last_used_at) for t in tokens]


def keep_environment_token(gatehouse: Gatehouse) -> None:
    """GATEHOUSE_SCIM_TOKEN, when set, is the token of that name (made, or replaced when the setting changed), unless
    the platform team revoked that very value: a revoked token never comes back because the variable is still set
    (a new value makes a new token). Several `gatehouse serve` starting at once on one database: one writes it, the
    others find it written."""
    secret = gatehouse.settings.scim_token
    if secret is None:
        return
    wanted = digest(secret.get_secret_value())
    if _revoked(gatehouse, wanted):
        log.warning("GATEHOUSE_SCIM_TOKEN holds a token the platform team revoked: it is not made again")
        return
    try:
        _keep(gatehouse, wanted)
    except InvalidInput:
        with gatehouse.session() as session:
            kept = session.exec(select(ScimToken.token_hash).where(ScimToken.name == FROM_THE_ENVIRONMENT)).first()
        if kept != wanted:
            raise


def _revoked(gatehouse: Gatehouse, wanted: str) -> bool:
    with gatehouse.session() as session:
        revoked = session.exec(select(AuditEvent.details).where(AuditEvent.action == "scim-token-revoked")).all()
    return any((details or {}).get("token_hash") == wanted for details in revoked)


def _keep(gatehouse: Gatehouse, wanted: str) -> None:
    with gatehouse.session() as session:
        token = session.exec(select(ScimToken).where(ScimToken.name == FROM_THE_ENVIRONMENT)).first()
        if token is not None and token.token_hash == wanted:
            return
        if token is None:
            token = ScimToken(name=FROM_THE_ENVIRONMENT, token_hash=wanted, created_by="system")
        token.token_hash, token.created_at, token.last_used_at = wanted, utcnow(), None
        session.add(token)
        with taken_means("GATEHOUSE_SCIM_TOKEN is already another token's: make it a token of its own."):
            session.flush()
        audit.record(session, "system", "scim-token-created", f"the SCIM token {FROM_THE_ENVIRONMENT} was set")


def authenticate(gatehouse: Gatehouse, presented: str) -> str | None:
    """The name of the token presented, or None. Looked up by its sha256 and compared again in constant time, so
    that neither the lookup nor the comparison tells how much of a guess was right."""
    presented_hash = digest(presented)
    with gatehouse.session() as session:
        token = session.exec(select(ScimToken).where(ScimToken.token_hash == presented_hash)).first()
        if token is None or not hmac.compare_digest(token.token_hash, presented_hash):
            return None
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USE_EVERY:
            token.last_used_at = now
            session.add(token)
        return token.name


def _token_name(name: str) -> str:
    name = check_text(name, "token name", 40, multiline=False).strip()
    if not name:
        raise InvalidInput("Give the token a name, such as the identity provider's: entra, okta.")
    return name
