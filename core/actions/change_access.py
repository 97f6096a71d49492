"""Changing one of a member's (or a team's) grants on a source in place (Admin → Edit): its level, its paths, its end
date. The holder's other grants on the source stay as they are, and the changed one may not come to overlap them."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from core import audit
from core.access import (
    GrantOutcome,
    audit_subject,
    changing_access,
    check_fits,
    check_manages,
    check_team_fits,
    checked_terms,
    describe,
    keeps_an_admin,
    mark_holder,
    placed_on_bucket,
)
from core.actor import acting
from core.adapters.models import DataSource, Grant, Team, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, NotFound, day
from core.effects import applied
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.queries import get_source, get_team, get_user, held, held_grants, holder_name, team_members
from core.rules import check_access_may_change, check_end_date, check_may_hold, check_no_overlap


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
        wanted = checked_terms(paths, expires_on, source.name)
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
        wanted = checked_terms(paths, expires_on, source.name)
        roles = record_change(gatehouse, session, actor, source, team, grant_id, level, wanted, expires_on)
    return GrantOutcome(list(roles), applied(session))


def record_change(
    gatehouse: Gatehouse,
    session: Session,
    actor: User,
    source: DataSource,
    holder: str | User | Team,
    grant_id: int,
    level: AccessLevel,
    wanted: Paths,
    expires_on: date | None,
) -> dict[str, str]:
    """Change the grant in the caller's transaction (the caller has decided the actor may) of `holder` (a member, by
    username or as loaded, or a team); returns the role to sync, by the member's username as stored (a team's: its
    name)."""
    check_end_date(expires_on, utcnow().date()).enforce(InvalidInput)
    changing_access(session, source)
    check_access_may_change(source.name, source.archived_at).enforce(InvalidInput)
    holder = get_user(session, holder) if isinstance(holder, str) else holder
    name = holder_name(holder)
    if isinstance(holder, User):
        check_may_hold(holder, level).enforce(InvalidInput)
    grants = held_grants(session, source, holder, to_change=True)
    grant = next((g for g in grants if g.id == grant_id), None)
    if grant is None:
        raise NotFound(f"That access of {name} to {source.name} has changed since: reload to see it.")  # mid-sentence
    others = [g for g in grants if g.id != grant_id]
    yours = isinstance(holder, User) and actor.id is not None and actor.id == holder.id
    starts = holder_name(holder, starts=True)
    check_no_overlap(held(others), wanted, starts, source.name, yours=yours).enforce(InvalidInput)
    if grant.level == AccessLevel.ADMIN and level is not AccessLevel.ADMIN:
        keeps_an_admin(session, source, holder, actor)
    placed = placed_on_bucket(source, others, [g.paths for g in others], level, wanted)
    if isinstance(holder, Team):
        check_team_fits(gatehouse, session, holder.id or 0, source.name, placed)
    else:
        check_fits(gatehouse, session, holder, source.name, placed)
    before = describe(grant)
    _set(grant, actor, level, wanted, expires_on)
    session.add(grant)
    roles = mark_holder(gatehouse, session, holder)
    until = f" until {day(expires_on)}" if expires_on else ""
    summary = f"{actor.username} changed {name}'s access to {source.name} to {level.label.lower()} ({wanted}){until}"
    audit.record(
        session,
        actor.username,
        "access-changed",
        summary,
        source_id=source.id,
        subject=audit_subject(holder),
        before=before,
        after=describe(grant),
    )
    if isinstance(holder, Team):
        told = [m for m in team_members(session, [holder.id or 0]) if m.id != actor.id]
        subject, yours_or_team = f"The {holder.name} team's access to {source.name} changed", f"{name}'s"
    else:
        told = [holder] if holder.id != actor.id else []
        subject, yours_or_team = f"Your access to {source.name} changed", "your"
    notify(
        session,
        told,
        NotificationKind.ACCESS_CHANGED,
        subject,
        f"{actor.username} changed {yours_or_team} access to {source.name}: {level.label.lower()} on {wanted}{until}.",
    )
    return roles


def _set(grant: Grant, actor: User, level: AccessLevel, paths: Paths, expires_on: date | None) -> None:
    grant.level, grant.paths, grant.expires_on = level, paths, expires_on
    grant.granted_by_id, grant.updated_at = actor.id, utcnow()
    grant.expiry_warned_at = None  # a new end date is warned of anew
