"""A grant placed among those its holder has on a source (`placed_on_bucket`, after `rules.place_grant`) and recorded
in the caller's transaction, checked first against the rules, the last admin and IAM's room (`record_grant`; a team's:
`record_team_grant`), with its audit text, and its holder's role (a team's policies) marked for the after-commit step
(`mark_holder`); the turn a change of a source's access takes (`changing_access`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session

from core import audit
from core.adapters.db import serialise
from core.adapters.models import DataSource, Grant, Team, User, utcnow
from core.domain import AccessLevel, Classification, ClassificationRule, FieldChecks, InvalidInput, NotFound, day
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.policy import BucketGrant
from core.queries import admins_of, get_user, held, held_grants, holder_name, is_active_admin, team_members
from core.rules import (
    check_access_may_change,
    check_end_date,
    check_keeps_an_admin,
    check_manages_source,
    check_may_hold,
    check_terms,
    place_grant,
)
from core.team_policies import team_grants as team_grants

if TYPE_CHECKING:
    from core.context import Gatehouse
    from core.iam_sync import SyncOutcome
from core.access.roles import check_fits, check_team_fits, mark_changed, mark_team_changed, user_principal


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


def checked_terms(
    paths: Paths | str | None,
    expires_on: date | None,
    source: DataSource | str,
    rules: Mapping[Classification, ClassificationRule] | None = None,
) -> Paths:
    """The paths (made, or text as typed: read here) and end date a person gave to grant or change access, checked
    together: what is wrong in both is refused at once (InvalidFields), each beside its field. Given the source and
    the classifications' rules (`Settings.classification_rules`), what its classification asks too (an end date, not
    too far; named paths). Returns the paths."""
    checks, wanted = FieldChecks(), Paths.WHOLE
    with checks.on("paths"):
        wanted = Paths.given(paths, source if isinstance(source, str) else source.name)
    with checks.on("until"):
        check_end_date(expires_on, utcnow().date()).enforce(InvalidInput)
    if rules is not None and isinstance(source, DataSource):
        check_classified(source, rules, wanted, expires_on, checks)
    checks.enforce()
    return wanted


def check_classified(
    source: DataSource,
    rules: Mapping[Classification, ClassificationRule],
    paths: Paths,
    expires_on: date | None,
    checks: FieldChecks | None = None,
) -> None:
    """What the source's classification asks of access's terms (`rules.check_terms`), each beside its field: into
    `checks`, or refused here (InvalidFields). Every grant and change takes it, as the source is once its turn came."""
    classification = Classification(source.classification)
    own = FieldChecks() if checks is None else checks
    check_terms(classification, rules[classification], paths, expires_on, utcnow().date(), own)
    if checks is None:
        own.enforce()


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
    check_classified(source, gatehouse.settings.classification_rules, paths, expires_on)
    users = list({u.id: u for u in (_grantee(session, name, level, confirm_external) for name in usernames)}.values())
    placed = [_placement(gatehouse, session, actor, source, user, level, paths) for user in users]
    for user, (grants, kept) in zip(users, placed, strict=True):
        new = Grant(source_id=source.id or 0, user_id=user.id, level=level, paths=paths, expires_on=expires_on)
        new.granted_by_id, new.request_id = actor.id, request_id
        _place(session, actor, source, user, grants, kept, new)
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


def record_team_grant(
    gatehouse: Gatehouse,
    session: Session,
    actor: User,
    source: DataSource,
    team: Team,
    level: AccessLevel,
    paths: Paths,
    expires_on: date | None,
    *,
    request_id: int | None = None,
    announce: bool = True,
) -> list[str]:
    """A team's grant recorded as a member's is (`record_grant`), its active members told; returns who it reaches."""
    check_end_date(expires_on, utcnow().date()).enforce(InvalidInput)
    changing_access(session, source)
    check_access_may_change(source.name, source.archived_at).enforce(InvalidInput)
    check_classified(source, gatehouse.settings.classification_rules, paths, expires_on)
    if session.get(Team, team.id, populate_existing=True, with_for_update={"key_share": True}) is None:
        raise NotFound(f"The {team.name} team was deleted a moment ago.")  # its deletion took its turn first
    grants, kept = _placement(gatehouse, session, actor, source, team, level, paths)
    new = Grant(source_id=source.id or 0, team_id=team.id, level=level, paths=paths, expires_on=expires_on)
    new.granted_by_id, new.request_id = actor.id, request_id
    _place(session, actor, source, team, grants, kept, new)
    mark_holder(gatehouse, session, team)
    members = team_members(session, [team.id or 0])
    if announce:
        notify(
            session,
            [m for m in members if m.id != actor.id],
            NotificationKind.ACCESS_CHANGED,
            f"You have {level.label.lower()} access to {source.name} through the {team.name} team",
            f"{actor.username} gave the {team.name} team {level.label.lower()} access to {source.name} ({paths})"
            + (f" until {day(expires_on)}" if expires_on else "")
            + ": you have it as a member of the team.",
        )
    return [m.username for m in members]


def mark_holder(gatehouse: Gatehouse, session: Session, holder: User | Team) -> dict[str, str]:
    """A holder's grants changed: a member's role, or every role a team's grants reach, marked for the after-commit
    step. Returns the role to sync by the member's username (a team's: its name, and no one role)."""
    if isinstance(holder, Team):
        mark_team_changed(session, gatehouse.settings.env, [holder.id or 0])
        return {holder.name: ""}
    principal = user_principal(gatehouse.settings.env, holder)
    mark_changed(session, [principal])
    return {holder.username: principal.role_name}


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
    holder: User | Team,
    level: AccessLevel,
    paths: Paths,
) -> tuple[list[Grant], list[Paths | None]]:
    """Where the new grant goes among the holder's grants on the source (`rules.place_grant`; a member's own, or a
    team's), checked against the rules, the last admin and IAM's room before anything changes."""
    grants = held_grants(session, source, holder, to_change=True)
    yours = isinstance(holder, User) and actor.id is not None and actor.id == holder.id
    kept, decision = place_grant(held(grants), level, paths, holder_name(holder, starts=True), source.name, yours=yours)
    decision.enforce(InvalidInput)
    if level is not AccessLevel.ADMIN and any(
        g.level == AccessLevel.ADMIN and keeps is None for g, keeps in zip(grants, kept, strict=True)
    ):
        keeps_an_admin(session, source, holder, actor)
    placed = placed_on_bucket(source, grants, kept, level, paths)
    if isinstance(holder, Team):
        check_team_fits(gatehouse, session, holder.id or 0, source.name, placed)
    else:
        check_fits(gatehouse, session, holder, source.name, placed)
    return grants, kept


def _place(
    session: Session,
    actor: User,
    source: DataSource,
    holder: User | Team,
    grants: list[Grant],
    kept: list[Paths | None],
    new: Grant,
) -> None:
    """Record the new grant beside what the holder keeps, and the audit event of the change (all their grants on the
    source, before and after; a team's event names the team)."""
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
    summary = f"{actor.username} gave {holder_name(holder)} {level.label.lower()} access to {source.name}"
    summary += f" ({paths})" + (f" until {day(expires_on)}" if expires_on else "")
    audit.record(
        session,
        actor.username,
        "access-granted" if not before else "access-changed",
        summary,
        source_id=source.id,
        subject=audit_subject(holder),
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


def keeps_an_admin(session: Session, source: DataSource, holder: User | Team, actor: User) -> None:
    """The source keeps an admin once `holder` (a member, or a team) holds no admin grant on it."""
    yours = isinstance(holder, User) and actor.id is not None and actor.id == holder.id
    now, after = admins_of(session, source), admins_of(session, source, without=holder)
    check_keeps_an_admin(now, after, holder_name(holder), source.name, yours=yours).enforce(InvalidInput)


def audit_subject(holder: User | Team) -> str:
    """Who an audit event of access is about: a member by username, a team as "team:NAME" (never a username)."""
    return f"team:{holder.name}" if isinstance(holder, Team) else holder.username


def check_manages(session: Session, actor: User, source: DataSource) -> None:
    """The actor manages the source's access, as the database says once this change's turn has come (an admin whose
    admin another admin is revoking at the same moment decides nothing after it)."""
    changing_access(session, source)
    check_manages_source(actor, source.name, admin_of_it=is_active_admin(session, actor, source)).enforce()
