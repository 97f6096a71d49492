"""Who is acting: the one place a use case learns who its actor is now."""

from __future__ import annotations

from sqlmodel import Session

from core.adapters.models import User
from core.domain import NotFound, UserStatus, shown
from core.rules import check_not_left

OPERATOR = "cli:"
PROVIDER = "scim:"  # the identity provider, through SCIM, by the name of the token it presented
LEFT = " and can no longer use Gatehouse"  # how a leaver is told, wherever they still try to act


def platform_operator(name: str) -> User:
    """An operator acting as the platform team outside the app (the CLI, a scheduler); named in the audit trail."""
    return User(username=f"{OPERATOR}{name.lower()}", email="", is_platform_admin=True, status=UserStatus.ACTIVE)


def identity_provider(token_name: str) -> User:
    """The identity provider acting as the platform team through SCIM; named in the audit trail by its token's name."""
    return User(username=f"{PROVIDER}{token_name}", email="", is_platform_admin=True, status=UserStatus.ACTIVE)


def acting(session: Session, actor: User) -> User:
    """Who is acting, as the database says now, read in the use case's own transaction.

    A page hands core the row it read at sign-in or keeps in its cache, which can be minutes old: someone marked as
    left since, locked out, or taken out of the platform team acts as what they are now. That row is only a name for
    the actor: it is never written back, and no decision is made on its fields."""
    if actor.id is None and actor.username.startswith((OPERATOR, PROVIDER)) and actor.is_platform_admin:
        return actor  # the CLI's operator or the identity provider: not a member with a row
    user = session.get(User, actor.id, populate_existing=True) if actor.id is not None else None
    if user is None:
        raise NotFound(f"There is no platform member called {shown(actor.username, 40)}.")
    check_not_left(user, LEFT).enforce()
    return user
