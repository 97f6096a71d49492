"""Time-limited access: holders and admins are told a few days before the end; on the end date's passing the
grant goes, in the database and in IAM. Run by `gatehouse expire` (for a scheduler) and when the app starts; the
scheduler's run also closes open requests nobody moved for GATEHOUSE_REQUEST_MAX_AGE_DAYS (`close_stale`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from core import audit
from core.access import audit_subject, mark_changed, mark_team_changed, user_principal
from core.actions.close_stale import close_stale
from core.adapters.models import DataSource, Grant, Team, User, utcnow
from core.context import Gatehouse
from core.domain import day
from core.effects import applied
from core.notify import NotificationKind, notify
from core.queries import active_admins, holder_name, live_grant, team_members


@dataclass
class ExpiryReport:
    warned: list[str] = field(default_factory=list)  # "user on source, ends DATE"
    expired: list[str] = field(default_factory=list)  # "user on source"
    sync_errors: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)  # "alice's request for source": stale, closed


def expire(gatehouse: Gatehouse, today: date | None = None, *, close_requests: bool = True) -> ExpiryReport:
    """A grant with an end date is valid through that day; the next day it is revoked. Safe to run any number of
    times, from several processes: each warning is sent once and each expiry happens once. `close_requests`: stale
    requests close too (the scheduler's run; the app's start leaves them to it, so that its report counts them)."""
    today = today or utcnow().date()
    report = ExpiryReport()
    horizon = today + timedelta(days=gatehouse.settings.expiry_warning_days)
    with gatehouse.session() as session:
        ending = session.exec(
            select(Grant, User, Team, DataSource)
            .outerjoin(User, col(User.id) == Grant.user_id)
            .outerjoin(Team, col(Team.id) == Grant.team_id)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(
                col(Grant.app_id).is_(None),  # a member's or a team's
                col(Grant.expires_on).is_not(None),
                col(Grant.expires_on) <= horizon,
                col(Grant.expiry_warned_at).is_(None),
                *live_grant(today),
            )
            .with_for_update(skip_locked=True, of=Grant)
        ).all()
        admins = active_admins(session, list({s.id or 0 for *_, s in ending}))
        admin_users = _users(session, {name for names in admins.values() for name in names})
        for grant, user, team, source in ending:
            grant.expiry_warned_at = utcnow()
            session.add(grant)
            level = grant.level.label.lower()
            on = f"{source.name} ({grant.paths})" if grant.paths else source.name  # which grant
            told, yours, name = _holder(session, user, team)
            notify(
                session,
                told,
                NotificationKind.ACCESS_ENDING,
                f"{yours.capitalize()} access to {source.name} ends soon",
                f"{yours.capitalize()} {level} access to {on} ends on {day(grant.expires_on)}. "
                "If you still need it, ask to extend it on My data (a new end date, and why).",
            )
            notify(
                session,
                [admin_users[a] for a in admins.get(source.id or 0, []) if a != name],
                NotificationKind.ACCESS_ENDING,
                f"{name}'s access to {source.name} ends soon",
                f"{name}'s {level} access to {on} ends on {day(grant.expires_on)}.",
            )
            report.warned.append(f"{name} on {source.name}, ends {day(grant.expires_on)}")

    with gatehouse.session() as session:
        passed = session.exec(
            select(Grant, User, Team, DataSource)
            .outerjoin(User, col(User.id) == Grant.user_id)
            .outerjoin(Team, col(Team.id) == Grant.team_id)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(col(Grant.app_id).is_(None), col(Grant.expires_on) < today)
            .with_for_update(skip_locked=True, of=Grant)
        ).all()
        for grant, user, team, source in passed:
            session.delete(grant)
            told, yours, name = _holder(session, user, team)
            audit.record(
                session,
                audit.SYSTEM,
                "access-expired",
                f"{name}'s {grant.level.label.lower()} access to {source.name} ended on {day(grant.expires_on)}",
                source_id=source.id,
                subject=audit_subject(team or user),
                before={
                    "level": grant.level.value,
                    "paths": list(grant.paths),
                    "expires_on": str(grant.expires_on),
                },
            )
            notify(
                session,
                told,
                NotificationKind.ACCESS_ENDED,
                f"{yours.capitalize()} access to {source.name} has ended",
                f"{yours.capitalize()} {grant.level.label.lower()} access to {source.name} "
                + (f"({grant.paths}) " if grant.paths else "")
                + f"ended on {day(grant.expires_on)}.",
            )
            report.expired.append(f"{name} on {source.name}")
        mark_changed(session, {user_principal(gatehouse.settings.env, u) for _, u, _, _ in passed if u is not None})
        mark_team_changed(session, gatehouse.settings.env, {t.id or 0 for _, _, t, _ in passed if t is not None})
    outcomes = applied(session)
    report.sync_errors = [f"{o.role_name}: {o.error}" for o in outcomes if o.error]
    if close_requests:
        now = utcnow()
        report.closed = close_stale(gatehouse, now + (today - now.date()))  # counted to `today`, at this time of day
    return report


def _holder(session: Session, user: User | None, team: Team | None) -> tuple[list[User], str, str]:
    """Whom an ending grant's news is for (a member, or a team's active members), how they are spoken to ("your",
    "the prisons team's"), and how others name the holder."""
    if team is not None:
        return team_members(session, [team.id or 0]), f"the {team.name} team's", holder_name(team)
    assert user is not None
    return [user], "your", user.username


def _users(session, usernames: set[str]) -> dict[str, User]:  # type: ignore[no-untyped-def]
    if not usernames:
        return {}
    return {u.username: u for u in session.exec(select(User).where(col(User.username).in_(usernames)))}
