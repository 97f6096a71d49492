"""Teams holding access, made through core directly while the team's own actions (grant to a team, its CLI and pages)
are written elsewhere: each helper changes the database in one unit of work and calls the hook an action calls
(`access.mark_team_changed` for a team's grants, `access.mark_changed` on a member's role for a membership), so that
what follows is the real after-commit sync to AWS."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select

from core import access
from core.adapters.models import DataSource, Grant, Team, TeamMember, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel
from core.effects import applied
from core.iam_sync import SyncOutcome
from core.paths import Paths


def make_team(gatehouse: Gatehouse, name: str, usernames: list[str] = ()) -> int:  # type: ignore[assignment]
    with gatehouse.session() as session:
        team = Team(name=name)
        session.add(team)
        session.flush()
        users = session.exec(select(User).where(col(User.username).in_(list(usernames)))).all()
        for user in users:
            session.add(TeamMember(team_id=team.id or 0, user_id=user.id or 0))
        return team.id or 0


def grant_team(
    gatehouse: Gatehouse, team_id: int, source: str, level: AccessLevel, paths: str = ""
) -> list[SyncOutcome]:
    """A grant to the team beside its others on the source (whose paths must not overlap), and the team's hook."""
    with gatehouse.session() as session:
        found = session.exec(select(DataSource).where(DataSource.name == source)).one()
        wanted = Paths.given(paths or None, source)
        access.check_team_fits(
            gatehouse, session, team_id, source, [*_on(session, team_id, found), _bg(found, level, wanted)]
        )
        now = utcnow()
        session.add(
            Grant(source_id=found.id or 0, team_id=team_id, level=level, paths=wanted, created_at=now, updated_at=now)
        )
        session.flush()
        access.mark_team_changed(session, gatehouse.settings.env, [team_id])
    return applied(session)


def change_team_level(gatehouse: Gatehouse, team_id: int, source: str, level: AccessLevel) -> list[SyncOutcome]:
    with gatehouse.session() as session:
        found = session.exec(select(DataSource).where(DataSource.name == source)).one()
        for grant in session.exec(select(Grant).where(Grant.team_id == team_id, Grant.source_id == found.id)):
            grant.level, grant.updated_at = level, utcnow()
            session.add(grant)
        session.flush()
        access.mark_team_changed(session, gatehouse.settings.env, [team_id])
    return applied(session)


def revoke_team(gatehouse: Gatehouse, team_id: int, source: str) -> list[SyncOutcome]:
    with gatehouse.session() as session:
        found = session.exec(select(DataSource).where(DataSource.name == source)).one()
        session.exec(delete(Grant).where(col(Grant.team_id) == team_id, col(Grant.source_id) == found.id))  # type: ignore[call-overload]
        access.mark_team_changed(session, gatehouse.settings.env, [team_id])
    return applied(session)


def join(gatehouse: Gatehouse, team_id: int, username: str) -> list[SyncOutcome]:
    with gatehouse.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        session.add(TeamMember(team_id=team_id, user_id=user.id or 0))
        session.flush()
        access.mark_changed(session, [access.user_principal(gatehouse.settings.env, user)])
    return applied(session)


def leave(gatehouse: Gatehouse, team_id: int, username: str) -> list[SyncOutcome]:
    with gatehouse.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        session.exec(delete(TeamMember).where(col(TeamMember.team_id) == team_id, col(TeamMember.user_id) == user.id))  # type: ignore[call-overload]
        access.mark_changed(session, [access.user_principal(gatehouse.settings.env, user)])
    return applied(session)


def _on(session, team_id: int, source: DataSource) -> list:  # type: ignore[no-untyped-def]
    grants = session.exec(select(Grant).where(Grant.team_id == team_id, Grant.source_id == source.id)).all()
    return [_bg(source, g.level, g.paths) for g in grants]


def _bg(source: DataSource, level: AccessLevel, paths: Paths):  # type: ignore[no-untyped-def]
    from core.policy import BucketGrant

    return BucketGrant(source.name, level, paths, source.kms_key_arn)
