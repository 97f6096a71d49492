"""Archiving a source (its admins or the platform team): every grant on it stops working in IAM, open requests
are refused, the bucket is tagged for archiving; its data and records are kept."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from core import audit
from core.access import app_principal, check_manages, mark_changed, mark_team_changed, user_principal
from core.actor import acting
from core.adapters.aws import AwsError
from core.adapters.models import AccessRequest, App, Grant, RequestStatus, User, utcnow
from core.context import Gatehouse
from core.domain import InvalidInput, plural
from core.effects import applied
from core.notify import NotificationKind, moved_on, notify
from core.queries import get_source, open_request, team_members
from core.rules import check_transition


@dataclass(frozen=True)
class Archived:
    name: str
    errors: list[str]  # AWS's, for what it has not applied yet (grants ending, the archive tag)

    @property
    def aws_pending(self) -> str | None:
        return self.errors[0] if self.errors else None


def archive_source(gatehouse: Gatehouse, actor: User, name: str) -> Archived:
    """Archive a source (its admins or the platform team): every grant on it stops working in IAM, open requests
    are refused, the bucket is tagged for archiving; its data and records are kept."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, name)
        check_manages(session, actor, source)
        if source.archived_at is not None:
            raise InvalidInput(f"{source.name} is already archived.")
        source.archived_at = utcnow()
        source.archived_by_id = actor.id
        session.add(source)
        holders = session.exec(
            select(User).join(Grant, col(Grant.user_id) == User.id).where(Grant.source_id == source.id).distinct()
        ).all()
        apps = session.exec(
            select(App).join(Grant, col(Grant.app_id) == App.id).where(Grant.source_id == source.id)
        ).all()
        teams = list(
            session.exec(
                select(Grant.team_id).where(Grant.source_id == source.id, col(Grant.team_id).is_not(None)).distinct()
            )
        )
        principals = [user_principal(gatehouse.settings.env, u) for u in holders]
        principals += [app_principal(gatehouse.settings.env, a) for a in apps]
        mark_changed(session, principals)
        mark_team_changed(session, gatehouse.settings.env, [t or 0 for t in teams])
        reached = {u.id: u for u in [*holders, *team_members(session, [t or 0 for t in teams])]}
        open_requests = session.exec(
            select(AccessRequest).where(AccessRequest.source_id == source.id, open_request())
        ).all()
        for request in open_requests:
            check_transition(RequestStatus(request.status), RequestStatus.REFUSED).enforce(InvalidInput)
            request.status = RequestStatus.REFUSED
            request.decision_reason = f"{source.name} was archived."
            request.decided_by_id = actor.id
            request.decided_at = utcnow()
            request.version += 1
            session.add(request)
            moved_on(session, request.id or 0, actor)
        audit.record(
            session,
            actor.username,
            "source-archived",
            f"{actor.username} archived {source.name}; {plural(len(principals) + len(teams), 'grant')} stop working"
            + (f", {plural(len(open_requests), 'open request')} refused" if open_requests else ""),
            source_id=source.id,
        )
        notify(
            session,
            [h for h in reached.values() if h.id != actor.id],  # who archived it knows; a team's members are told
            NotificationKind.ACCESS_ENDED,
            f"{source.name} was archived",
            f"{actor.username} archived {source.name}: your access to it has ended. Its data is kept.",
        )
        notify(
            session,
            session.exec(select(User).where(col(User.id).in_([r.requester_id for r in open_requests]))).all(),
            NotificationKind.DECISION_MADE,
            f"Your request for {source.name} was refused",
            f"{actor.username} archived {source.name}: your request for access to it is refused.",
        )
        bucket = source.name
    errors = [o.error for o in applied(session) if o.error]
    try:
        gatehouse.aws.tag_bucket(bucket, {"archive": "true"})
    except AwsError as error:
        errors.append(str(error))
    return Archived(bucket, [e for e in errors if e])
