"""The platform team keeps AWS in line with the database: "Retry now" for what AWS has not taken yet, and reconcile:
every managed role's live policies compared with the desired ones, the drift shown, and repaired on record."""

from __future__ import annotations

import json
from dataclasses import dataclass

from core import audit
from core.actor import acting
from core.adapters.aws import LivePolicies
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import GatehouseError
from core.iam_sync import SyncOutcome, all_principals, desired_grants, mark_changed, sync_pending
from core.policy import PolicyTooLarge, RolePolicies, minify
from core.rules import check_platform_admin


def retry_pending(gatehouse: Gatehouse, actor: User) -> list[SyncOutcome]:
    """The platform team's "Retry now": apply every role AWS has not taken yet."""
    with gatehouse.session() as session:
        check_platform_admin(acting(session, actor)).enforce()
    return sync_pending(gatehouse)


@dataclass(frozen=True)
class Drift:
    role_name: str
    what: str  # one line a person can read: which policy differs and how


def _describe(role_name: str, desired: RolePolicies, live: LivePolicies) -> list[Drift]:
    found: list[Drift] = []
    if not live.role_exists:
        return [Drift(role_name, "the role does not exist")]
    if live.inline is None:
        found.append(Drift(role_name, "the s3-access inline policy is missing"))
    elif minify(live.inline) != minify(desired.inline):
        found.append(
            Drift(role_name, f"the s3-access inline policy differs: {_statement_diff(desired.inline, live.inline)}")
        )
    for number, document in enumerate(desired.managed, start=1):
        current = live.managed.get(number)
        if current is None:
            found.append(Drift(role_name, f"managed policy {number} is missing or not attached"))
        elif minify(current) != minify(document):
            found.append(Drift(role_name, f"managed policy {number} differs: {_statement_diff(document, current)}"))
    for number in sorted(set(live.managed) - set(range(1, len(desired.managed) + 1))):
        found.append(Drift(role_name, f"managed policy {number} is attached but no longer wanted"))
    return found


def _statement_diff(desired: dict, live: dict) -> str:
    want = {json.dumps(s, sort_keys=True) for s in desired.get("Statement", [])}
    have = {json.dumps(s, sort_keys=True) for s in _statements(live)}
    parts = []
    if have - want:
        parts.append(f"{len(have - want)} statement(s) not granted by Gatehouse")
    if want - have:
        parts.append(f"{len(want - have)} granted statement(s) missing")
    return ", ".join(parts) or "same statements in another form"


def _statements(document: dict) -> list[dict]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def find_drift(gatehouse: Gatehouse, actor: User) -> list[Drift]:
    """Compare every managed role's live policies with the desired ones."""
    with gatehouse.session() as session:
        check_platform_admin(acting(session, actor)).enforce()
        principals = all_principals(session, gatehouse.settings.env)
        wanted = {p.role_name: desired_grants(session, p) for p in principals}
    drift: list[Drift] = []
    for principal in principals:
        live = gatehouse.aws.read_role_policies(principal.role_name)
        try:
            desired = live.compile(wanted[principal.role_name], gatehouse.settings.managed_policy_quota)
        except PolicyTooLarge as error:
            drift.append(Drift(principal.role_name, str(error)))
            continue
        drift.extend(_describe(principal.role_name, desired, live))
    return drift


def repair(gatehouse: Gatehouse, drift: list[Drift], actor: User) -> list[SyncOutcome]:
    """Rewrite the drifted roles and record each repair in the audit trail."""
    roles = sorted({d.role_name for d in drift})
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        principals = {p.role_name: p for p in all_principals(session, gatehouse.settings.env)}
        for role_name in roles:
            mark_changed(session, [principals[role_name]])
            audit.record(
                session,
                actor.username,
                "drift-repaired",
                f"Repaired {role_name}: " + "; ".join(d.what for d in drift if d.role_name == role_name),
                subject=role_name,
            )
    outcomes = sync_pending(gatehouse, roles)
    failed = [o for o in outcomes if o.error]
    if failed:
        raise GatehouseError(f"{len(failed)} role(s) could not be repaired; first: {failed[0].error}")
    return outcomes
