"""Teams as those who grant access see them: the team picker (each team with how many active members it reaches), and
who a team's grants reach (its active members, and whether AWS has applied the grant to each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.adapters.models import RoleSync, SyncState, Team, TeamMember, User, UserStatus
from core.reads.page import Page, fetch
from core.rules import check_not_left


@dataclass(frozen=True)
class TeamChoice:
    name: str
    members: int  # its active members: whom a grant to it reaches


def team_choices(session: Session, actor: User, search: str = "", limit: int | None = 50) -> Page[TeamChoice]:
    """Teams by name, searched and cut in the database, each with its count of active members (a team picker)."""
    check_not_left(actor, " and can no longer use Gatehouse").enforce()
    active = (
        select(func.count())
        .select_from(TeamMember)
        .join(User, col(User.id) == TeamMember.user_id)
        .where(TeamMember.team_id == Team.id, User.status == UserStatus.ACTIVE)
        .correlate(Team)
        .scalar_subquery()
    )
    query = select(Team.name, active)
    if search.strip():
        query = query.where(func.lower(Team.name).contains(search.strip().lower()))
    rows, total = fetch(session, query, (Team.name,), 0, limit)
    return Page([TeamChoice(name, int(count)) for name, count in rows], total, 0, limit or total)


@dataclass(frozen=True)
class Reach:
    """Whom a team's grants reach: its active members, by username, and when AWS last applied each one's role."""

    members: tuple[str, ...]
    applied_at: tuple[datetime | None, ...]  # index by index with members; None: not applied (pending or failed)

    @property
    def roles_applied(self) -> bool:
        """Has AWS applied every member's role as it now is (their team's policies attached, or folded in)? A change
        of the team's grants alone is a new version of its policies (the team's own sync), not of their roles."""
        return all(at is not None for at in self.applied_at)


def reach(session: Session, team_ids: list[int]) -> dict[int, Reach]:
    """Whom each of these teams reaches, in one query."""
    if not team_ids:
        return {}
    rows = session.exec(
        select(TeamMember.team_id, User.username, RoleSync.state, RoleSync.applied_at)
        .join(User, col(User.id) == TeamMember.user_id)
        .outerjoin(RoleSync, col(RoleSync.user_id) == User.id)
        .where(col(TeamMember.team_id).in_(team_ids), User.status == UserStatus.ACTIVE)
        .order_by(User.username)
    ).all()
    found: dict[int, tuple[list[str], list[datetime | None]]] = {t: ([], []) for t in team_ids}
    for team_id, username, state, applied_at in rows:
        found[team_id][0].append(username)
        found[team_id][1].append(applied_at if state == SyncState.APPLIED else None)
    return {t: Reach(tuple(names), tuple(at)) for t, (names, at) in found.items()}
