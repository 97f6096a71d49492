"""Removing a member's (or a team's) access to a source, whole or one path at a time: an admin of it, the platform
team, or the member themselves (a team's: an admin of it or the platform team)."""

from __future__ import annotations

from core.access import (
    GrantOutcome,
    check_manages,
    record_revoke,
)
from core.actor import acting
from core.adapters.models import User
from core.context import Gatehouse
from core.effects import applied
from core.paths import Paths
from core.queries import get_source, get_team, get_user


def revoke_access(
    gatehouse: Gatehouse,
    actor: User,
    source_name: str,
    username: str,
    paths: Paths | str | None = None,
) -> GrantOutcome:
    """Remove a user's access to a source (`paths` None), or to some of the paths they hold on it (each exactly as
    held): by an admin of it, the platform team, or the user themselves."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, source_name)
        taken = Paths.given(paths, source.name)
        user = get_user(session, username)
        if actor.id is None or actor.id != user.id:
            check_manages(session, actor, source)
        roles = record_revoke(gatehouse, session, actor, source, user, taken)
    return GrantOutcome(list(roles), applied(session))


def revoke_team_access(
    gatehouse: Gatehouse, actor: User, source_name: str, team_name: str, paths: Paths | str | None = None
) -> GrantOutcome:
    """Remove a team's access to a source (`paths` None), or some of the paths it holds (each exactly as held): by an
    admin of the source or the platform team. Its members are told."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, source_name)
        taken = Paths.given(paths, source.name)
        team = get_team(session, team_name)
        check_manages(session, actor, source)
        roles = record_revoke(gatehouse, session, actor, source, team, taken)
    return GrantOutcome(list(roles), applied(session))
