"""Teams as the identity provider's groups say them (SCIM Groups, issue #27): made, renamed, their members set,
added or removed, deleted. The group named by GATEHOUSE_OIDC_PLATFORM_GROUP makes platform-team membership, as the
groups claim does at sign-in. (What a team may hold is for a later issue.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from core import audit
from core.access import audit_subject, changing_access, describe, mark_changed, mark_team_changed, user_principal
from core.actions.deciding import send_on, step
from core.actor import PROVIDER, acting
from core.adapters.db import serialise, taken_means
from core.adapters.models import AccessRequest, DataSource, Grant, RequestStatus, Team, TeamMember, User, UserStatus
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, NotFound, check_text
from core.notify import NotificationKind, notify
from core.queries import active_admins, get_user, team_members
from core.rules import check_platform_admin


class TeamNameTaken(InvalidInput):
    """Another team has this name (SCIM answers 409 uniqueness)."""


@dataclass(frozen=True)
class TeamShown:
    id: int
    name: str
    external_id: str | None
    members: tuple[tuple[int, str], ...]  # (member id, username)
    from_identity_provider: bool = False
    left: tuple[str, ...] = ()  # of the members, those who have left: listed by the identity provider, never live


def create_team(
    gatehouse: Gatehouse, actor: User, name: str, members: Iterable[int] = (), *, external_id: str | None = None
) -> TeamShown:
    name = _name(name)
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        if session.exec(select(Team.id).where(Team.name == name)).first() is not None:
            raise TeamNameTaken(f"There is already a team called {name}.")
        team = Team(name=name, external_id=_external_id(external_id), scim_managed=actor.username.startswith(PROVIDER))
        session.add(team)
        with taken_means(f"There is already a team called {name}."):
            session.flush()
        audit.record(session, actor.username, "team-created", f"{actor.username} created the team {name}")
        _set_members(gatehouse, session, actor, team, set(members))
        return _shown(session, team)


def replace_team(
    gatehouse: Gatehouse, actor: User, team_id: int, name: str, members: Iterable[int], external_id: str | None
) -> TeamShown:
    """The team as the identity provider has it now: its name and all its members."""
    name = _name(name)
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        team = _team(session, team_id)
        session.refresh(team, with_for_update=True)
        if team.name != name:
            if session.exec(select(Team.id).where(Team.name == name)).first() is not None:
                raise TeamNameTaken(f"There is already a team called {name}.")
            audit.record(session, actor.username, "team-renamed", f"{actor.username} renamed {team.name} to {name}")
            team.name = name
        team.external_id = _external_id(external_id)
        session.add(team)
        with taken_means(f"There is already a team called {name}."):
            session.flush()
        _set_members(gatehouse, session, actor, team, set(members))
        return _shown(session, team)


def delete_team(gatehouse: Gatehouse, actor: User, team_id: int) -> None:
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        team = _team(session, team_id)
        # Each source the team holds access to takes this turn first, in one order, as a grant to it does; then the
        # team: a grant to it made at this moment is there before it goes (and revoked with it), or sees it gone.
        for source_id in sorted(set(session.exec(select(Grant.source_id).where(Grant.team_id == team.id)))):
            serialise(session, "source", source_id)
        session.refresh(team, with_for_update=True)
        _end_holdings(gatehouse, session, actor, team)
        _set_members(gatehouse, session, actor, team, set())
        session.delete(team)
        audit.record(session, actor.username, "team-deleted", f"{actor.username} deleted the team {team.name}")


def _end_holdings(gatehouse: Gatehouse, session: Session, actor: User, team: Team) -> None:
    """A team deleted holds nothing: its grants are revoked (each on record, its members' access marked changed), its
    open requests refused, and its decided ones kept without it (the audit trail names it)."""
    administered = _administered(session, team)
    grants = session.exec(select(Grant).where(Grant.team_id == team.id).order_by(col(Grant.source_id))).all()
    if grants:
        mark_team_changed(session, gatehouse.settings.env, [team.id or 0])
        notify(
            session,
            team_members(session, [team.id or 0]),
            NotificationKind.ACCESS_ENDED,
            f"The {team.name} team was deleted",
            f"The {team.name} team was deleted: the access you had through it has ended.",
        )
    for grant in grants:
        audit.record(
            session,
            actor.username,
            "access-revoked",
            f"The {team.name} team was deleted: its {grant.level.label.lower()} access ({grant.paths}) is revoked",
            source_id=grant.source_id,
            subject=audit_subject(team),
            before=describe(grant),
        )
        session.delete(grant)
    for request in session.exec(select(AccessRequest).where(AccessRequest.team_id == team.id)).all():
        if RequestStatus(request.status).is_open:
            step(session, request, RequestStatus.REFUSED, actor)
            request.decision_reason = f"The {team.name} team was deleted."
        request.team_id = None
        session.add(request)
    session.flush()
    member = session.exec(
        select(User).join(TeamMember, col(TeamMember.user_id) == User.id).where(TeamMember.team_id == team.id)
    ).first()
    if member is not None:
        _orphaned(session, actor, administered, member, f"was in the {team.name} team, which was deleted")


def _administered(session: Session, team: Team) -> list[DataSource]:
    """The live sources this team administers, each taking its turn now (as every change of its admins does), in one
    order: what its members leaving it, or its deletion, could orphan."""
    sources = session.exec(
        select(DataSource)
        .join(Grant, col(Grant.source_id) == DataSource.id)
        .where(Grant.team_id == team.id, Grant.level == AccessLevel.ADMIN, col(DataSource.archived_at).is_(None))
        .distinct()
        .order_by(col(DataSource.id))
    ).all()
    for source in sources:
        changing_access(session, source)
    return list(sources)


def _orphaned(session: Session, actor: User, sources: list[DataSource], gone: User, why: str) -> None:
    """Of these sources, those no one is left to administer are orphaned: the requests that waited for their admins
    go where a request made now would (`deciding.send_on`), as when their last admin leaves."""
    admins = active_admins(session, [s.id or 0 for s in sources])
    orphaned = [s.id for s in sources if not admins.get(s.id or 0)]
    if not orphaned:
        return
    waiting = session.exec(
        select(AccessRequest).where(
            col(AccessRequest.source_id).in_(orphaned), AccessRequest.status == RequestStatus.PENDING_ADMIN
        )
    ).all()
    for request in waiting:
        requester = session.get(User, request.requester_id)
        manager = session.get(User, requester.line_manager_id) if requester and requester.line_manager_id else None
        send_on(session, actor, request, gone, manager, why)


def change_members(
    gatehouse: Gatehouse, actor: User, name: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> TeamShown:
    """The platform team's own change of a team (`gatehouse teams add-member`, `remove-member`), by usernames."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        found = session.exec(select(Team).where(Team.name == name.strip())).first()
        if found is None:
            raise NotFound(f"There is no team called {name.strip()[:120]}.")
        now = set(session.exec(select(TeamMember.user_id).where(TeamMember.team_id == found.id)))
        added = {u.id or 0 for u in (get_user(session, n) for n in add)}
        removed = {u.id or 0 for u in (get_user(session, n) for n in remove)}
        _set_members(gatehouse, session, actor, found, (now | added) - removed)
        return _shown(session, found)


def member_ids(gatehouse: Gatehouse, usernames: Iterable[str]) -> list[int]:
    with gatehouse.session() as session:
        return [get_user(session, n).id or 0 for n in usernames]


def team(gatehouse: Gatehouse, team_id: int) -> TeamShown:
    with gatehouse.session() as session:
        return _shown(session, _team(session, team_id))


def teams(gatehouse: Gatehouse, named: str | None = None) -> list[TeamShown]:
    """Every team, or the one `named` (case-insensitively, as SCIM's displayName filter asks)."""
    query = select(Team).order_by(col(Team.id))
    if named is not None:
        query = query.where(func.lower(Team.name) == named.lower())
    with gatehouse.session() as session:
        return [_shown(session, t) for t in session.exec(query)]


def _set_members(gatehouse: Gatehouse, session: Session, actor: User, team: Team, wanted: set[int]) -> None:
    """The team's members made `wanted`. A leaver is taken out of their teams as they leave (`leave_teams`), and the
    platform team cannot add one; a group the identity provider sends is kept as it sends it (it is the record of
    its group), a leaver it still lists shown as having left (`TeamShown.left`). A team's live members, who may hold
    what it holds (issue #28), are its active ones only."""
    found = dict(
        session.exec(
            select(User.id, User.status).where(col(User.id).in_(wanted), col(User.scim_deleted_at).is_(None))
        ).all()
    )
    if missing := wanted - set(found):
        raise InvalidInput(f"No platform member has the id {min(missing)}: provision them first.")
    now = set(session.exec(select(TeamMember.user_id).where(TeamMember.team_id == team.id)))
    leavers = {i for i in wanted - now if found[i] == UserStatus.LEFT}
    if leavers and not actor.username.startswith(PROVIDER):  # the platform team's own add is refused
        leaver = session.get(User, min(leavers))
        raise InvalidInput(f"{leaver.username if leaver else 'They'} has left, and a leaver is in no team.")
    added, removed = wanted - now, now - wanted
    administered = _administered(session, team) if removed else []
    if removed:
        session.exec(  # type: ignore[call-overload]
            delete(TeamMember).where(col(TeamMember.team_id) == team.id, col(TeamMember.user_id).in_(removed))
        )
        session.flush()
        gone = session.get(User, min(removed))
        if gone is not None:
            _orphaned(session, actor, administered, gone, f"is no longer in the {team.name} team")
    for user_id in sorted(added):
        session.add(TeamMember(team_id=team.id or 0, user_id=user_id))
    if not (added or removed):
        return
    names = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(added | removed)))}
    # What the team holds is theirs from now, or no longer (held otherwise, it stays: their roles are made again)
    mark_changed(session, [user_principal(gatehouse.settings.env, names[i]) for i in sorted(added | removed)])
    audit.record(
        session,
        actor.username,
        "team-members-changed",
        f"{actor.username} changed who is in {team.name}",
        added=sorted(names[i].username for i in added),
        removed=sorted(names[i].username for i in removed),
    )
    if team.name == gatehouse.settings.oidc_platform_group:
        joined = [names[i] for i in added if i not in leavers]  # a leaver the group lists is not made platform team
        _platform_team(session, actor, joined, [names[i] for i in removed])


def leave_teams(gatehouse: Gatehouse, session: Session, actor: User, leaver: User) -> list[str]:
    """A leaver is taken out of every team they were in (in the caller's transaction, their leaving); the names."""
    left = session.exec(
        select(Team).join(TeamMember, col(TeamMember.team_id) == Team.id).where(TeamMember.user_id == leaver.id)
    ).all()
    for team in left:
        now = set(session.exec(select(TeamMember.user_id).where(TeamMember.team_id == team.id)))
        _set_members(gatehouse, session, actor, team, now - {leaver.id or 0})
    return sorted(t.name for t in left)


def _platform_team(session: Session, actor: User, joined: list[User], left: list[User]) -> None:
    """The identity provider's platform group is the platform team (external members are never in it)."""
    for user, admin in [*((u, True) for u in joined if not u.is_external), *((u, False) for u in left)]:
        if user.is_platform_admin != admin:
            user.is_platform_admin = admin
            session.add(user)
            audit.record(
                session,
                actor.username,
                "platform-team-changed",
                f"{user.username} {'joined' if admin else 'left'} the platform team (the identity provider's group)",
                subject=user.username,
            )


def _team(session: Session, team_id: int) -> Team:
    found = session.get(Team, team_id, populate_existing=True)
    if found is None:
        raise NotFound("There is no such team.")
    return found


def _shown(session: Session, team: Team) -> TeamShown:
    session.flush()
    members = session.exec(
        select(User.id, User.username, User.status)
        .join(TeamMember, col(TeamMember.user_id) == User.id)
        .where(TeamMember.team_id == team.id)
        .order_by(User.username)
    ).all()
    return TeamShown(
        team.id or 0,
        team.name,
        team.external_id,
        tuple((i or 0, n) for i, n, _ in members),
        team.scim_managed,
        tuple(n for _, n, status in members if status == UserStatus.LEFT),
    )


def _external_id(external_id: str | None) -> str | None:
    if external_id is None:
        return None
    return check_text(external_id, "externalId", 255, multiline=False) or None


def _name(name: str) -> str:
    name = check_text(name, "team name", 120, multiline=False)
    if not name:
        raise InvalidInput("A team needs a name (displayName).")
    return name
