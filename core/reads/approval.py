"""What approving a request, or revoking a grant, would do in AWS, said before the click: the person's role
documents as the policy compiler makes them now and after, and the difference between the two in words ("alice's role
gains read on alpha-pricing-models/models/*", "… loses …"); for personal data, whether the approval grants or sends the
request on to its information asset owner."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from core.access import desired_grants, own_grants, placed_on_bucket, team_grants, user_principal
from core.actor import acting
from core.adapters.models import AccessRequest, DataSource, Grant, RequestStatus, Team, User, utcnow
from core.config import Settings
from core.domain import AccessLevel, InvalidFields, NotFound
from core.paths import Paths
from core.policy import BucketGrant, compile_role_policies
from core.queries import (
    get_source,
    held,
    held_grants,
    holder_name,
    is_active_admin,
    load_request,
    may_decide,
    owner_for,
)
from core.reads.queues import iao_step
from core.rules import approval_terms, check_iao_not_first, check_manages_source, iao_may_decide, needs_iao, place_grant

Access = frozenset[tuple[str, str, str]]  # (action, resource, condition): one thing a role's documents allow


@dataclass(frozen=True)
class ApprovalEffect:
    """What approving so would change on the requester's role, in words; or why it cannot be approved so, a sentence
    for each field that is wrong ("level", "paths", "until"), for the page to show beside it."""

    changes: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    # personal data (issue #29): approving so grants nothing yet, but sends the request to whom approves next
    next_step: str | None = None


def decision_bounds(request: AccessRequest) -> tuple[AccessLevel, Paths, date | None]:
    """What bounds an approval: what was asked; at the information asset owner's step, what the admin approved."""
    if RequestStatus(request.status) is not RequestStatus.PENDING_IAO:
        return request.level, request.paths, request.expires_on
    level = request.granted_level or request.level
    paths = request.paths if request.granted_paths is None else request.granted_paths
    return level, paths, request.granted_expires_on


def bounded_by(session: Session, request: AccessRequest) -> str | None:
    """Who set those bounds when it was not the requester: the admin who approved first, at the information asset
    owner's step (a refusal then says "bob approved access until …", not what was asked)."""
    if RequestStatus(request.status) is not RequestStatus.PENDING_IAO or request.admin_approved_by_id is None:
        return None
    admin = session.get(User, request.admin_approved_by_id)
    return admin.username if admin is not None else None


def approval_effect(
    session: Session,
    settings: Settings,
    actor: User,
    request_id: int,
    level: AccessLevel,
    paths: Paths | str,
    expires_on: date | None,
) -> ApprovalEffect:
    """What approving `request_id` at `level` on `paths` until `expires_on` changes on the requester's role; or,
    field by field, why it cannot be approved so."""
    actor = acting(session, actor)
    request = load_request(session, request_id)
    may_decide(session, actor, request).enforce()
    source, requester = session.get(DataSource, request.source_id), session.get(User, request.requester_id)
    assert source is not None and requester is not None
    rule = settings.classification_rules[source.classification]
    try:
        level, granted, _ = approval_terms(
            *decision_bounds(request),
            level,
            paths,
            expires_on,
            bucket=source.name,
            today=utcnow().date(),
            classification=source.classification,
            rule=rule,
            approved_by=bounded_by(session, request),
        )
    except InvalidFields as refused:
        return ApprovalEffect(problems=refused.problems)
    next_step = None
    if RequestStatus(request.status) is not RequestStatus.PENDING_IAO and needs_iao(rule, level, granted):
        first = check_iao_not_first(actor, source.iao_id)
        if not first.allowed:
            return ApprovalEffect(problems={"": first.reason})
        iao = owner_for(session, source, request)
        owner_decides = iao_may_decide(iao, requester_id=request.requester_id, admin_approver_id=actor.id)
        next_step = (
            "This approval sends the request to "
            + (f"{iao.username}, the information asset owner" if owner_decides and iao else iao_step(None, False))
            + f": {source.classification.label.lower()} is granted only once they approve too. Nothing changes in AWS "
            "until then; if they approve as you do:"
        )
    team = session.get(Team, request.team_id) if request.team_id is not None else None
    holder: User | Team = team or requester  # asked for a team: the team's policy changes, whoever it reaches
    grants = held_grants(session, source, holder)
    kept, placed = place_grant(held(grants), level, granted, holder_name(holder, starts=True), source.name)
    if not placed.allowed:
        return ApprovalEffect(problems={"paths": placed.reason})
    now = _now(session, settings, holder)
    after = _kept(session, settings, holder, now, source.name) + placed_on_bucket(source, grants, kept, level, granted)
    whose, what = (f"the {team.name} team", "policy") if team else (requester.username, "role")
    return ApprovalEffect(
        describe_change(whose, _allowed(now), _allowed(after), what)
        or [f"Nothing changes in AWS: {whose}'s {what} already allows all of it."],
        next_step=next_step,
    )


def _now(session: Session, settings: Settings, holder: User | Team) -> list[BucketGrant]:
    """What a holder's role (a member's) or policy (a team's) reflects now."""
    if isinstance(holder, Team):
        return team_grants(session, holder.id or 0)
    return desired_grants(session, user_principal(settings.env, holder))


def _kept(
    session: Session, settings: Settings, holder: User | Team, now: list[BucketGrant], bucket: str
) -> list[BucketGrant]:
    """What a holder's role (or a team's policy) keeps whatever its own grants on `bucket` become: its grants on other
    buckets and, a member's, what their teams hold on this one (their own grants there are what changes)."""
    kept = [g for g in now if g.bucket != bucket]
    if isinstance(holder, Team):
        return kept
    own = Counter(own_grants(session, user_principal(settings.env, holder)))
    for grant in now:
        if grant.bucket != bucket:
            continue
        if own[grant]:
            own[grant] -= 1
        else:
            kept.append(grant)  # through a team: the change of their own grants leaves it
    return kept


def revoke_effect(session: Session, settings: Settings, actor: User, source_name: str, grant_id: int) -> list[str]:
    """What revoking one grant of a member on a source takes from their role, in words: for the source's admins
    and the platform team, before they confirm."""
    actor = acting(session, actor)
    source = get_source(session, actor, source_name)
    check_manages_source(actor, source.name, admin_of_it=is_active_admin(session, actor, source)).enforce()
    grant = session.get(Grant, grant_id)
    holder: User | Team | None = None
    if grant is not None and grant.source_id == source.id:
        holder = session.get(Team, grant.team_id) if grant.team_id is not None else session.get(User, grant.user_id)
    if grant is None or holder is None:
        raise NotFound("That access is no longer there: it was changed or revoked a moment ago.")
    now = _now(session, settings, holder)
    after = _kept(session, settings, holder, now, source.name) + [
        BucketGrant(source.name, g.level, g.paths, source.kms_key_arn)
        for g in held_grants(session, source, holder)
        if g.id != grant.id
    ]
    what = "policy" if isinstance(holder, Team) else "role"
    return describe_change(holder_name(holder), _allowed(now), _allowed(after), what)


def _allowed(grants: Iterable[BucketGrant]) -> Access:
    """Each (action, resource, listing prefix) the compiled documents allow. A listing's prefixes are taken one by
    one, so that a new path shows as a new prefix."""
    found = set()
    for document in compile_role_policies(list(grants), managed_slots=100, inline_limit=10**9).documents:
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            prefixes = statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix", [""])
            for prefix in [prefixes] if isinstance(prefixes, str) else prefixes:
                found.update((action, resource, prefix) for action in actions for resource in resources)
    return frozenset(found)


def describe_change(username: str, before: Access, after: Access, kind: str = "role") -> list[str]:
    """The objects a role (a team's: its policy, `kind`) comes to read or write, or stops, and the listings it gains
    or loses, in words."""
    said, whose = [], kind
    for verb, changed in (("gains", after - before), ("loses", before - after)):
        objects: dict[str, set[str]] = defaultdict(set)
        listings: dict[str, set[str]] = defaultdict(set)
        for action, resource, prefix in changed:
            if not resource.startswith("arn:aws:s3:::"):
                continue
            name = resource.removeprefix("arn:aws:s3:::")
            if "/" in name:
                objects[name].add(action)
            elif action == "s3:ListBucket":
                listings[name].add(prefix.removesuffix("*"))
        for name in sorted(objects):
            if "*" not in name and f"{name}/*" in objects:
                continue  # a path's own key comes with the path
            what = (
                "read and write"
                if "s3:PutObject" in objects[name]
                else "read"
                if "s3:GetObject" in objects[name]
                else ""
            )
            if what:
                said.append(f"{username}'s {whose} {verb} {what} on {name}")
        for bucket in sorted(listings):
            under = sorted(p for p in listings[bucket] if p)
            where = f"the listing of {', '.join(under)} in {bucket}" if under else f"the listing of {bucket}"
            said.append(f"{username}'s {whose} {verb} {where}")
    return said
