"""How a grant becomes IAM, in one room: who a role is (`Principal`), how a grant is placed among the grants a person
holds on a source (`placed_on_bucket`, after `rules.place_grant`), which grants a role must reflect
(`desired_grants`) and the documents they make in the room IAM leaves Gatehouse on the role (`role_documents`,
`check_fits`; a member's teams' policies attached there or folded in: core/team_policies.py), and how a grant is
recorded, with its audit text and the role marked for the after-commit step (`record_grant`, `mark_changed`; a
team's: `mark_team_changed`). Grant, change, revoke, approve, review, expiry, archive, leavers and the approval
preview all come here; `iam_sync` writes what this says to AWS, and the adapter only reads and writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from core import audit, effects
from core.adapters.aws import AwsError, LivePolicies
from core.adapters.db import insert_missing, serialise
from core.adapters.models import App, DataSource, Grant, RoleSync, SyncState, Team, TeamMember, User, utcnow
from core.domain import AccessLevel, FieldChecks, InvalidInput, UserStatus, app_role_name, day, user_role_name
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.policy import BucketGrant, RolePolicies
from core.queries import admins_of, get_user, held, held_grants, is_active_admin, live_grant
from core.rules import (
    check_access_may_change,
    check_end_date,
    check_keeps_an_admin,
    check_manages_source,
    check_may_hold,
    place_grant,
)
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
    from core.iam_sync import SyncOutcome


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


def desired_grants(session: Session, principal: Principal, today: date | None = None) -> list[BucketGrant]:
    """The grants IAM must reflect: on live sources, not past their end date, and none for someone who has left; a
    member's own and their teams' (what their role can do: their own documents and their teams' policies)."""
    today = today or utcnow().date()
    query = (
        select(Grant.level, Grant.paths, DataSource.name, DataSource.kms_key_arn)
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .outerjoin(User, col(User.id) == Grant.user_id)
        .where(*live_grant(today))
    )
    if principal.team_id is not None:
        query = query.where(Grant.team_id == principal.team_id)
    elif principal.user_id is not None:
        teams = teams_of(principal.user_id)
        query = query.where(or_(Grant.user_id == principal.user_id, col(Grant.team_id).in_(teams)))
    else:
        query = query.where(Grant.app_id == principal.app_id)
    return [BucketGrant(bucket, level, paths, key) for level, paths, bucket, key in session.exec(query)]


def own_grants(session: Session, principal: Principal, today: date | None = None) -> list[BucketGrant]:
    """The grants a role holds itself (a member's, not their teams'; an app's)."""
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
    return [BucketGrant(bucket, level, paths, key) for level, paths, bucket, key in session.exec(query)]


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


def placed_on_bucket(
    source: DataSource,
    held: Iterable[Grant],
    kept: Iterable[Paths | None],
    level: AccessLevel,
    paths: Paths,
) -> list[BucketGrant]:
    """A person's grants on one source as their role will hold them once a grant of `level` on `paths` is placed
    beside those held: each held grant on the paths it keeps (`rules.place_grant`; None: it goes), and the new one."""
    return [
        BucketGrant(source.name, g.level, keeps, source.kms_key_arn)
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


def checked_terms(paths: Paths | str | None, expires_on: date | None, bucket: str) -> Paths:
    """The paths (made, or text as typed: read here) and end date a person gave to grant or change access, checked
    together: what is wrong in both is refused at once (InvalidFields), each beside its field. Returns the paths."""
    checks, wanted = FieldChecks(), Paths.WHOLE
    with checks.on("paths"):
        wanted = Paths.given(paths, bucket)
    with checks.on("until"):
        check_end_date(expires_on, utcnow().date()).enforce(InvalidInput)
    checks.enforce()
    return wanted


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


def record_grant(
    gatehouse: Gatehouse,
    session: Session,
    actor: User,
    source: DataSource,
    usernames: list[str],
    level: AccessLevel,
    paths: Paths,
    expires_on: date | None,
    *,
    confirm_external: bool = False,
    request_id: int | None = None,
    announce: bool = True,
) -> dict[str, str]:
    """Record grants in the caller's transaction (the caller has decided the actor may); returns the role to sync
    of each member granted, by their username as stored.

    Checks every user and the IAM size quota before changing anything, so a refused grant leaves no trace."""
    check_end_date(expires_on, utcnow().date()).enforce(InvalidInput)
    if not usernames:
        raise InvalidInput("Choose at least one user to grant access to.")
    changing_access(session, source)
    check_access_may_change(source.name, source.archived_at).enforce(InvalidInput)
    users = list({u.id: u for u in (_grantee(session, name, level, confirm_external) for name in usernames)}.values())
    placed = [_placement(gatehouse, session, actor, source, user, level, paths) for user in users]
    for user, (grants, kept) in zip(users, placed, strict=True):
        _place(
            session,
            actor,
            source,
            user,
            grants,
            kept,
            Grant(
                source_id=source.id or 0,
                user_id=user.id,
                level=level,
                paths=paths,
                expires_on=expires_on,
                granted_by_id=actor.id,
                request_id=request_id,
            ),
        )
    principals = [user_principal(gatehouse.settings.env, u) for u in users]
    mark_changed(session, principals)
    if not announce:  # the caller's own message says it (an approval: one message a decision)
        return {u.username: p.role_name for u, p in zip(users, principals, strict=True)}
    notify(
        session,
        [u for u in users if u.id != actor.id],
        NotificationKind.ACCESS_CHANGED,
        f"You have {level.label.lower()} access to {source.name}",
        f"{actor.username} gave you {level.label.lower()} access to {source.name} ({paths})"
        + (f" until {day(expires_on)}." if expires_on else "."),
    )
    return {u.username: p.role_name for u, p in zip(users, principals, strict=True)}


def _grantee(session: Session, username: str, level: AccessLevel, confirm_external: bool) -> User:
    """The member, read as they are once no one else is changing them (locked until this grant commits): a leaver
    being marked as having left at this moment is either gone before the check or leaves after the grant."""
    user = get_user(session, username)
    session.refresh(user, with_for_update=True)
    check_may_hold(user, level).enforce(InvalidInput)
    if user.is_external and not confirm_external:
        raise ExternalNeedsConfirmation(
            f"{user.username} is an external user: confirm that they should have access before granting it."
        )
    return user


def _placement(
    gatehouse: Gatehouse,
    session: Session,
    actor: User,
    source: DataSource,
    user: User,
    level: AccessLevel,
    paths: Paths,
) -> tuple[list[Grant], list[Paths | None]]:
    """Where the new grant goes among the user's grants on the source (`rules.place_grant`), checked against the
    rules, the last admin and IAM's room before anything changes."""
    grants = held_grants(session, source, user, to_change=True)
    yours = actor.id is not None and actor.id == user.id
    kept, decision = place_grant(held(grants), level, paths, user.username, source.name, yours=yours)
    decision.enforce(InvalidInput)
    if level is not AccessLevel.ADMIN and any(
        g.level == AccessLevel.ADMIN and keeps is None for g, keeps in zip(grants, kept, strict=True)
    ):
        keeps_an_admin(session, source, user, actor)
    placed = placed_on_bucket(source, grants, kept, level, paths)
    check_fits(gatehouse, session, user, source.name, placed)
    return grants, kept


def _place(
    session: Session,
    actor: User,
    source: DataSource,
    user: User,
    grants: list[Grant],
    kept: list[Paths | None],
    new: Grant,
) -> None:
    """Record the new grant beside what the user keeps, and the audit event of the change (all their grants on the
    source, before and after)."""
    before = [describe(g) for g in grants]
    now = utcnow()
    for grant, keeps in zip(grants, kept, strict=True):
        if keeps is None:
            session.delete(grant)
        elif keeps != grant.paths:
            grant.paths, grant.updated_at = keeps, now
            session.add(grant)
    new.created_at = new.updated_at = now
    session.add(new)
    after = [describe(g) for g, keeps in zip(grants, kept, strict=True) if keeps is not None] + [describe(new)]
    level, paths, expires_on = new.level, new.paths, new.expires_on
    summary = f"{actor.username} gave {user.username} {level.label.lower()} access to {source.name}"
    summary += f" ({paths})" + (f" until {day(expires_on)}" if expires_on else "")
    audit.record(
        session,
        actor.username,
        "access-granted" if not before else "access-changed",
        summary,
        source_id=source.id,
        subject=user.username,
        request_id=new.request_id,
        before=as_recorded(before),
        after=as_recorded(after),
    )


def as_recorded(described: list[dict[str, object]]) -> dict[str, object] | None:
    """A member's grants on a source as the audit trail keeps them: one grant as itself, several as a list."""
    if not described:
        return None
    return described[0] if len(described) == 1 else {"grants": described}


def describe(grant: Grant) -> dict[str, object]:
    return {
        "level": grant.level.value,
        "paths": list(grant.paths),
        "expires_on": grant.expires_on.isoformat() if grant.expires_on else None,
    }


def changing_access(session: Session, source: DataSource) -> None:
    """Changes of access on one source are made one at a time, each on what the one before left: two grants of one
    person cannot both be placed beside what each read (and overlap), nor two admins each revoke the other (and leave
    the source with none). Taken before reading the grants the rules look at; the source is read again, as it is now
    (archived meanwhile?)."""
    serialise(session, "source", source.id)
    session.refresh(source)


def keeps_an_admin(session: Session, source: DataSource, user: User, actor: User) -> None:
    yours = actor.id is not None and actor.id == user.id
    check_keeps_an_admin(admins_of(session, source), user.username, source.name, yours=yours).enforce(InvalidInput)


def check_manages(session: Session, actor: User, source: DataSource) -> None:
    """The actor manages the source's access, as the database says once this change's turn has come (an admin whose
    admin another admin is revoking at the same moment decides nothing after it)."""
    changing_access(session, source)
    check_manages_source(actor, source.name, admin_of_it=is_active_admin(session, actor, source)).enforce()
