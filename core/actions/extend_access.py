"""An extension approved (issue #29): the grant it asked about keeps its level and paths and gets its new end date,
changed in place through the access room (`access.record_change`: audited, its holder told, its role marked), so
that the grant keeps its history. Called by the approval of a request with `extends_grant_id`, in its transaction."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session

from core.access import record_change
from core.adapters.models import AccessRequest, DataSource, Grant, Team, User
from core.domain import InvalidInput, day

if TYPE_CHECKING:
    from core.context import Gatehouse


def grant_extension(
    session: Session,
    gatehouse: Gatehouse,
    actor: User,
    source: DataSource,
    request: AccessRequest,
    ends: date | None,
) -> dict[str, str]:
    """Move the grant's end date to `ends` (the approver's, no later than asked); returns the role to sync, as
    `record_change` does. The grant gone (ended, revoked) meanwhile: one sentence, nothing changed."""
    gone = InvalidInput(f"The access this extension was asked for has ended since: {source.name} needs a new request.")
    grant = session.get(Grant, request.extends_grant_id) if request.extends_grant_id is not None else None
    if grant is None or grant.source_id != source.id:
        raise gone
    if grant.expires_on is not None and ends is not None and ends <= grant.expires_on:
        raise InvalidInput(
            f"The access already lasts until {day(grant.expires_on)}: an extension ends later (or not at all)."
        )
    holder: User | Team | None = (
        session.get(Team, grant.team_id) if grant.team_id is not None else session.get(User, grant.user_id)
    )
    if holder is None:
        raise gone
    return record_change(gatehouse, session, actor, source, holder, grant.id or 0, grant.level, grant.paths, ends)
