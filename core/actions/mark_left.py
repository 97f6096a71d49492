"""A leaver: all their access is revoked in IAM; their grants stay on record (as a leaver's) for the audit, they are
taken out of their teams, and the sources they alone administered are orphaned (their requests go to line managers,
then the platform team). Nothing waits for a leaver: requests that waited for them as a source's last admin, or as a
line manager, move on to whoever decides them now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from core import audit
from core.access import mark_changed, user_principal
from core.actions.deciding import send_on, step
from core.actions.provision_team import leave_teams
from core.actor import acting
from core.adapters.db import serialise
from core.adapters.models import AccessRequest, DataSource, Grant, RequestStatus, User, UserStatus, utcnow
from core.adapters.review_models import ReviewCampaign, ReviewItem
from core.context import Gatehouse
from core.domain import InvalidInput
from core.effects import applied
from core.notify import NotificationKind, notify
from core.queries import active_admins, administered_by, get_user, open_request, platform_team, reaches, users_named
from core.rules import asked_for, check_platform_admin
from core.rules.reviews import REVIEWABLE_STATES, ReviewDecision


@dataclass(frozen=True)
class Departure:
    username: str
    orphaned_sources: list[str]  # sources they were the only active admin of
    sync_error: str | None  # None: AWS has already applied it

    @property
    def aws_pending(self) -> str | None:
        return self.sync_error

    @property
    def outcome(self) -> str:
        """What happened, in one sentence that is true in AWS."""
        if self.sync_error:
            return (
                f"{self.username} has left; removing their access in AWS is pending ({self.sync_error}): "
                "Gatehouse retries, and reconcile repairs it."
            )
        return f"{self.username} has left; all their access is revoked in AWS."


@dataclass(frozen=True)
class Leaving:
    """What marking someone as having left will do, said before the platform team confirms."""

    username: str  # as stored
    sources: list[str]  # the live sources they have access to: all of it is revoked
    orphaned: list[str]  # of them, those they are the only active admin of


def leaving(session: Session, actor: User, username: str) -> Leaving:
    """Who would be marked as having left, and what they lose; refused in one sentence when they cannot be."""
    actor = acting(session, actor)
    check_platform_admin(actor).enforce()
    user, held, administered = _leaver(session, actor, username)
    remaining = active_admins(session, [s.id for s in administered if s.id is not None], without=user)
    return Leaving(
        user.username,
        sorted(s.name for s in held),
        sorted(s.name for s in administered if not [a for a in remaining.get(s.id or 0, []) if a != user.username]),
    )


def _leaver(
    session: Session, actor: User, username: str, *, lock: bool = False
) -> tuple[User, Sequence[DataSource], Sequence[DataSource]]:
    """The member `username` names, who may be marked as having left, with the live sources they have access to and
    those they administer. `lock`: a grant to them being made now commits first, or sees them gone."""
    if not username.strip():
        raise InvalidInput("Type the username of the person who has left.")
    user = get_user(session, username)
    if lock:
        # The sources they administer take this turn first (in one order), as every change of their access does, then
        # the member: a team made admin of one at this moment is there before they go, or sees them gone.
        for (source_id,) in sorted(session.execute(administered_by(user.id or 0)).all()):
            serialise(session, "source", source_id)
        session.refresh(user, with_for_update=True)
    if user.status == UserStatus.LEFT:
        raise InvalidInput(f"{user.username} is already marked as having left.")
    if actor.id is not None and actor.id == user.id:
        raise InvalidInput("You cannot mark yourself as having left.")
    administered = session.exec(  # theirs, or through a team (not an external's, never an admin)
        select(DataSource).where(
            col(DataSource.id).in_(administered_by(user.id or 0)), col(DataSource.archived_at).is_(None)
        )
    ).all()
    held = session.exec(  # theirs, or through a team: all of it ends
        select(DataSource)
        .join(Grant, col(Grant.source_id) == DataSource.id)
        .where(reaches(user), col(DataSource.archived_at).is_(None))
        .distinct()
    ).all()
    return user, held, administered


def mark_left(gatehouse: Gatehouse, actor: User, username: str) -> Departure:
    """A leaver: all their access is revoked in IAM; their grants stay on record (as a leaver's) for the audit."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        user, held, administered = _leaver(session, actor, username, lock=True)
        user.status = UserStatus.LEFT
        user.left_at = utcnow()
        session.add(user)
        session.flush()
        admins = active_admins(session, [s.id for s in held if s.id is not None])  # held: all they administered too
        orphaned = sorted(s.name for s in administered if not admins.get(s.id or 0))
        owned = _owned(session, user)
        mark_changed(session, [user_principal(gatehouse.settings.env, user)])
        audit.record(
            session,
            actor.username,
            "user-left",
            f"{actor.username} marked {user.username} as having left; all their access is revoked"
            + (f"; now orphaned: {', '.join(orphaned)}" if orphaned else "")
            + (f"; information asset owner of {', '.join(s.name for s in owned)}" if owned else ""),
            subject=user.username,
            orphaned=orphaned,
            **({"iao_of": [s.name for s in owned]} if owned else {}),
        )
        _close_requests(session, actor, user)
        _move_on_requests(session, actor, user, [s for s in administered if s.name in orphaned])
        _end_review_items(session, actor, user)
        _tell_admins(session, actor, user, held, admins)
        _tell_of_owned(session, actor, user, owned)
        leave_teams(gatehouse, session, actor, user)  # a team's access is not a leaver's (issue #28)
        leaver = user.username  # as stored: the role is named after it, never after the text as typed
    outcome = applied(session)
    return Departure(leaver, orphaned, next((o.error for o in outcome if o.error), None))


def _close_requests(session: Session, actor: User, user: User) -> None:
    """A leaver's open requests are refused: nobody is left asked to decide them (they could not be granted)."""
    for request, source in session.exec(
        select(AccessRequest, DataSource)
        .join(DataSource, col(DataSource.id) == AccessRequest.source_id)
        .where(AccessRequest.requester_id == user.id, open_request())
    ).all():
        step(session, request, RequestStatus.REFUSED, actor)
        request.decision_reason = f"{user.username} has left."
        session.add(request)
        audit.record(
            session,
            actor.username,
            "request-refused",
            f"{user.username}'s request for {asked_for(request.level, source.name, request.paths)} was "
            "refused: they have left",
            source_id=request.source_id,
            subject=user.username,
            request_id=request.id,
        )


def _end_review_items(session: Session, actor: User, leaver: User) -> None:
    """The leaver's grants still to review in open access reviews are settled as ended (their holder left): nothing is
    left to review, so no reviewer's progress counts them as waiting, and the due date revokes nothing."""
    session.exec(  # type: ignore[call-overload]
        update(ReviewItem)
        .where(
            col(ReviewItem.user_id) == leaver.id,
            or_(col(ReviewItem.decision).is_(None), col(ReviewItem.decision) == ReviewDecision.FLAGGED.value),
            col(ReviewItem.campaign_id).in_(
                select(ReviewCampaign.id).where(col(ReviewCampaign.state).in_(REVIEWABLE_STATES))
            ),
        )
        .values(
            decision=ReviewDecision.ENDED.value,
            decided_by=actor.username,
            decided_at=utcnow(),
            reason=f"{leaver.username} has left",
            after={},
        )
    )


def _move_on_requests(session: Session, actor: User, leaver: User, orphaned: Sequence[DataSource]) -> None:
    """Requests that waited for the leaver go where a request made now would (`route_request`): those for a source
    they were the last admin of, to the requester's line manager or the platform team; those that waited for them as
    a line manager, to the platform team. Each new decider is asked, and the requester told where it waits now."""
    waiting_for_admins = (
        session.exec(
            select(AccessRequest).where(
                col(AccessRequest.source_id).in_([s.id for s in orphaned]),
                AccessRequest.status == RequestStatus.PENDING_ADMIN,
            )
        ).all()
        if orphaned
        else []
    )
    waiting_for_manager = session.exec(
        select(AccessRequest).where(
            AccessRequest.line_manager_id == leaver.id, AccessRequest.status == RequestStatus.PENDING_LINE_MANAGER
        )
    ).all()
    for request in [*waiting_for_admins, *waiting_for_manager]:
        requester = session.get(User, request.requester_id)
        manager = session.get(User, requester.line_manager_id) if requester and requester.line_manager_id else None
        if request.status == RequestStatus.PENDING_LINE_MANAGER:
            manager = None  # the line manager it waited for is the leaver
        send_on(session, actor, request, leaver, manager, "has left")


def _tell_admins(
    session: Session, actor: User, user: User, held: Sequence[DataSource], admins: dict[int, list[str]]
) -> None:
    """Each admin of a source the leaver had access to hears it (but who marked them), once, whatever the number of
    such sources."""
    ended: dict[str, list[str]] = {}
    for source in held:
        for admin in admins.get(source.id or 0, []):
            if admin != actor.username:
                ended.setdefault(admin, []).append(source.name)
    for admin in users_named(session, list(ended)):
        names = ", ".join(sorted(ended[admin.username]))
        notify(
            session,
            [admin],
            NotificationKind.ACCESS_ENDED,
            f"{user.username} has left",
            f"{user.username} has left: their access to {names}, which you administer, has ended.",
        )


def _owned(session: Session, user: User) -> Sequence[DataSource]:
    """The live sources the leaver is the information asset owner of (issue #29)."""
    return session.exec(
        select(DataSource)
        .where(DataSource.iao_id == user.id, col(DataSource.archived_at).is_(None))
        .order_by(DataSource.name)
    ).all()


def _tell_of_owned(session: Session, actor: User, user: User, owned: Sequence[DataSource]) -> None:
    """A leaving information asset owner: each source's admins are asked to name a new one; the requests that waited
    for them are the platform team's until then (`rules.check_may_act_as_iao`), and the platform team is told."""
    if not owned:
        return
    admins = active_admins(session, [s.id for s in owned if s.id is not None])
    for source in owned:
        notify(
            session,
            [a for a in users_named(session, admins.get(source.id or 0, [])) if a.id != actor.id],
            NotificationKind.SOURCE_CLASSIFIED,
            f"{source.name} needs a new information asset owner",
            f"{user.username}, the information asset owner of {source.name}, has left: name a new one (Admin, Manage "
            "access, Personal data). Until then the platform team takes their steps.",
        )
    waiting = session.exec(
        select(AccessRequest, DataSource.name)
        .join(DataSource, col(DataSource.id) == AccessRequest.source_id)
        .where(
            col(AccessRequest.source_id).in_([s.id for s in owned]), AccessRequest.status == RequestStatus.PENDING_IAO
        )
        .order_by(col(AccessRequest.id))
    ).all()
    deciders = [p for p in platform_team(session) if p.id != actor.id]
    for request, source_name in waiting:
        notify(
            session,
            deciders,
            NotificationKind.REQUEST_MOVED,
            f"A request for {source_name} waits for you",
            f"{user.username}, the information asset owner of {source_name}, has left: the platform team decides in "
            "their place the requests that waited for them.",
            request_id=request.id,
        )
