"""The grants of a person's that end (their own and their teams'), for My data's "ask to extend" (issue #29), and
whether an extension is asked for already."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from core.adapters.models import AccessRequest, DataSource, Grant, Team, User, utcnow
from core.domain import AccessLevel
from core.paths import Paths
from core.queries import open_request, teams_of


@dataclass(frozen=True)
class EndingGrant:
    grant_id: int
    source: str
    level: AccessLevel
    paths: Paths
    expires_on: date
    team: str | None  # held through this team
    asked: bool  # an extension (or another request for the source) is open already


def ending_grants(session: Session, user: User, limit: int = 20) -> list[EndingGrant]:
    """The person's live grants with an end date, the soonest `limit` first: their own and their teams', read in two
    queries, each on its holder's index (one OR of the two read every grant that ends, on SQLite: 150 ms at scale)."""
    today = utcnow().date()

    def held(holder: Any) -> list[Any]:
        return list(
            session.exec(
                select(Grant, DataSource.name, Team.name)
                .join(DataSource, col(DataSource.id) == Grant.source_id)
                .outerjoin(Team, col(Team.id) == Grant.team_id)
                .where(holder, col(Grant.expires_on) >= today, col(DataSource.archived_at).is_(None))
                .order_by(col(Grant.expires_on), DataSource.name, col(Grant.id))
                .limit(limit)
            ).all()
        )

    rows = held(Grant.user_id == user.id) + held(col(Grant.team_id).in_(teams_of(user.id)))
    rows = sorted(rows, key=lambda row: (row[0].expires_on, row[1], row[0].id))[:limit]
    sources = {g.source_id for g, _, _ in rows}
    asked = set(
        session.exec(
            select(AccessRequest.source_id).where(
                AccessRequest.requester_id == user.id, col(AccessRequest.source_id).in_(sources), open_request()
            )
        ).all()
    )
    return [
        EndingGrant(g.id or 0, name, g.level, g.paths, g.expires_on, team, g.source_id in asked)  # type: ignore[arg-type]
        for g, name, team in rows
    ]
