"""The SQL that mirrors a rule of core/rules/, written once beside the tables and used by every read and use case:
a live grant, a source someone may see, an open request, a source's active admins, finding a member or a source by
the name someone typed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, exists, select

from core.actor import acting
from core.adapters.models import AccessRequest, AuditEvent, DataSource, Grant, User, utcnow
from core.domain import AccessLevel, NotAllowed, NotFound, UserStatus, is_clean_name, shown, validate_username
from core.rules import OPEN, Decision, Held, Person, SourceAccess, can_see_source, check_may_decide


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
    """`rules`' admin who decides, as SQL: an admin grant held by a member who has not left (the grant and its
    holder as the query names them; the query joins the two)."""
    return and_(grant.level == AccessLevel.ADMIN, holder.status == UserStatus.ACTIVE)


def administers(user_id: Any, source_id: Any = DataSource.id) -> Any:
    """An EXISTS that is true while the user is an active admin of the source (a column or a value each). Its own
    aliases, so that it correlates with the enclosing query's source and nothing else."""
    grant, holder = aliased(Grant), aliased(User)
    return exists().where(
        grant.source_id == source_id,
        grant.user_id == user_id,
        holder.id == grant.user_id,
        active_admin(grant, holder),
    )


def administered_by(user_id: int) -> Any:
    """The ids of the sources the user is an active admin of, as a subquery: `col(X.source_id).in_(...)` starts
    from the user's own grants (their index), where `administers` would be asked once for every row of X."""
    return (
        select(Grant.source_id)
        .join(User, col(User.id) == Grant.user_id)
        .where(Grant.user_id == user_id, active_admin())
    )


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


def active_admins(session: Session, source_ids: list[int]) -> dict[int, list[str]]:
    """One query for the active admins of many sources (never one query a row)."""
    if not source_ids:
        return {}
    rows = session.exec(
        select(Grant.source_id, User.username)
        .join(User, col(User.id) == Grant.user_id)
        .where(
            col(Grant.source_id).in_(source_ids),
            active_admin(),
        )
        .order_by(User.username)
    ).all()
    admins: dict[int, list[str]] = {}
    for source_id, username in rows:
        admins.setdefault(source_id, []).append(username)
    return admins


def platform_team(session: Session) -> list[User]:
    return list(session.exec(select(User).where(User.is_platform_admin, User.status == UserStatus.ACTIVE)))


def admins_of(session: Session, source: DataSource) -> list[str]:
    """The usernames of one source's active admins, in order."""
    return active_admins(session, [source.id or 0]).get(source.id or 0, [])


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
    """The actor's live grant on a live source they may see; refuses with one sentence otherwise."""
    actor = acting(session, actor)
    source = get_source(session, actor, source_name)
    if source.archived_at is not None:
        raise NotAllowed(f"{source.name} is archived: its data can no longer be used through Gatehouse.")
    grants = session.exec(
        select(Grant.level, Grant.paths)
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .join(User, col(User.id) == Grant.user_id)
        .where(Grant.source_id == source.id, Grant.user_id == actor.id, *live_grant(utcnow().date()))
    ).all()
    if not grants:
        raise NotAllowed(f"You have no access to {source.name}: ask for it on the Request access page.")
    return SourceAccess(source, tuple(Held(level, paths) for level, paths in grants))


def held_grants(session: Session, source: DataSource, user: User, *, to_change: bool = False) -> list[Grant]:
    """Every grant one member holds on one source (any end date): several, of different levels on separate paths.
    `to_change`: locked until the transaction ends (PostgreSQL), so that `gatehouse expire`, which skips locked
    grants, never deletes one a change is about to write; one it is deleting is waited for, and then is not there."""
    query = select(Grant).where(Grant.source_id == source.id, Grant.user_id == user.id).order_by(col(Grant.id))
    return list(session.exec(query.with_for_update() if to_change else query).all())


def held(grants: list[Grant]) -> list[Held]:
    return [Held(g.level, g.paths) for g in grants]


def load_request(session: Session, request_id: int) -> AccessRequest:
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise NotFound(f"There is no request number {request_id}.")
    return request


def may_decide(session: Session, actor: User, request: AccessRequest) -> Decision:
    """`rules.check_may_decide`, with whether the actor is an active admin of the request's source read now."""
    source = session.get(DataSource, request.source_id)
    admin = source is not None and is_active_admin(session, actor, source)
    return check_may_decide(actor, request, admin_of_source=admin)
