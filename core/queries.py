"""The SQL that mirrors a rule of core/rules/, written once beside the tables and used by every read and use case:
a live grant, a source someone may see, an open request, a source's active admins, finding a member or a source by
the name someone typed."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, or_, union, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, exists, select

from core.actor import acting
from core.adapters.models import AccessRequest, AuditEvent, DataSource, Grant, Team, TeamMember, User, utcnow
from core.domain import (
    AccessLevel,
    NotAllowed,
    NotFound,
    RequestStatus,
    UserStatus,
    is_clean_name,
    shown,
    validate_username,
)
from core.rules import OPEN, Decision, Held, Person, SourceAccess, can_see_source, check_may_decide, is_active


def live_grant(today: date) -> list[ColumnElement[bool]]:
    """`rules.is_live` as SQL: for a query over Grant that joins DataSource, and User where the holder is a person
    (an app's grant has no user and is live while its source is)."""
    return [
        col(DataSource.archived_at).is_(None),
        or_(col(Grant.expires_on).is_(None), col(Grant.expires_on) >= today),
        or_(col(Grant.user_id).is_(None), col(User.status) == UserStatus.ACTIVE),
    ]


def left_marked_by() -> Any:
    """Who marked the holder (User, in the enclosing query) as having left: the actor of the audit trail's latest
    user-left event about them, for `rules.ended_by_leaving` (None: no such event, or the holder is active)."""
    return (
        select(AuditEvent.actor)
        .where(AuditEvent.action == "user-left", AuditEvent.subject == User.username, User.status == UserStatus.LEFT)
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )


def open_request() -> ColumnElement[bool]:
    """`rules.OPEN` as SQL: the request still waits for someone."""
    return col(AccessRequest.status).in_(OPEN)


def active_admin(grant: Any = Grant, holder: Any = User) -> ColumnElement[bool]:
    """`rules`' admin who decides through a grant of their own, as SQL: an admin grant held by a member who has not
    left (the grant and its holder as the query names them; the query joins the two). Through a team: `admin_pairs`."""
    return and_(grant.level == AccessLevel.ADMIN, holder.status == UserStatus.ACTIVE)


def team_admin(grant: Any, member: Any) -> ColumnElement[bool]:
    """`rules.admin_through_team` as SQL: an admin grant of a team, reaching one of its members who has not left and
    is not an external user (the query joins the grant's team to the member through TeamMember)."""
    return and_(grant.level == AccessLevel.ADMIN, member.status == UserStatus.ACTIVE, member.is_external.is_(False))


def teams_of(user_id: Any) -> Any:
    """The ids of the teams a member is in, as a subquery (their teams' grants are theirs while they are active)."""
    return select(TeamMember.team_id).where(TeamMember.user_id == user_id)


def holds(grant: Any, holder: User | Team) -> ColumnElement[bool]:
    """The grant is held by this member (their own, not their teams') or this team."""
    if isinstance(holder, Team):
        return cast(ColumnElement[bool], grant.team_id == holder.id)
    return cast(ColumnElement[bool], grant.user_id == holder.id)


def admin_pairs(without: User | Team | None = None, source_ids: list[int] | None = None) -> Any:
    """(source_id, user_id) of every active admin of every source (or of `source_ids`: filtered in each half, where
    their index is, not over the union of all): through an admin grant of their own, or of a team of theirs
    (`rules.admin_through_team`); a member may appear twice. `without`: that holder's admin grants do not count (who
    would be left if they went)."""
    own, holder = aliased(Grant), aliased(User)
    theirs, member, link = aliased(Grant), aliased(User), aliased(TeamMember)
    direct = (
        select(own.source_id, holder.id.label("user_id"))  # type: ignore[union-attr]
        .join(holder, col(holder.id) == own.user_id)
        # `active_admin`, its status read through a function: no index on status to start from (SQLite without
        # statistics would walk every active member and probe the grants of each, 80 ms at 10,000 members)
        .where(own.level == AccessLevel.ADMIN, func.lower(holder.status) == UserStatus.ACTIVE.value)
    )
    through = (
        select(theirs.source_id, member.id.label("user_id"))  # type: ignore[union-attr]
        .join(link, col(link.team_id) == theirs.team_id)
        .join(member, col(member.id) == link.user_id)
        .where(team_admin(theirs, member))
    )
    if source_ids is not None:
        direct = direct.where(col(own.source_id).in_(source_ids))
        through = through.where(col(theirs.source_id).in_(source_ids))
    if isinstance(without, Team):
        through = through.where(theirs.team_id != without.id)
    elif without is not None:
        direct = direct.where(own.user_id != without.id)
    return union_all(direct, through).subquery("admins")


def administers(user_id: Any, source_id: Any = DataSource.id) -> Any:
    """An EXISTS that is true while the user is an active admin of the source (a column or a value each), through a
    grant of their own or of a team of theirs. Its own aliases, so that it correlates with the enclosing query's
    source and user and nothing else."""
    grant, holder, link = aliased(Grant), aliased(User), aliased(TeamMember)
    own = exists().where(  # two EXISTS, each on its index (source and user; source and team), never one OR
        grant.source_id == source_id, grant.user_id == user_id, holder.id == grant.user_id, active_admin(grant, holder)
    )
    theirs, member = aliased(Grant), aliased(User)
    through = exists().where(
        theirs.source_id == source_id,
        link.user_id == user_id,
        theirs.team_id == link.team_id,
        member.id == link.user_id,
        team_admin(theirs, member),
    )
    return or_(own, through)


def administered_by(user_id: int) -> Any:
    """The ids of the sources the user is an active admin of (theirs or a team's), as a subquery:
    `col(X.source_id).in_(...)` starts from the user's own grants and teams (their indexes), where `administers`
    would be asked once for every row of X."""
    grant, holder, link = aliased(Grant), aliased(User), aliased(TeamMember)  # never correlated with the caller's
    own = (
        select(grant.source_id)
        .join(holder, col(holder.id) == grant.user_id)
        .where(grant.user_id == user_id, active_admin(grant, holder))
    )
    through = (
        select(grant.source_id)
        .join(link, col(link.team_id) == grant.team_id)
        .join(holder, col(holder.id) == link.user_id)
        .where(link.user_id == user_id, team_admin(grant, holder))
    )
    return union(own, through)


def is_active_admin(session: Session, user: Person, source: DataSource) -> bool:
    """Decided on what the database says now, not on the status of the row passed in (which may be stale)."""
    if user.id is None or source.id is None:
        return False
    return bool(session.exec(select(administers(user.id, source.id))).one())


def visible_to(actor: Person) -> ColumnElement[bool]:
    """`rules.can_see_source` as SQL, for a query over DataSource."""
    if actor.is_platform_admin:
        return col(DataSource.id).is_not(None)
    return or_(col(DataSource.hidden).is_(False), administers(actor.id))


def active_admins(
    session: Session, source_ids: list[int], *, without: User | Team | None = None
) -> dict[int, list[str]]:
    """One query for the active admins of many sources, by username, each once (never one query a row): their own
    admins and their admin teams' members. `without`: as if that holder's admin grants were gone."""
    if not source_ids:
        return {}
    pairs = admin_pairs(without, source_ids)
    rows = session.exec(
        select(pairs.c.source_id, User.username)
        .join(User, col(User.id) == pairs.c.user_id)
        .where(pairs.c.source_id.in_(source_ids))
        .distinct()
        .order_by(User.username)
    ).all()
    admins: dict[int, list[str]] = {}
    for source_id, username in rows:
        admins.setdefault(source_id, []).append(username)
    return admins


def platform_team(session: Session) -> list[User]:
    return list(session.exec(select(User).where(User.is_platform_admin, User.status == UserStatus.ACTIVE)))


def admins_of(session: Session, source: DataSource, *, without: User | Team | None = None) -> list[str]:
    """The usernames of one source's active admins, in order (`without`: as if that holder's admin grants were gone)."""
    return active_admins(session, [source.id or 0], without=without).get(source.id or 0, [])


def admins_but(session: Session, source: DataSource, someone: User) -> list[User]:
    """One source's active admins who are not `someone` (the person acting, or the person a change concerns): those to
    tell of it."""
    return [u for u in users_named(session, admins_of(session, source)) if u.id != someone.id]


def users_named(session: Session, usernames: list[str]) -> list[User]:
    return list(session.exec(select(User).where(col(User.username).in_(usernames))))


def get_user(session: Session, username: str) -> User:
    """The member a typed name means, by the one rule for usernames (domain.validate_username: plain ASCII capitals
    folded, anything else a normalisation would change refused), so everything after uses the name as stored."""
    user = session.exec(select(User).where(User.username == validate_username(username))).first()
    if user is None:
        raise NotFound(f"There is no platform member called {shown(username, 40)}.")
    return user


def get_source(session: Session, actor: Person, name: str) -> DataSource:
    """The source a typed name means, if the actor may see it (a hidden one is not there for anyone else)."""
    source = None
    if is_clean_name(name, 63):
        source = session.exec(select(DataSource).where(DataSource.name == name.strip())).first()
    if source is None or not can_see_source(
        actor, hidden=source.hidden, admin_of_it=source.hidden and is_active_admin(session, actor, source)
    ):
        raise NotFound(f"There is no data source called {shown(name, 63)}.")
    return source


def source_access(session: Session, actor: User, source_name: str) -> SourceAccess:
    """The actor's live grants on a live source they may see, their own and their teams'; refuses with one sentence
    otherwise."""
    actor = acting(session, actor)
    source = get_source(session, actor, source_name)
    if source.archived_at is not None:
        raise NotAllowed(f"{source.name} is archived: its data can no longer be used through Gatehouse.")
    grants = session.exec(
        select(Grant.level, Grant.paths)
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .outerjoin(User, col(User.id) == Grant.user_id)
        .where(Grant.source_id == source.id, reaches(actor), *live_grant(utcnow().date()))
    ).all()
    if not grants or not is_active(actor):
        raise NotAllowed(f"You have no access to {source.name}: ask for it on the Request access page.")
    return SourceAccess(source, tuple(Held(level, paths) for level, paths in grants))


def reaches(user: User) -> ColumnElement[bool]:
    """The grant (in the enclosing query) is the member's: their own, or one of a team of theirs (live only while
    they are active: the caller checks)."""
    own, theirs = aliased(Grant), aliased(Grant)  # one select on each index, never one OR over every grant
    return col(Grant.id).in_(
        union(
            select(own.id).where(own.user_id == user.id),
            select(theirs.id).where(col(theirs.team_id).in_(teams_of(user.id))),
        )
    )


def has_active_admin(source_id: Any = DataSource.id) -> Any:
    """True while the source (a column or a value) has an active admin: a member's own admin grant, or a team's with
    an active, non-external member (`rules.admin_through_team`); not orphaned."""
    grant, holder = aliased(Grant), aliased(User)
    own = exists().where(grant.source_id == source_id, holder.id == grant.user_id, active_admin(grant, holder))
    theirs, link, member = aliased(Grant), aliased(TeamMember), aliased(User)
    staffed = (  # the teams with a member who may administer through them: a few hundred ids, not every member
        select(link.team_id)
        .join(member, col(member.id) == link.user_id)
        .where(member.status == UserStatus.ACTIVE, col(member.is_external).is_(False))
    )
    through = exists().where(
        theirs.source_id == source_id, theirs.level == AccessLevel.ADMIN, col(theirs.team_id).in_(staffed)
    )
    return or_(own, through)


def sources_held(user: User) -> Any:
    """The ids of the sources the member holds a grant on, theirs or a team's (any end date), as a subquery: one
    select on each index, where `reaches` in one would read every grant."""
    own, theirs = aliased(Grant), aliased(Grant)
    return union(
        select(own.source_id).where(own.user_id == user.id),
        select(theirs.source_id).where(col(theirs.team_id).in_(teams_of(user.id))),
    )


def held_grants(session: Session, source: DataSource, holder: User | Team, *, to_change: bool = False) -> list[Grant]:
    """Every grant one holder (a member, their own only; or a team) holds on one source (any end date): several, of
    different levels on separate paths. `to_change`: locked until the transaction ends (PostgreSQL), so that
    `gatehouse expire`, which skips locked grants, never deletes one a change is about to write; one it is deleting
    is waited for, and then is not there."""
    query = select(Grant).where(Grant.source_id == source.id, holds(Grant, holder)).order_by(col(Grant.id))
    return list(session.exec(query.with_for_update() if to_change else query).all())


def through_teams(session: Session, source: DataSource, user: User) -> list[Held]:
    """What a member holds on a source through their teams (any end date)."""
    rows = session.exec(
        select(Grant.level, Grant.paths).where(Grant.source_id == source.id, col(Grant.team_id).in_(teams_of(user.id)))
    )
    return [Held(level, paths) for level, paths in rows]


def holder_name(holder: User | Team, *, starts: bool = False) -> str:
    """How a holder is named in a sentence: a member by their username, a team as "the prisons team" (`starts`: at
    the start of one, "The prisons team")."""
    if isinstance(holder, Team):
        return f"{'The' if starts else 'the'} {holder.name} team"
    return holder.username


def get_team(session: Session, name: str) -> Team:
    """The team a typed name means (as stored, or in other capitals)."""
    typed = name.strip() if isinstance(name, str) else ""
    team = session.exec(select(Team).where(Team.name == typed)).first() if typed else None
    if team is None and typed:
        team = session.exec(select(Team).where(func.lower(Team.name) == typed.lower())).first()
    if team is None:
        member = (
            is_clean_name(typed, 39) and session.exec(select(User.id).where(User.username == typed.lower())).first()
        )
        also = f" ({shown(name, 39)} is a platform member, not a team)" if member else ""
        raise NotFound(f"There is no team called {shown(name, 120)}{also}.")
    return team


def team_members(session: Session, team_ids: list[int]) -> list[User]:
    """The active members of these teams, each once, by username: who a team's grants reach, and who is told."""
    if not team_ids:
        return []
    return list(
        session.exec(
            select(User)
            .where(
                col(User.id).in_(select(TeamMember.user_id).where(col(TeamMember.team_id).in_(team_ids))),
                User.status == UserStatus.ACTIVE,
            )
            .order_by(User.username)
        )
    )


def held(grants: list[Grant]) -> list[Held]:
    return [Held(g.level, g.paths) for g in grants]


def load_request(session: Session, request_id: int) -> AccessRequest:
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise NotFound(f"There is no request number {request_id}.")
    return request


def may_decide(session: Session, actor: User, request: AccessRequest) -> Decision:
    """`rules.check_may_decide`, with whether the actor is an active admin of the request's source, and in the team
    the request is made for, read now."""
    source = session.get(DataSource, request.source_id)
    admin = source is not None and is_active_admin(session, actor, source)
    theirs = in_team(session, actor, request.team_id)
    iao = owner_for(session, source, request) if source is not None else None
    return check_may_decide(actor, request, admin_of_source=admin, of_their_team=theirs, iao=iao)


def deciders(session: Session, request: AccessRequest) -> list[User]:
    """Who decides an open request at the step it stands at now, each as `may_decide` says: the source's active
    admins, the requester's line manager, the platform team, or the information asset owner (the platform team in
    their place). None for a request waiting for an answer, or decided."""
    source = session.get(DataSource, request.source_id)
    status = RequestStatus(request.status)
    candidates: list[User] = []
    if status is RequestStatus.PENDING_ADMIN and source is not None:
        candidates = users_named(session, admins_of(session, source))
    elif status is RequestStatus.PENDING_LINE_MANAGER and request.line_manager_id is not None:
        candidates = [u for u in [session.get(User, request.line_manager_id)] if u is not None]
    elif status in (RequestStatus.PENDING_PLATFORM, RequestStatus.PENDING_IAO):
        iao = session.get(User, source.iao_id) if source is not None and source.iao_id is not None else None
        candidates = ([iao] if iao is not None and status is RequestStatus.PENDING_IAO else []) + platform_team(session)
    return [u for u in candidates if may_decide(session, u, request).allowed]


def owner_for(session: Session, source: DataSource, request: AccessRequest) -> User | None:
    """The source's information asset owner, as the owner's step of `request` reads them: none when they are in the
    team the request is made for (nobody decides their team's request: the platform team takes the step)."""
    iao = session.get(User, source.iao_id) if source.iao_id is not None else None
    return None if iao is None or in_team(session, iao, request.team_id) else iao


def in_team(session: Session, user: Person, team_id: int | None) -> bool:
    """Is the member in this team (None: no team)?"""
    if team_id is None or user.id is None:
        return False
    found = select(TeamMember.user_id).where(TeamMember.team_id == team_id, TeamMember.user_id == user.id)
    return session.exec(found).first() is not None
