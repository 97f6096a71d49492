"""Which grants a role reflects, and what they make in the room IAM leaves Gatehouse on it: who a role is
(`Principal`: a member's, an app's, or a team's policies), the grants IAM must reflect (`desired_grants`; a member's own
and their teams'), the documents they make (`role_documents`, `check_fits`; a member's teams' policies attached or
folded in: core/team_policies.py), and a role (or a team's policies) marked to be written after the commit
(`mark_changed`, `mark_team_changed`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from core import effects
from core.adapters.aws import AwsError, LivePolicies
from core.adapters.db import insert_missing, serialise
from core.adapters.models import App, DataSource, Grant, RoleSync, SyncState, Team, TeamMember, User, utcnow
from core.domain import UserStatus, app_role_name, user_role_name
from core.policy import BucketGrant, RolePolicies
from core.queries import live_grant
from core.team_policies import (
    folded_members,
    member_teams,
    role_layout,
    team_documents,
    team_policy_stem,
    teams_of,
)
from core.team_policies import team_grants as team_grants

if TYPE_CHECKING:
    from core.context import Gatehouse


@dataclass(frozen=True)
class Principal:
    """A role Gatehouse writes, or a team's policies (`team_id`; `role_name` is then their stem, core/team_policies)."""

    role_name: str
    user_id: int | None = None
    app_id: int | None = None
    team_id: int | None = None


def user_principal(env: str, user: User) -> Principal:
    return Principal(user_role_name(env, user.username), user_id=user.id)


def app_principal(env: str, app: App) -> Principal:
    return Principal(app_role_name(env, app.name), app_id=app.id)


def team_principal(team_id: int) -> Principal:
    return Principal(team_policy_stem(team_id), team_id=team_id)


def _live_grants(today: date | None) -> Any:
    """The live grants as the compiler takes them (BucketGrant's fields), for a query to narrow to one holder."""
    return (
        select(Grant.level, Grant.paths, DataSource.name, DataSource.kms_key_arn)
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .outerjoin(User, col(User.id) == Grant.user_id)
        .where(*live_grant(today or utcnow().date()))
    )


def desired_grants(session: Session, principal: Principal, today: date | None = None) -> list[BucketGrant]:
    """The grants IAM must reflect: on live sources, not past their end date, and none for someone who has left; a
    member's own and their teams' (what their role can do: their own documents and their teams' policies)."""
    if principal.team_id is not None:
        return _listed(session, _live_grants(today).where(Grant.team_id == principal.team_id))
    if principal.user_id is None:
        return own_grants(session, principal, today)
    # two queries, each on its index (a member's grants; their teams'): one OR of the two read every grant
    theirs = _live_grants(today).where(col(Grant.team_id).in_(teams_of(principal.user_id)))
    return own_grants(session, principal, today) + _listed(session, theirs)


def _listed(session: Session, query: Any) -> list[BucketGrant]:
    return [BucketGrant(bucket, level, paths, key) for level, paths, bucket, key in session.exec(query)]


def own_grants(session: Session, principal: Principal, today: date | None = None) -> list[BucketGrant]:
    """The grants a role holds itself (a member's, not their teams'; an app's)."""
    query = _live_grants(today)
    if principal.user_id is not None:
        query = query.where(Grant.user_id == principal.user_id)
    else:
        query = query.where(Grant.app_id == principal.app_id)
    return _listed(session, query)


def role_documents(
    session: Session, principal: Principal, live: LivePolicies, managed_quota: int, today: date | None = None
) -> RolePolicies:
    """What a role must hold (its own documents, its teams' policies attached or folded in: team_policies.role_layout),
    in the room IAM leaves Gatehouse on it now (`live`). Raises PolicyTooLarge when it cannot."""
    teams = member_teams(session, principal.user_id, today) if principal.user_id is not None else []
    return role_layout(own_grants(session, principal, today), teams, live, managed_quota)


def team_principals(session: Session, env: str, team_ids: Iterable[int]) -> list[Principal]:
    """The roles of every active member of these teams: what a change to the teams' grants reaches."""
    members = session.exec(
        select(User)
        .join(TeamMember, col(TeamMember.user_id) == User.id)
        .where(col(TeamMember.team_id).in_(list(team_ids)), User.status == UserStatus.ACTIVE)
    ).all()
    return [user_principal(env, u) for u in members]


def mark_team_changed(session: Session, env: str, team_ids: Iterable[int]) -> None:
    """Record, in the caller's transaction (after the change of the teams' grants), that these teams' grants changed:
    their policies are written again after the commit, a new version each, whatever the team's size. Members' roles
    are marked only when what is attached to them changes (the team's first grant, its last revoke, another number
    of policies), and those whose role holds the team folded into its own documents."""
    for team_id in sorted(set(team_ids)):
        serialise(session, "team", team_id)  # one count of a team's policies at a time, on what is committed
        count = len(team_documents(team_grants(session, team_id)))
        principal = team_principal(team_id)
        mark_changed(session, [principal])
        sync = session.exec(select(RoleSync).where(RoleSync.role_name == principal.role_name)).one()
        session.refresh(sync)
        if sync.policy_count != count:
            reached = team_principals(session, env, [team_id])
        else:
            folded = folded_members(session, team_id)
            reached = [user_principal(env, u) for u in session.exec(select(User).where(col(User.id).in_(folded)))]
        sync.policy_count = count
        session.add(sync)
        session.flush()
        mark_changed(session, reached)


def check_team_fits(
    gatehouse: Gatehouse, session: Session, team_id: int, bucket: str, grants: list[BucketGrant]
) -> None:
    """Refuse, before anything changes, a team's grants on a bucket that would not fit in the policies a team's grants
    are written to (at most GATEHOUSE_MANAGED_POLICY_QUOTA of them: PolicyTooLarge names the limit)."""
    others = [g for g in team_grants(session, team_id) if g.bucket != bucket]
    team_documents([*others, *grants], gatehouse.settings.managed_policy_quota)


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
            team_id=principal.team_id,
            state=SyncState.PENDING,
            attempts=0,
            policy_count=0,
            changed_at=now,
        )
        session.exec(  # type: ignore[call-overload]
            update(RoleSync)
            .where(col(RoleSync.role_name) == principal.role_name)
            .values(state=SyncState.PENDING, changed_at=now)
        )


def all_principals(session: Session, env: str) -> list[Principal]:
    """Every role Gatehouse writes, and every team's policies (teams first: a role attaches what they make)."""
    users = session.exec(select(User)).all()
    apps = session.exec(select(App)).all()
    team_ids = set(session.exec(select(Team.id))) | set(
        session.exec(select(RoleSync.team_id).where(col(RoleSync.team_id).is_not(None)))
    )
    teams = [team_principal(t) for t in sorted(t for t in team_ids if t is not None)]
    return teams + [user_principal(env, u) for u in users] + [app_principal(env, a) for a in apps]


def mark_all_changed(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        mark_changed(session, all_principals(session, gatehouse.settings.env))


def check_fits(gatehouse: Gatehouse, session: Session, user: User, bucket: str, grants: list[BucketGrant]) -> None:
    """Refuse, before anything changes, grants on a bucket that would not fit in the room IAM leaves Gatehouse on the
    user's role (others' inline and managed policies count against the same quotas)."""
    principal = user_principal(gatehouse.settings.env, user)
    others = [g for g in own_grants(session, principal) if g.bucket != bucket]
    try:
        live = gatehouse.aws.read_role_policies(principal.role_name)
    except AwsError:
        live = LivePolicies(role_exists=False)  # AWS unreachable: the whole quota; the sync says if others took some
    teams = member_teams(session, user.id or 0)
    role_layout([*others, *grants], teams, live, gatehouse.settings.managed_policy_quota)
