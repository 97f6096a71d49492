"""Time-limited access: holders and admins are told a few days before the end; on the end date's passing the
grant goes, in the database and in IAM. Run by `gatehouse expire` (for a scheduler) and when the app starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import col, select

from core import audit
from core.access import mark_changed, user_principal
from core.adapters.models import DataSource, Grant, User, utcnow
from core.context import Gatehouse
from core.domain import day
from core.effects import applied
from core.notify import NotificationKind, notify
from core.queries import active_admins, live_grant


@dataclass
class ExpiryReport:
    warned: list[str] = field(default_factory=list)  # "user on source, ends DATE"
    expired: list[str] = field(default_factory=list)  # "user on source"
    sync_errors: list[str] = field(default_factory=list)


def expire(gatehouse: Gatehouse, today: date | None = None) -> ExpiryReport:
    """A grant with an end date is valid through that day; the next day it is revoked. Safe to run any number of
    times, from several processes: each warning is sent once and each expiry happens once."""
    today = today or utcnow().date()
    report = ExpiryReport()
    horizon = today + timedelta(days=gatehouse.settings.expiry_warning_days)
    with gatehouse.session() as session:
        ending = session.exec(
            select(Grant, User, DataSource)
            .join(User, col(User.id) == Grant.user_id)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(
                col(Grant.expires_on).is_not(None),
                col(Grant.expires_on) <= horizon,
                col(Grant.expiry_warned_at).is_(None),
                *live_grant(today),
            )
            .with_for_update(skip_locked=True, of=Grant)
        ).all()
        admins = active_admins(session, list({s.id or 0 for _, _, s in ending}))
        admin_users = _users(session, {name for names in admins.values() for name in names})
        for grant, holder, source in ending:
            grant.expiry_warned_at = utcnow()
            session.add(grant)
            level = grant.level.label.lower()
            on = f"{source.name} ({grant.paths})" if grant.paths else source.name  # which grant
            notify(
                session,
                [holder],
                NotificationKind.ACCESS_ENDING,
                f"Your access to {source.name} ends soon",
                f"Your {level} access to {on} ends on {day(grant.expires_on)}. "
                "If you still need it, ask an admin of the source to extend it.",
            )
            notify(
                session,
                [admin_users[a] for a in admins.get(source.id or 0, []) if a != holder.username],
                NotificationKind.ACCESS_ENDING,
                f"{holder.username}'s access to {source.name} ends soon",
                f"{holder.username}'s {level} access to {on} ends on {day(grant.expires_on)}.",
            )
            report.warned.append(f"{holder.username} on {source.name}, ends {day(grant.expires_on)}")

    with gatehouse.session() as session:
        passed = session.exec(
            select(Grant, User, DataSource)
            .join(User, col(User.id) == Grant.user_id)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(col(Grant.expires_on) < today)
            .with_for_update(skip_locked=True, of=Grant)
        ).all()
        for grant, holder, source in passed:
            session.delete(grant)
            audit.record(
                session,
                audit.SYSTEM,
                "access-expired",
                f"{holder.username}'s {grant.level.label.lower()} access to {source.name} ended on "
                f"{day(grant.expires_on)}",
                source_id=source.id,
                subject=holder.username,
                before={
                    "level": grant.level.value,
                    "paths": list(grant.paths),
                    "expires_on": str(grant.expires_on),
                },
            )
            notify(
                session,
                [holder],
                NotificationKind.ACCESS_ENDED,
                f"Your access to {source.name} has ended",
                f"Your {grant.level.label.lower()} access to {source.name} "
                + (f"({grant.paths}) " if grant.paths else "")
                + f"ended on {day(grant.expires_on)}.",
            )
            report.expired.append(f"{holder.username} on {source.name}")
        principals = {user_principal(gatehouse.settings.env, holder) for _, holder, _ in passed}
        mark_changed(session, principals)
    outcomes = applied(session)
    report.sync_errors = [f"{o.role_name}: {o.error}" for o in outcomes if o.error]
    return report


def _users(session, usernames: set[str]) -> dict[str, User]:  # type: ignore[no-untyped-def]
    if not usernames:
        return {}
    return {u.username: u for u in session.exec(select(User).where(col(User.username).in_(usernames)))}
