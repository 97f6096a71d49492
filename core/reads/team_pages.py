"""What the pages need of teams beyond the picker and the access lists (`reads/teams.py`, `reads/catalog.py`): the
teams a member may ask for (those they are in), and whom a team named on a request reaches."""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.adapters.models import Team, TeamMember, User
from core.queries import get_team
from core.reads.teams import reach
from core.rules import is_active


def my_teams(session: Session, user: User) -> list[str]:
    """The names of the teams the member is in, by name (none once they have left): those they may ask for."""
    if not is_active(user):
        return []
    return list(
        session.exec(
            select(Team.name)
            .join(TeamMember, col(TeamMember.team_id) == Team.id)
            .where(TeamMember.user_id == user.id)
            .order_by(Team.name)
        )
    )


def team_reach(session: Session, name: str) -> tuple[str, ...]:
    """The active members a team's grant reaches, by username (a request made for it, before it is decided; like
    the pickers' names, what any member may read)."""
    team = get_team(session, name)
    return reach(session, [team.id or 0])[team.id or 0].members
