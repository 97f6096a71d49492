"""Removing a member's (or a team's) access to a source, whole or one path at a time: an admin of it, the platform
team, or the member themselves (a team's: an admin of it or the platform team)."""

from __future__ import annotations

from sqlmodel import Session

from core import audit
from core.access import (
    GrantOutcome,
    as_recorded,
    audit_subject,
    changing_access,
    check_manages,
    describe,
    keeps_an_admin,
    mark_holder,
)
from core.actor import acting
from core.adapters.models import DataSource, Team, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput
from core.effects import applied
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.queries import admins_but, get_source, get_team, get_user, held_grants, holder_name, team_members


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
