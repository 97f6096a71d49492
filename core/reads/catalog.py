"""What people see of sources and access: My data (the sources an analyst can use, whom the others depend on), a
source's access list for its admins, the pickers, and everyone's access for the platform team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from core.actor import acting
from core.adapters.models import App, DataSource, Grant, RoleSync, SyncState, Team, User, UserStatus, utcnow
from core.config import Settings
from core.domain import AccessLevel, Classification, SourceKind, console_url
from core.paths import Paths
from core.queries import (
    active_admins,
    administered_by,
    get_source,
    get_team,
    get_user,
    is_active_admin,
    left_marked_by,
    live_grant,
    reaches,
    sources_held,
    visible_to,
)
from core.reads.page import Page, fetch
from core.reads.sources import STANDARD, Holding, holdings
from core.reads.teams import reach
from core.rules import (
    EndedByLeaving,
    check_manages_source,
    check_platform_admin,
    ended_by_leaving,
    is_active,
    rules_in_words,
)


@dataclass(frozen=True)
class UsableSource:
    name: str
    kind: SourceKind
    level: AccessLevel
    paths: Paths
    expires_on: date | None
    applied: bool
    apply_error: str | None
    console_urls: tuple[str, ...]  # Open on AWS: the console at each granted path (a role lists nothing above them)
    through: str | None = None  # held through this team ("through the prisons team"); None: their own
    holds: Holding = STANDARD  # personal data? and its information asset owner (issue #29)


@dataclass(frozen=True)
class OtherSource:
    name: str
    kind: SourceKind
    admins: tuple[str, ...]  # active admins' usernames; empty = orphaned
    holds: Holding = STANDARD  # personal data? and its information asset owner (issue #29)

    @property
    def orphaned(self) -> bool:
        return not self.admins


def usable_sources(session: Session, user: User) -> list[UsableSource]:
    """Every live source the user holds a grant on (for pickers; the My data table pages with `usable_page`)."""
    return usable_page(session, user, limit=None).items


def usable_page(
    session: Session, user: User, search: str = "", offset: int = 0, limit: int | None = 25
) -> Page[UsableSource]:
    """The live sources the user holds a grant on, their own or through a team (each such grant a row of its own,
    saying which team), searched by name and paged in the database."""
    if not is_active(user):
        return Page([], 0, offset, limit or 0)
    query = (
        select(Grant, DataSource, Team.name)
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .outerjoin(User, col(User.id) == Grant.user_id)
        .outerjoin(Team, col(Team.id) == Grant.team_id)
        .where(reaches(user), *live_grant(utcnow().date()))
    )
    if search.strip():
        query = query.where(col(DataSource.name).contains(search.strip().lower()))
    order = (DataSource.kind, DataSource.name, col(Grant.team_id).is_not(None), Team.name, Grant.id)
    rows, total = fetch(session, query, order, offset, limit)
    sync = session.exec(select(RoleSync).where(RoleSync.user_id == user.id)).first()
    team_syncs = _team_syncs(session, [g.team_id for g, _, _ in rows if g.team_id is not None])
    held = holdings(session, {s.id: s for _, s, _ in rows}.values())
    items = [
        UsableSource(
            name=source.name,
            kind=SourceKind(source.kind),
            level=grant.level,
            paths=grant.paths,
            expires_on=grant.expires_on,
            applied=_through_applied(sync, team_syncs.get(grant.team_id), grant)
            if grant.team_id is not None
            else _applied(sync, grant),
            apply_error=_failed(sync) or _failed(team_syncs.get(grant.team_id or 0)),
            console_urls=tuple(console_url(source.name, source.region, path) for path in grant.paths)
            or (console_url(source.name, source.region),),
            through=team,
            holds=held[source.id or 0],
        )
        for grant, source, team in rows
    ]
    return Page(items=items, total=total, offset=offset, limit=limit or total)


def other_sources(
    session: Session, user: User, search: str = "", offset: int = 0, limit: int = 50
) -> Page[OtherSource]:
    """Sources the user has no grant on (theirs or their teams'), searched and paged in the database, with their
    active admins."""
    mine = sources_held(user)
    query = select(DataSource).where(
        col(DataSource.archived_at).is_(None), col(DataSource.id).not_in(mine), visible_to(user)
    )
    if search.strip():
        query = query.where(col(DataSource.name).contains(search.strip().lower()))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    sources = session.exec(query.order_by(DataSource.name).offset(offset).limit(limit)).all()
    admins = active_admins(session, [s.id for s in sources if s.id is not None])
    held = holdings(session, sources)
    items = [
        OtherSource(s.name, SourceKind(s.kind), tuple(admins.get(s.id or 0, ())), held[s.id or 0]) for s in sources
    ]
    return Page(items=items, total=total, offset=offset, limit=limit)


@dataclass(frozen=True)
class AccessEntry:
    grant_id: int
    principal: str  # a username, "app:<name>", or "team:<name>"
    level: AccessLevel
    paths: Paths
    expires_on: date | None
    applied: bool  # AWS has what the database says: the grant, or for a leaver's, its revocation
    apply_error: str | None
    ended: EndedByLeaving | None = None  # the holder has left: revoked, kept on record
    team: str | None = None  # a team's grant: the team's name (principal "team:<name>")
    members: tuple[str, ...] = ()  # a team's grant: the active members it reaches, by username

    @property
    def member_count(self) -> int:
        return len(self.members)


def administered_source_names(session: Session, actor: User, search: str = "", limit: int | None = None) -> Page[str]:
    """The names of the live sources this user is an active admin of (theirs or through a team), in order; searched
    and cut to `limit` in the database (names, not rows: a page keeps them between reruns, and a name is all it needs
    to go on)."""
    if not is_active(actor):
        return Page([], 0, 0, limit or 0)
    query = select(DataSource.name).where(
        col(DataSource.id).in_(administered_by(actor.id or 0)), col(DataSource.archived_at).is_(None)
    )
    if search.strip():
        query = query.where(col(DataSource.name).contains(search.strip().lower()))
    items, total = fetch(session, query, (DataSource.name,), 0, limit)
    return Page(items, total, 0, limit or total)


def access_list(
    session: Session,
    actor: User,
    source: DataSource | str,
    search: str = "",
    offset: int = 0,
    limit: int | None = None,
) -> Page[AccessEntry]:
    """Who has access to a source (a row, or its name), at which level and on which paths: for its admins and the
    platform team. Admins first, then by name; searched by username, app or team name and paged in the database. A
    team's grant is one entry, with the active members it reaches."""
    if isinstance(source, str):
        source = get_source(session, actor, source)
    check_manages_source(actor, source.name, admin_of_it=is_active_admin(session, actor, source)).enforce()
    principal = func.coalesce(User.username, App.name, func.lower(Team.name))
    query = (
        select(Grant, User, App, RoleSync, left_marked_by(), Team.name)
        .outerjoin(User, col(User.id) == Grant.user_id)
        .outerjoin(App, col(App.id) == Grant.app_id)
        .outerjoin(Team, col(Team.id) == Grant.team_id)
        .outerjoin(
            RoleSync,
            or_(
                and_(col(RoleSync.user_id) == Grant.user_id, col(Grant.user_id).is_not(None)),
                and_(col(RoleSync.app_id) == Grant.app_id, col(Grant.app_id).is_not(None)),
                and_(col(RoleSync.team_id) == Grant.team_id, col(Grant.team_id).is_not(None)),
            ),
        )
        .where(Grant.source_id == source.id)
    )
    if search.strip():
        query = query.where(principal.contains(search.strip().lower()))
    rank = case((Grant.level == AccessLevel.ADMIN, 0), (Grant.level == AccessLevel.READ_WRITE, 1), else_=2)
    rows, total = fetch(session, query, (rank, principal, Grant.id), offset, limit)
    reaches_of = reach(session, [g.team_id for g, *_ in rows if g.team_id is not None])
    entries = [
        AccessEntry(
            grant_id=grant.id or 0,
            principal=user.username if user else f"team:{team}" if team else f"app:{app.name if app else '?'}",
            level=grant.level,
            paths=grant.paths,
            expires_on=grant.expires_on,
            applied=_applied(sync, grant, ended) and (reached is None or reached.roles_applied),
            apply_error=sync.last_error if sync is not None and sync.state == SyncState.FAILED else None,
            ended=ended,
            team=team,
            members=reached.members if reached else (),
        )
        for grant, user, app, sync, marked_by, team in rows
        for ended, reached in [(_ended(user, marked_by), reaches_of.get(grant.team_id or 0))]
    ]
    return Page(items=entries, total=total, offset=offset, limit=limit or total)


def _ended(user: User | None, marked_by: str | None) -> EndedByLeaving | None:
    return ended_by_leaving(user.status, user.left_at, marked_by) if user else None


def _team_syncs(session: Session, team_ids: list[int]) -> dict[int | None, RoleSync]:
    """The sync of each of these teams' policies, by team id."""
    if not team_ids:
        return {}
    return {s.team_id: s for s in session.exec(select(RoleSync).where(col(RoleSync.team_id).in_(team_ids)))}


def _through_applied(role: RoleSync | None, team: RoleSync | None, grant: Grant) -> bool:
    """Has AWS taken a grant a member holds through a team? Their role applied as it now is (the team's policies
    attached, or folded into it), and the change written since: in the team's policies, or in their role (folded)."""
    if role is None or role.state != SyncState.APPLIED:
        return False
    return _applied(team, grant) or _applied(role, grant)


def _failed(sync: RoleSync | None) -> str | None:
    return sync.last_error if sync is not None and sync.state == SyncState.FAILED else None


def _applied(sync: RoleSync | None, grant: Grant, ended: EndedByLeaving | None = None) -> bool:
    """Has AWS taken this grant (or, a leaver's, its revocation: applied since they left)?"""
    since = max(grant.updated_at, ended.left_at) if ended and ended.left_at else grant.updated_at
    return (
        sync is not None
        and sync.state == SyncState.APPLIED
        and sync.applied_at is not None
        and sync.applied_at >= since
    )


def source_names(session: Session, user: User, search: str = "", limit: int = 50) -> list[str]:
    """Live sources this user may see, searched by name in the database (for pickers)."""
    query = select(DataSource.name).where(col(DataSource.archived_at).is_(None), visible_to(user))
    if search.strip():
        query = query.where(col(DataSource.name).contains(search.strip().lower()))
    return list(session.exec(query.order_by(DataSource.name).limit(limit)))


def source_holdings(session: Session, user: User, names: list[str]) -> dict[str, Holding]:
    """What each of these live sources (of those the user may see) holds, by name: for a picker that shows it."""
    if not names:
        return {}
    found = session.exec(
        select(DataSource).where(
            col(DataSource.name).in_(names), col(DataSource.archived_at).is_(None), visible_to(user)
        )
    ).all()
    held = holdings(session, found)
    return {s.name: held[s.id or 0] for s in found}


@dataclass(frozen=True)
class SourceTerms:
    """What a source's classification asks of access to it, as the request form says it before sending (issue #29)."""

    classification: Classification
    rules: list[str]  # one sentence a rule (`rules.rules_in_words`); none for a standard source
    iao: str | None  # its information asset owner


def source_terms(session: Session, settings: Settings, user: User, name: str) -> SourceTerms:
    source = get_source(session, user, name)
    iao = session.get(User, source.iao_id) if source.iao_id is not None else None
    rule = settings.classification_rules[source.classification]
    return SourceTerms(source.classification, rules_in_words(source.classification, rule), iao and iao.username)


def user_names(session: Session, search: str = "", limit: int = 50) -> list[str]:
    """Active platform members, searched by username or name in the database (for pickers)."""
    query = select(User.username).where(User.status == UserStatus.ACTIVE)
    if search.strip():
        term = search.strip().lower()
        query = query.where(or_(col(User.username).contains(term), func.lower(User.display_name).contains(term)))
    return list(session.exec(query.order_by(User.username).limit(limit)))


@dataclass(frozen=True)
class AccessRow:
    source: str
    principal: str
    level: AccessLevel
    paths: Paths
    expires_on: date | None
    ended: EndedByLeaving | None = None  # the holder has left: revoked, kept on record


def list_access(
    session: Session,
    actor: User,
    username: str | None = None,
    source_name: str | None = None,
    team: str | None = None,
) -> list[AccessRow]:
    """Every grant, optionally of one user (their own and their teams'), of one team, or on one source: for the
    platform team (the CLI). A team's grant is held by "team:NAME", an app's by "app:NAME"."""
    actor = acting(session, actor)
    check_platform_admin(actor).enforce()
    query = (
        select(Grant, DataSource.name, User, App.name, Team.name, left_marked_by())
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .outerjoin(User, col(User.id) == Grant.user_id)
        .outerjoin(App, col(App.id) == Grant.app_id)
        .outerjoin(Team, col(Team.id) == Grant.team_id)
    )
    if username:  # what they hold: their own grants and their teams' (a leaver is in no team)
        query = query.where(reaches(get_user(session, username)))
    if team:
        query = query.where(Grant.team_id == get_team(session, team).id)
    if source_name:
        query = query.where(Grant.source_id == get_source(session, actor, source_name).id)
    rows = session.exec(query.order_by(DataSource.name, User.username, Team.name, col(Grant.id))).all()
    return [
        AccessRow(
            source,
            user.username if user else f"team:{team_name}" if team_name else f"app:{app}",
            grant.level,
            grant.paths,
            grant.expires_on,
            _ended(user, marked_by),
        )
        for grant, source, user, app, team_name, marked_by in rows
    ]
