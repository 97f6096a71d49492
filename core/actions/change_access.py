"""Changing one of a member's (or a team's) grants on a source in place (Admin → Edit): its level, its paths, its end
date. The holder's other grants on the source stay as they are, and the changed one may not come to overlap them."""

from __future__ import annotations

from datetime import date

from core.access import (
    GrantOutcome,
    check_manages,
    checked_terms,
    record_change,
)
from core.actor import acting
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import AccessLevel
from core.effects import applied
from core.paths import Paths
from core.queries import get_source, get_team


def change_access(
    gatehouse: Gatehouse,
    actor: User,
    source_name: str,
    username: str,
    grant_id: int,
    level: AccessLevel,
    paths: Paths | str | None = None,
    expires_on: date | None = None,
) -> GrantOutcome:
    """Set one grant (`grant_id`, one of `username`'s on the source) to `level` on `paths` until `expires_on`."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, source_name)
        check_manages(session, actor, source)
        wanted = checked_terms(paths, expires_on, source, gatehouse.settings.classification_rules)
        roles = record_change(gatehouse, session, actor, source, username, grant_id, level, wanted, expires_on)
    return GrantOutcome(list(roles), applied(session))


def change_team_access(
    gatehouse: Gatehouse,
    actor: User,
    source_name: str,
    team_name: str,
    grant_id: int,
    level: AccessLevel,
    paths: Paths | str | None = None,
    expires_on: date | None = None,
) -> GrantOutcome:
    """Set one of a team's grants on the source to `level` on `paths` until `expires_on`; its members are told."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, source_name)
        team = get_team(session, team_name)
        check_manages(session, actor, source)
        wanted = checked_terms(paths, expires_on, source, gatehouse.settings.classification_rules)
        roles = record_change(gatehouse, session, actor, source, team, grant_id, level, wanted, expires_on)
    return GrantOutcome(list(roles), applied(session))
