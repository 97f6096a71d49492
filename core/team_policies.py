"""A team's grants in IAM (issue #28, IAM.md "Teams"): compiled once into customer-managed policies of the team's
(`gatehouse-team-<id>-1`, `-2`… under /gatehouse/: named by the team's id, so a rename changes nothing), attached to
each active member's role. A change to a team that holds access is a new version of its policies, whatever its size;
a member joining or leaving is one attach or detach on their role; only a team's first grant and last revoke (or its
grants needing another number of policies) touch every member's role.

A member's role holds their own documents and, in the room IAM leaves (`GATEHOUSE_MANAGED_POLICY_QUOTA` less their own
spilled policies and others' attachments), their teams' policies attached; a team left without room is folded into
the member's own documents instead (`role_layout`), and the role's sync row says which (`folded_teams`), for a page.

Pure where it can be (the layout); the SQL that reads a team's and a member's teams' grants is here too. The after-
commit step (`access.mark_team_changed`, `iam_sync`) and the adapter (`adapters/iam.py`) do the rest."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.adapters.aws import LivePolicies
from core.adapters.models import DataSource, Grant, RoleSync, Team, TeamMember, User, UserStatus, utcnow
from core.domain import plural
from core.policy import (
    INLINE_LIMIT,
    MANAGED_LIMIT,
    BucketGrant,
    PolicyTooLarge,
    RolePolicies,
    compile_role_policies,
)
from core.queries import live_grant

TEAM_POLICIES = "gatehouse-team-"  # how every team's policies (and their sync rows) are named: then the team's id
MOST_TEAM_POLICIES = 20  # IAM's most managed policies on one role: a team's could never attach beyond it


def team_policy_stem(team_id: int) -> str:
    """The name a team's policies share (and its sync row's name): by id, so that renaming the team changes nothing."""
    return f"{TEAM_POLICIES}{team_id}"


def team_policy_names(team_id: int, count: int) -> tuple[str, ...]:
    return tuple(f"{team_policy_stem(team_id)}-{n}" for n in range(1, count + 1))


def team_documents(grants: Iterable[BucketGrant], most: int = MOST_TEAM_POLICIES) -> tuple[dict, ...]:
    """The documents of a team's policies (none for a team that holds nothing): the compiler's, each within a managed
    policy's 6,144 characters, without the account-wide statements every role has already."""
    grants = list(grants)
    if not grants:
        return ()
    compiled = compile_role_policies(
        grants,
        managed_slots=most - 1,
        inline_limit=MANAGED_LIMIT,
        account=False,
        too_large=(
            f"A team's grants must fit in {plural(most, 'managed policy', 'managed policies')} of "
            f"{MANAGED_LIMIT:,} characters (the room a member's role leaves them): remove some, or grant whole "
            "buckets instead of many separate paths."
        ),
    )
    return (compiled.inline, *compiled.managed)


@dataclass(frozen=True)
class TeamShare:
    """One team of a member, as their role takes it: its live grants and the names of the policies they make."""

    team_id: int
    grants: tuple[BucketGrant, ...]
    policies: tuple[str, ...]


def role_layout(
    own: Iterable[BucketGrant], teams: Iterable[TeamShare], live: LivePolicies, managed_quota: int
) -> RolePolicies:
    """A role's documents: its own grants compiled in the room IAM leaves, and its teams' policies attached while room
    is left (teams in the order given); the teams that find none are folded into its own documents. Raises
    PolicyTooLarge (the role's room named) when even folding every team does not fit."""
    own, teams = list(own), list(teams)
    free = managed_quota - live.attached_by_others
    inline_limit = INLINE_LIMIT - live.inline_by_others
    error: PolicyTooLarge | None = None
    for kept in range(len(teams), -1, -1):
        attached, folded = teams[:kept], teams[kept:]
        slots = free - sum(len(t.policies) for t in attached)
        if slots < 0:
            continue
        try:
            compiled = compile_role_policies(
                [*own, *(g for t in folded for g in t.grants)], managed_slots=slots, inline_limit=inline_limit
            )
        except PolicyTooLarge as refused:
            error = refused
            continue
        return RolePolicies(
            compiled.inline,
            compiled.managed,
            attached=tuple(name for t in attached for name in t.policies),
            folded=tuple(t.team_id for t in folded),
        )
    assert error is not None  # kept = 0 leaves every slot: only the compiler refuses it
    raise error


def team_grants(session: Session, team_id: int, today: date | None = None) -> list[BucketGrant]:
    """The live grants of one team: what every active member holds through it."""
    return grants_of_teams(session, [team_id], today).get(team_id, [])


def grants_of_teams(
    session: Session, team_ids: Iterable[int], today: date | None = None
) -> dict[int, list[BucketGrant]]:
    """The live grants of these teams, by team (a team that holds nothing is absent)."""
    today = today or utcnow().date()
    found: dict[int, list[BucketGrant]] = defaultdict(list)
    ids = list(team_ids)
    if not ids:
        return found
    query = (
        select(Grant.team_id, Grant.level, Grant.paths, DataSource.name, DataSource.kms_key_arn)
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .outerjoin(User, col(User.id) == Grant.user_id)
        .where(col(Grant.team_id).in_(ids), *live_grant(today))
        .order_by(Grant.team_id, DataSource.name, Grant.id)
    )
    for team_id, level, paths, bucket, key in session.exec(query):
        found[team_id].append(BucketGrant(bucket, level, paths, key))
    return found


def teams_of(user_id: int) -> Any:
    """The ids of the teams an active member is in, as a subquery (a leaver holds nothing through a team)."""
    member = aliased(User)
    return (
        select(TeamMember.team_id)
        .join(member, col(member.id) == TeamMember.user_id)
        .where(TeamMember.user_id == user_id, member.status == UserStatus.ACTIVE)
    )


def member_teams(session: Session, user_id: int, today: date | None = None) -> list[TeamShare]:
    """The teams of an active member that hold access, by id (the order their policies take the role's room)."""
    ids = sorted(session.exec(teams_of(user_id)))
    return [
        TeamShare(team_id, tuple(grants), team_policy_names(team_id, len(team_documents(grants))))
        for team_id, grants in sorted(grants_of_teams(session, ids, today).items())
    ]


def folded_members(session: Session, team_id: int) -> list[int]:
    """The ids of the team's members whose role had no room for the team's policies at its last sync: the team's
    statements are in their own documents, so a change of the team's grants rewrites them."""
    rows = session.exec(
        select(RoleSync.user_id, RoleSync.folded_teams)
        .join(TeamMember, col(TeamMember.user_id) == RoleSync.user_id)
        .where(TeamMember.team_id == team_id, col(RoleSync.folded_teams).is_not(None))
    )
    return [user_id for user_id, folded in rows if user_id is not None and team_id in as_team_ids(folded)]


def as_team_ids(folded: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in (folded or "").split(",") if part)


def as_folded(team_ids: Iterable[int]) -> str | None:
    return ",".join(str(t) for t in sorted(team_ids)) or None


def folded_teams(session: Session, user: User) -> list[str]:
    """The names of the teams whose access a member holds folded into their own documents (their role had no
    attachment left for the team's policies at its last sync), for a page to say so."""
    folded = session.exec(select(RoleSync.folded_teams).where(RoleSync.user_id == user.id)).first()
    ids = as_team_ids(folded)
    if not ids:
        return []
    return list(session.exec(select(Team.name).where(col(Team.id).in_(ids)).order_by(Team.name)))


def teams_holding(session: Session, source_id: int) -> list[int]:
    """The ids of the teams holding grants on a source: what archiving it (or its grants ending) must mark with
    `access.mark_team_changed`, as it marks the roles of the people holding them."""
    query = select(Grant.team_id).where(Grant.source_id == source_id, col(Grant.team_id).is_not(None)).distinct()
    return sorted(t for t in session.exec(query) if t is not None)
