"""Granting (or changing) access of platform members, or of a team, to a source: an admin of it or the platform
team. The decision is recorded (core/access.py), and IAM follows its commit; approve_request records its grant the
same way."""

from __future__ import annotations

from datetime import date

from core.access import GrantOutcome, check_manages, checked_terms, record_grant, record_team_grant
from core.actor import acting
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import AccessLevel
from core.effects import applied
from core.paths import Paths
from core.queries import get_source, get_team


def grant_access(
    gatehouse: Gatehouse,
    actor: User,
    source_name: str,
    usernames: list[str],
    level: AccessLevel,
    paths: Paths | str | None = None,
    expires_on: date | None = None,
    *,
    confirm_external: bool = False,
) -> GrantOutcome:
    """Give (or change) access of one or more platform members to a source; an admin of it or the platform team."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, source_name)
        check_manages(session, actor, source)
        terms = checked_terms(
            paths, expires_on, source, gatehouse.settings.classification_rules
        )  # read once, then carried typed
        roles = record_grant(
            gatehouse, session, actor, source, usernames, level, terms, expires_on, confirm_external=confirm_external
        )
    return GrantOutcome(list(roles), applied(session))


def grant_team_access(
    gatehouse: Gatehouse,
    actor: User,
    source_name: str,
    team_name: str,
    level: AccessLevel,
    paths: Paths | str | None = None,
    expires_on: date | None = None,
) -> GrantOutcome:
    """Give (or change) a team's access to a source, beside what the team holds: every active member has it, and is
    told; an admin of the source or the platform team."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, source_name)
        team = get_team(session, team_name)
        check_manages(session, actor, source)
        terms = checked_terms(paths, expires_on, source, gatehouse.settings.classification_rules)
        record_team_grant(gatehouse, session, actor, source, team, level, terms, expires_on)
        name = team.name
    return GrantOutcome([name], applied(session))
