"""Changing one of a member's grants on a source in place (Admin → Edit): its level, its paths, its end date. The
member's other grants on the source stay as they are, and the changed one may not come to overlap them."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from core import audit
from core.access import (
    GrantOutcome,
    changing_access,
    check_fits,
    check_manages,
    checked_terms,
    describe,
    keeps_an_admin,
    mark_changed,
    placed_on_bucket,
    user_principal,
)
from core.actor import acting
from core.adapters.models import DataSource, Grant, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, NotFound, day
from core.effects import applied
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.queries import get_source, get_user, held, held_grants
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


def record_change(
    gatehouse: Gatehouse,
    session: Session,
    actor: User,
    source: DataSource,
    username: str,
    grant_id: int,
    level: AccessLevel,
    wanted: Paths,
    expires_on: date | None,
) -> dict[str, str]:
    """Change the grant in the caller's transaction (the caller has decided the actor may); returns the role to sync,
    by the member's username as stored."""
    check_end_date(expires_on, utcnow().date()).enforce(InvalidInput)
    changing_access(session, source)
    check_access_may_change(source.name, source.archived_at).enforce(InvalidInput)
    user = get_user(session, username)
    check_may_hold(user, level).enforce(InvalidInput)
    grants = held_grants(session, source, user, to_change=True)
    grant = next((g for g in grants if g.id == grant_id), None)
    if grant is None:
        raise NotFound(f"That access of {user.username} to {source.name} has changed since: reload to see it.")
    others = [g for g in grants if g.id != grant_id]
    yours = actor.id is not None and actor.id == user.id
    check_no_overlap(held(others), wanted, user.username, source.name, yours=yours).enforce(InvalidInput)
    if grant.level == AccessLevel.ADMIN and level is not AccessLevel.ADMIN:
        keeps_an_admin(session, source, user, actor)
    placed = placed_on_bucket(source, others, [g.paths for g in others], level, wanted)
    check_fits(gatehouse, session, user, source.name, placed)
    before = describe(grant)
    _set(grant, actor, level, wanted, expires_on)
    session.add(grant)
    principal = user_principal(gatehouse.settings.env, user)
    mark_changed(session, [principal])
    summary = f"{actor.username} changed {user.username}'s access to {source.name} to {level.label.lower()}"
    summary += f" ({wanted})" + (f" until {day(expires_on)}" if expires_on else "")
    audit.record(
        session,
        actor.username,
        "access-changed",
        summary,
        source_id=source.id,
        subject=user.username,
        before=before,
        after=describe(grant),
    )
    if user.id != actor.id:
        notify(
            session,
            [user],
            NotificationKind.ACCESS_CHANGED,
            f"Your access to {source.name} changed",
            f"{actor.username} changed your access to {source.name}: {level.label.lower()} on "
            f"{wanted}" + (f" until {day(expires_on)}." if expires_on else "."),
        )
    return {user.username: principal.role_name}


def _set(grant: Grant, actor: User, level: AccessLevel, paths: Paths, expires_on: date | None) -> None:
    grant.level, grant.paths, grant.expires_on = level, paths, expires_on
    grant.granted_by_id, grant.updated_at = actor.id, utcnow()
    grant.expiry_warned_at = None  # a new end date is warned of anew
