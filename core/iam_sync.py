"""Making IAM match the database: each role's S3 policies are compiled from its grants and written when they differ.

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
from sqlmodel import col, select

from core.access import Principal, desired_grants, documents
from core.adapters.aws import AwsError, LivePolicies
from core.adapters.db import serialise
from core.adapters.models import RoleSync, SyncState, utcnow
from core.policy import PolicyTooLarge, RolePolicies, minify

if TYPE_CHECKING:
    from core.context import Gatehouse


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
            desired = documents(grants, live, gatehouse.settings.managed_policy_quota)
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
