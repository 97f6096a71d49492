"""Making IAM match the database: each role's S3 policies are compiled from its grants and written when they differ.

A changed grant marks its principal's role PENDING in the same transaction as the change; syncing writes AWS and
marks it APPLIED, or FAILED with AWS's reason (retried at the next sync, start or reconcile). A decision is
never lost to a failed AWS call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import Session, col, select

from core import effects
from core.adapters.aws import AwsError, LivePolicies
from core.adapters.db import insert_missing, serialise
from core.adapters.models import App, DataSource, Grant, RoleSync, SyncState, User, utcnow
from core.domain import AccessLevel, BucketGrant, app_role_name, user_role_name
from core.policy import PolicyTooLarge, RolePolicies, minify
from core.queries import live_grant

if TYPE_CHECKING:
    from core.context import Gatehouse


@dataclass(frozen=True)
class Principal:
    role_name: str
    user_id: int | None = None
    app_id: int | None = None


def user_principal(env: str, user: User) -> Principal:
    return Principal(user_role_name(env, user.username), user_id=user.id)


def app_principal(env: str, app: App) -> Principal:
    return Principal(app_role_name(env, app.name), app_id=app.id)


def desired_grants(session: Session, principal: Principal, today: date | None = None) -> list[BucketGrant]:
    """The grants IAM must reflect: on live sources, not past their end date, and none for someone who has left."""
    today = today or utcnow().date()
    query = (
        select(Grant.level, Grant.paths, DataSource.name, DataSource.kms_key_arn)
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .outerjoin(User, col(User.id) == Grant.user_id)
        .where(*live_grant(today))
    )
    if principal.user_id is not None:
        query = query.where(Grant.user_id == principal.user_id)
    else:
        query = query.where(Grant.app_id == principal.app_id)
    return [
        BucketGrant(bucket, AccessLevel(level), tuple(paths), key) for level, paths, bucket, key in session.exec(query)
    ]


def placed_on_bucket(
    source: DataSource,
    held: Iterable[Grant],
    kept: Iterable[tuple[str, ...] | None],
    level: AccessLevel,
    paths: tuple[str, ...],
) -> list[BucketGrant]:
    """A person's grants on one source as their role will hold them once a grant of `level` on `paths` is placed
    beside those held: each held grant on the paths it keeps (`rules.place_grant`; None: it goes), and the new one."""
    return [
        BucketGrant(source.name, AccessLevel(g.level), keeps, source.kms_key_arn)
        for g, keeps in zip(held, kept, strict=True)
        if keeps is not None
    ] + [BucketGrant(source.name, level, paths, source.kms_key_arn)]


def mark_changed(session: Session, principals: Iterable[Principal]) -> None:
    """Record, in the caller's transaction, that these roles must be written to AWS again (which the unit of work
    does after it commits: core/effects.py). In one order, by role name,
    whatever the caller's: two transactions marking the same roles never wait on each other in a circle."""
    now = utcnow()
    principals = sorted(set(principals), key=lambda p: p.role_name)
    effects.apply_roles(session, [p.role_name for p in principals])  # after the commit, and only then
    for principal in principals:
        insert_missing(
            session,
            RoleSync,
            role_name=principal.role_name,
            user_id=principal.user_id,
            app_id=principal.app_id,
            state=SyncState.PENDING,
            attempts=0,
            changed_at=now,
        )
        session.exec(  # type: ignore[call-overload]
            update(RoleSync)
            .where(col(RoleSync.role_name) == principal.role_name)
            .values(state=SyncState.PENDING, changed_at=now)
        )


def all_principals(session: Session, env: str) -> list[Principal]:
    users = session.exec(select(User)).all()
    apps = session.exec(select(App)).all()
    return [user_principal(env, u) for u in users] + [app_principal(env, a) for a in apps]


def mark_all_changed(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        mark_changed(session, all_principals(session, gatehouse.settings.env))


def policy_hash(policies: RolePolicies) -> str:
    text = minify(policies.inline) + "".join(minify(doc) for doc in policies.managed)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SyncOutcome:
    role_name: str
    writes: int
    error: str | None = None


def sync_role(gatehouse: Gatehouse, role_name: str) -> SyncOutcome:
    """Write one role's desired policies to AWS (only those that differ) and record the outcome.

    One sync of a role at a time, from reading what it should be to recording what AWS took: two syncs racing (two
    changes of one person's access at once, each syncing after it commits) would otherwise write in the other order
    than they read, and leave the older policy in IAM recorded as applied. Applied is recorded only if no change was
    marked since the desired state was read: a later one stays pending for its own sync, which comes next."""
    with gatehouse.session() as session:
        serialise(session, "role", role_name)
        sync = session.exec(select(RoleSync).where(RoleSync.role_name == role_name)).one()
        seen = sync.changed_at  # read before the grants: a change committed after this moves it on
        grants = desired_grants(session, Principal(role_name, sync.user_id, sync.app_id))
        aws = gatehouse.aws
        try:
            made = aws.ensure_role(role_name)  # made now: it holds nothing yet, so nothing to read
            live = LivePolicies(role_exists=True) if made else aws.read_role_policies(role_name)
            desired = live.compile(grants, gatehouse.settings.managed_policy_quota)
            writes = aws.write_role_policies(role_name, desired, live)
        except (AwsError, PolicyTooLarge) as error:
            sync.state, sync.last_error, sync.attempts = SyncState.FAILED, str(error), sync.attempts + 1
            session.add(sync)
            return SyncOutcome(role_name, 0, str(error))
        session.exec(
            update(RoleSync)
            .where(col(RoleSync.role_name) == role_name, col(RoleSync.changed_at) == seen)
            .values(
                state=SyncState.APPLIED,
                applied_at=utcnow(),
                last_error=None,
                attempts=0,
                policy_hash=policy_hash(desired),
            )
        )
    return SyncOutcome(role_name, writes)


def sync_pending(gatehouse: Gatehouse, role_names: Iterable[str] | None = None) -> list[SyncOutcome]:
    """Apply every role that is pending or failed (or just the named ones)."""
    with gatehouse.session() as session:
        query = select(RoleSync.role_name).where(RoleSync.state != SyncState.APPLIED)
        if role_names is not None:
            query = query.where(col(RoleSync.role_name).in_(list(role_names)))
        names = list(session.exec(query.order_by(RoleSync.role_name)))
    return [sync_role(gatehouse, name) for name in names]
