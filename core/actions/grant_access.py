"""Granting (or changing) access of platform members to a source: an admin of it or the platform team. The decision
is recorded first, then IAM is made to match it; approve_request records its grant the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from core import audit
from core.actor import acting
from core.adapters.aws import AwsError, LivePolicies
from core.adapters.models import DataSource, Grant, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, BucketGrant, InvalidInput, format_paths, parse_paths
from core.iam_sync import SyncOutcome, desired_grants, mark_changed, sync_pending, user_principal
from core.notify import NotificationKind, notify
from core.queries import active_admins, get_source, get_user, is_active_admin
from core.rules import check_end_date, check_keeps_an_admin, check_manages_source, check_may_hold


class ExternalNeedsConfirmation(InvalidInput):
    """Granting an external user anything needs an explicit confirmation."""


@dataclass(frozen=True)
class GrantOutcome:
    """The decision is recorded either way; `failed` says which roles AWS has not taken yet, and why."""

    recorded: list[str]  # the members' usernames as stored, whatever was typed
    synced: list[SyncOutcome]

    @property
    def failed(self) -> list[SyncOutcome]:
        return [o for o in self.synced if o.error]

    @property
    def aws_pending(self) -> str | None:
        """Why AWS has not applied it yet, or None once it has."""
        return self.failed[0].error if self.failed else None


def as_paths(paths: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if paths is None:
        return ()
    if isinstance(paths, str):
        return parse_paths(paths)
    return parse_paths("\n".join(paths)) if paths else ()


def check_fits(gatehouse: Gatehouse, session: Session, user: User, grant: BucketGrant) -> None:
    """Refuse, before anything changes, a grant that would not fit in the room IAM leaves Gatehouse on the user's
    role (others' inline and managed policies count against the same quotas)."""
    principal = user_principal(gatehouse.settings.env, user)
    others = [g for g in desired_grants(session, principal) if g.bucket != grant.bucket]
    try:
        live = gatehouse.aws.read_role_policies(principal.role_name)
    except AwsError:
        live = LivePolicies(role_exists=False)  # AWS unreachable: the whole quota; the sync says if others took some
    live.compile([*others, grant], gatehouse.settings.managed_policy_quota)


def grant_access(
    gatehouse: Gatehouse,
    actor: User,
    source_name: str,
    usernames: list[str],
    level: AccessLevel,
    paths: str | tuple[str, ...] | list[str] | None = None,
    expires_on: date | None = None,
    *,
    confirm_external: bool = False,
) -> GrantOutcome:
    """Give (or change) access of one or more platform members to a source; an admin of it or the platform team."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, source_name)
        check_manages(session, actor, source)
        roles = record_grant(
            gatehouse,
            session,
            actor,
            source,
            usernames,
            level,
            as_paths(paths),
            expires_on,
            confirm_external=confirm_external,
        )
    return GrantOutcome(list(roles), sync_pending(gatehouse, list(roles.values())))


def record_grant(
    gatehouse: Gatehouse,
    session: Session,
    actor: User,
    source: DataSource,
    usernames: list[str],
    level: AccessLevel,
    paths: tuple[str, ...],
    expires_on: date | None,
    *,
    confirm_external: bool = False,
    request_id: int | None = None,
) -> dict[str, str]:
    """Record grants in the caller's transaction (the caller has decided the actor may); returns the role to sync
    of each member granted, by their username as stored.

    Checks every user and the IAM size quota before changing anything, so a refused grant leaves no trace."""
    check_end_date(expires_on, utcnow().date()).enforce(InvalidInput)
    if not usernames:
        raise InvalidInput("Choose at least one user to grant access to.")
    if source.archived_at is not None:
        raise InvalidInput(f"{source.name} is archived: its access cannot change.")
    users = list({u.id: u for u in (_grantee(session, name, level, confirm_external) for name in usernames)}.values())
    for user in users:
        check_fits(gatehouse, session, user, BucketGrant(source.name, level, paths))
    for user in users:
        _upsert(session, actor, source, user, level, paths, expires_on, request_id)
    principals = [user_principal(gatehouse.settings.env, u) for u in users]
    mark_changed(session, principals)
    notify(
        session,
        [u for u in users if u.id != actor.id],
        NotificationKind.ACCESS_CHANGED,
        f"You have {level.label.lower()} access to {source.name}",
        f"{actor.username} gave you {level.label.lower()} access to {source.name} ({format_paths(paths)})"
        + (f" until {expires_on:%d %B %Y}." if expires_on else "."),
    )
    return {u.username: p.role_name for u, p in zip(users, principals, strict=True)}


def _grantee(session: Session, username: str, level: AccessLevel, confirm_external: bool) -> User:
    user = get_user(session, username)
    check_may_hold(user, level).enforce(InvalidInput)
    if user.is_external and not confirm_external:
        raise ExternalNeedsConfirmation(
            f"{user.username} is an external user: confirm that they should have access before granting it."
        )
    return user


def _upsert(
    session: Session,
    actor: User,
    source: DataSource,
    user: User,
    level: AccessLevel,
    paths: tuple[str, ...],
    expires_on: date | None,
    request_id: int | None,
) -> None:
    grant = session.exec(select(Grant).where(Grant.source_id == source.id, Grant.user_id == user.id)).first()
    before = None if grant is None else describe(grant)
    if grant is not None and grant.level == AccessLevel.ADMIN and level is not AccessLevel.ADMIN:
        keeps_an_admin(session, source, user)
    if grant is None:
        grant = Grant(source_id=source.id or 0, user_id=user.id)
    grant.level = level
    grant.paths = list(paths)
    grant.expires_on = expires_on
    grant.granted_by_id = actor.id
    grant.request_id = request_id or grant.request_id
    grant.updated_at = utcnow()
    session.add(grant)
    after = describe(grant)
    action = "access-granted" if before is None else "access-changed"
    summary = f"{actor.username} gave {user.username} {level.label.lower()} access to {source.name}"
    summary += f" ({format_paths(paths)})" + (f" until {expires_on}" if expires_on else "")
    audit.record(
        session,
        actor.username,
        action,
        summary,
        source_id=source.id,
        subject=user.username,
        request_id=request_id,
        before=before,
        after=after,
    )


def describe(grant: Grant) -> dict[str, object]:
    return {
        "level": AccessLevel(grant.level).value,
        "paths": list(grant.paths),
        "expires_on": grant.expires_on.isoformat() if grant.expires_on else None,
    }


def keeps_an_admin(session: Session, source: DataSource, user: User) -> None:
    admins = active_admins(session, [source.id or 0]).get(source.id or 0, [])
    check_keeps_an_admin(admins, user.username, source.name).enforce(InvalidInput)


def check_manages(session: Session, actor: User, source: DataSource) -> None:
    check_manages_source(actor, source.name, admin_of_it=is_active_admin(session, actor, source)).enforce()
