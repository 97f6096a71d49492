"""A grant changed in place (its level, paths or end date; never coming to overlap the holder's others) or revoked
(whole, or some paths as held), recorded in the caller's transaction with its audit text, the holder told and their
role (a team's policies) marked: for Admin → Edit and Revoke, access reviews and their due dates (`record_change`,
`record_revoke`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session

from core import audit
from core.access.recording import (
    as_recorded,
    audit_subject,
    changing_access,
    check_classified,
    describe,
    keeps_an_admin,
    mark_holder,
    placed_on_bucket,
)
from core.access.roles import check_fits, check_team_fits
from core.adapters.models import DataSource, Grant, Team, User, utcnow
from core.domain import AccessLevel, InvalidInput, NotFound, day
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.queries import admins_but, get_user, held, held_grants, holder_name, team_members
from core.rules import check_access_may_change, check_end_date, check_may_hold, check_no_overlap

if TYPE_CHECKING:
    from core.context import Gatehouse


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
    check_classified(source, gatehouse.settings.classification_rules, wanted, expires_on)
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


def record_revoke(
    gatehouse: Gatehouse,
    session: Session,
    actor: User,
    source: DataSource,
    user: User | Team,
    taken: Paths,
    *,
    announce: bool = True,
) -> dict[str, str]:
    """Revoke in the caller's transaction (the caller has decided the actor may): the paths `taken` as held, or all
    of the holder's (a member's own, or a team's) access to the source (none taken). Returns the role to sync, by the
    member's username (a team's: its name).

    The holder is told (a team: its active members), or, when they gave it up themselves, the source's other admins
    (`announce` False: the caller's own message says it)."""
    changing_access(session, source)
    grants = held_grants(session, source, user, to_change=True)
    name, starts = holder_name(user), holder_name(user, starts=True)
    yours = isinstance(user, User) and actor.id == user.id  # the reader gives up their own access: spoken to
    if not grants:
        raise InvalidInput(f"{'You have' if yours else f'{starts} has'} no access to {source.name}.")
    holding = Paths(p for g in grants for p in g.paths)
    for path in taken:
        if path not in holding:
            they = "you" if yours else "it" if isinstance(user, Team) else "they"
            if holding and all(g.paths for g in grants):
                held_where = f"the paths {they} hold are {holding}"
            else:
                has = "has" if isinstance(user, Team) else "have"
                held_where = f"{they} {has} access to the whole of it: revoke it all, or change it to paths under Edit"
            who = "You hold" if yours else f"{starts} holds"
            raise InvalidInput(f"{who} no access on {path} of {source.name}: {held_where}.")
    before = [describe(g) for g in grants]
    for grant in grants:
        keeps = Paths(p for p in grant.paths if p not in taken) if taken else Paths.WHOLE
        if taken and keeps == grant.paths:
            continue  # none of its paths is taken
        if not keeps:
            if grant.level == AccessLevel.ADMIN:
                keeps_an_admin(session, source, user, actor)
            session.delete(grant)
        else:
            grant.paths, grant.updated_at = keeps, utcnow()
            session.add(grant)
    roles = mark_holder(gatehouse, session, user)
    who = "their own" if yours else f"{name}'s"
    what = f"access to {taken} of {source.name}" if taken else f"access to {source.name}"
    audit.record(
        session,
        actor.username,
        "access-revoked",
        f"{actor.username} revoked {who} {what}",
        source_id=source.id,
        subject=audit_subject(user),
        before=as_recorded(before),
    )
    if announce:
        _announce(session, actor, source, user, taken)
    return roles


def _announce(session: Session, actor: User, source: DataSource, user: User | Team, taken: Paths) -> None:
    what = f"access to {taken} of {source.name}" if taken else f"access to {source.name}"
    if isinstance(user, Team):
        notify(
            session,
            [m for m in team_members(session, [user.id or 0]) if m.id != actor.id],
            NotificationKind.ACCESS_ENDED,
            f"The {user.name} team's access to {source.name} was revoked",
            f"{actor.username} revoked the {user.name} team's {what}: you no longer have it through the team.",
        )
        return
    if actor.id is None or actor.id != user.id:
        notify(
            session,
            [user],
            NotificationKind.ACCESS_ENDED,
            f"Your access to {source.name} was revoked",
            f"{actor.username} revoked your {what}.",
        )
        return
    notify(
        session,
        admins_but(session, source, user),
        NotificationKind.ACCESS_CHANGED,
        f"{user.username} gave up their access to {source.name}",
        f"{user.username} gave up their {what}: it is revoked.",
    )
