"""Removing a member's access to a source: an admin of it, the platform team, or the member themselves."""

from __future__ import annotations

from sqlmodel import select

from core import audit
from core.actions.grant_access import GrantOutcome, check_manages, describe, keeps_an_admin
from core.actor import acting
from core.adapters.models import Grant, User
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput
from core.iam_sync import mark_changed, sync_pending, user_principal
from core.queries import get_source, get_user


def revoke_access(gatehouse: Gatehouse, actor: User, source_name: str, username: str) -> GrantOutcome:
    """Remove a user's access to a source: by an admin of it, the platform team, or the user themselves."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, source_name)
        user = get_user(session, username)
        own = actor.id is not None and actor.id == user.id
        if not own:
            check_manages(session, actor, source)
        grant = session.exec(select(Grant).where(Grant.source_id == source.id, Grant.user_id == user.id)).first()
        if grant is None:
            raise InvalidInput(f"{user.username} has no access to {source.name}.")
        if grant.level == AccessLevel.ADMIN:
            keeps_an_admin(session, source, user)
        before = describe(grant)
        session.delete(grant)
        principal = user_principal(gatehouse.settings.env, user)
        mark_changed(session, [principal])
        who = "their own" if own else f"{user.username}'s"
        audit.record(
            session,
            actor.username,
            "access-revoked",
            f"{actor.username} revoked {who} access to {source.name}",
            source_id=source.id,
            subject=user.username,
            before=before,
        )
    return GrantOutcome([user.username], sync_pending(gatehouse, [principal.role_name]))
