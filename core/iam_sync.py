"""Making IAM match the database: each role's S3 policies are compiled from its grants and written when they differ,
and each team's policies (core/team_policies.py), which its members' roles attach.

A changed grant marks its principal's role PENDING in the same transaction as the change; syncing writes AWS and
marks it APPLIED, or FAILED with AWS's reason (retried at the next sync, start or reconcile). A decision is
never lost to a failed AWS call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import Session, col, select

from core.access import Principal, role_documents
from core.adapters.aws import AwsError, LivePolicies
from core.adapters.db import serialise
from core.adapters.models import RoleSync, SyncState, utcnow
from core.policy import PolicyTooLarge, RolePolicies, minify
from core.team_policies import as_folded, team_documents, team_grants

if TYPE_CHECKING:
    from core.context import Gatehouse


def policy_hash(policies: RolePolicies) -> str:
    text = minify(policies.inline) + "".join(minify(doc) for doc in policies.managed) + ",".join(policies.attached)
    return hashlib.sha256(text.encode()).hexdigest()


def documents_hash(documents: tuple[dict, ...]) -> str:
    return hashlib.sha256("".join(minify(doc) for doc in documents).encode()).hexdigest()


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
        if sync.team_id is not None:
            return _sync_team(gatehouse, session, sync)
        principal = Principal(role_name, sync.user_id, sync.app_id)
        aws = gatehouse.aws
        try:
            live = aws.read_role_policies(role_name)
            if not live.role_exists:  # made now: it holds nothing yet, so nothing more to read
                made = aws.make_role(role_name)
                live = LivePolicies(role_exists=True) if made else aws.read_role_policies(role_name)
            desired = role_documents(session, principal, live, gatehouse.settings.managed_policy_quota)
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
                folded_teams=as_folded(desired.folded),
            )
        )
    return SyncOutcome(role_name, writes)


def _sync_team(gatehouse: Gatehouse, session: Session, sync: RoleSync) -> SyncOutcome:
    """Write one team's policies (a new version of each that differs; the policies it no longer needs detached from
    every role and deleted), in the sync's transaction and turn (`sync_role`)."""
    seen, team_id = sync.changed_at, sync.team_id or 0
    try:
        desired = team_documents(team_grants(session, team_id), gatehouse.settings.managed_policy_quota)
        live = gatehouse.aws.read_team_policies(team_id)
        writes = gatehouse.aws.write_team_policies(team_id, desired, live)
    except (AwsError, PolicyTooLarge) as error:
        sync.state, sync.last_error, sync.attempts = SyncState.FAILED, str(error), sync.attempts + 1
        session.add(sync)
        return SyncOutcome(sync.role_name, 0, str(error))
    session.exec(
        update(RoleSync)
        .where(col(RoleSync.role_name) == sync.role_name, col(RoleSync.changed_at) == seen)
        .values(
            state=SyncState.APPLIED,
            applied_at=utcnow(),
            last_error=None,
            attempts=0,
            policy_hash=documents_hash(desired),
        )
    )
    return SyncOutcome(sync.role_name, writes)


def sync_pending(gatehouse: Gatehouse, role_names: Iterable[str] | None = None) -> list[SyncOutcome]:
    """Apply every role that is pending or failed (or just the named ones): teams' policies first, so that a role
    attaches a team's policy once it exists."""
    with gatehouse.session() as session:
        query = select(RoleSync.role_name).where(RoleSync.state != SyncState.APPLIED)
        if role_names is not None:
            query = query.where(col(RoleSync.role_name).in_(list(role_names)))
        names = list(session.exec(query.order_by(col(RoleSync.team_id).is_(None), RoleSync.role_name)))
    return [sync_role(gatehouse, name) for name in names]
