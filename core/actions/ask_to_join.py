"""Someone the identity provider vouches for, who is no platform member yet, asks the platform team to add them
(one click on the page that refused their sign-in). The platform team adds them from it (actions.add_user, which
closes the request) or dismisses it (actions.dismiss_join_request)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, or_, select

from core import audit, auth
from core.adapters.db import serialise, taken_means
from core.adapters.models import User, utcnow
from core.adapters.sign_in_models import JoinRequest
from core.context import Gatehouse
from core.domain import InvalidInput, NotAllowed
from core.notify import NotificationKind, notify
from core.queries import platform_team


@dataclass(frozen=True)
class JoinAsked:
    identity: str
    already_asked: bool  # an earlier request of theirs is still open: nothing new was sent


def ask_to_join(gatehouse: Gatehouse, claims: Mapping[str, Any]) -> JoinAsked:
    """Ask to join as the identity the provider's claims name (never as anyone a page says): the request keeps the
    identity (iss, sub) that asked, and the member added from it is bound to that identity."""
    who = auth.identity(gatehouse.settings, claims)
    if not who.issuer or not who.subject:
        raise NotAllowed(auth.NO_IDENTITY)
    name = auth.claimed_name(gatehouse.settings, who, claims)
    with gatehouse.session() as session:
        serialise(session, "join-request", who.issuer, who.subject)  # a double click asks once
        if auth.bound_member(session, who) is not None or auth.find_member(session, name) is not None:
            raise InvalidInput("You are already known to the platform: sign in again, or ask the platform team.")
        open_request = session.exec(
            select(JoinRequest.id).where(
                JoinRequest.oidc_issuer == who.issuer,
                JoinRequest.oidc_subject == who.subject,
                col(JoinRequest.closed_at).is_(None),
            )
        ).first()
        if open_request is not None:
            return JoinAsked(name, already_asked=True)
        session.add(
            JoinRequest(
                identity=name,
                email=who.email,
                display_name=who.display_name,
                oidc_issuer=who.issuer,
                oidc_subject=who.subject,
            )
        )
        with taken_means("You have already asked to join: the platform team will add you, or tell you why not."):
            session.flush()  # one open request an identity (a unique index), whatever raced past the check
        audit.record(
            session,
            auth.OIDC_ACTOR + name[:59],
            "join-requested",
            f"{name} asked to join the platform",
            subject=name[:64],
            email=who.email,
            name=who.display_name,
            issuer=who.issuer,
            sub=who.subject,
        )
        notify(
            session,
            platform_team(session),
            NotificationKind.JOIN_REQUEST,
            f"{name} asks to join the platform",
            f"{name} ({who.email or 'no email given'}) signed in through the identity provider and is no platform "
            "member yet. Add them, or dismiss the request, in Platform → Users.",
        )
    return JoinAsked(name, already_asked=False)


def close_join_requests(
    session: Session, member: User, closed_by: str, outcome: str = "added", also: JoinRequest | None = None
) -> int:
    """Close the open join requests a new member answers (their username or email, and `also`, the one they were
    added from), in the caller's unit of work."""
    names = {member.username.lower(), member.email.strip().lower()} - {""}
    answered = or_(*(JoinRequest.identity == name for name in names))
    if also is not None:
        answered = or_(answered, JoinRequest.id == also.id)
    closed = session.exec(  # type: ignore[call-overload]
        update(JoinRequest)
        .where(col(JoinRequest.closed_at).is_(None), answered)
        .values(closed_at=utcnow(), outcome=outcome, closed_by=closed_by[:64], member_id=member.id)
    )  # one statement: a request dismissed at the same moment is closed once, by whichever came first
    return int(closed.rowcount)
