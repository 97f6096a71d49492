"""A leaver: all their access is revoked in IAM; their grants stay on record (as a leaver's) for the audit, and the
sources they alone administered are orphaned (their requests go to line managers, then the platform team)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from core import audit
from core.actions.deciding import move
from core.actor import acting
from core.adapters.models import AccessRequest, DataSource, Grant, RequestStatus, User, UserStatus, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, user_role_name
from core.iam_sync import mark_changed, sync_pending, user_principal
from core.notify import NotificationKind, notify
from core.queries import active_admins, get_user, open_request, users_named
from core.rules import check_platform_admin


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
    admins = active_admins(session, [s.id for s in held if s.id is not None])
    return Leaving(
        user.username,
        sorted(s.name for s in held),
        sorted(s.name for s in administered if admins.get(s.id or 0, []) == [user.username]),
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
        session.refresh(user, with_for_update=True)
    if user.status == UserStatus.LEFT:
        raise InvalidInput(f"{user.username} is already marked as having left.")
    if actor.id is not None and actor.id == user.id:
        raise InvalidInput("You cannot mark yourself as having left.")
    administered = session.exec(
        select(DataSource)
        .join(Grant, col(Grant.source_id) == DataSource.id)
        .where(Grant.user_id == user.id, Grant.level == AccessLevel.ADMIN, col(DataSource.archived_at).is_(None))
    ).all()
    held = session.exec(
        select(DataSource)
        .join(Grant, col(Grant.source_id) == DataSource.id)
        .where(Grant.user_id == user.id, col(DataSource.archived_at).is_(None))
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
        mark_changed(session, [user_principal(gatehouse.settings.env, user)])
        audit.record(
            session,
            actor.username,
            "user-left",
            f"{actor.username} marked {user.username} as having left; all their access is revoked"
            + (f"; now orphaned: {', '.join(orphaned)}" if orphaned else ""),
            subject=user.username,
            orphaned=orphaned,
        )
        _close_requests(session, actor, user)
        _tell_admins(session, actor, user, held, admins)
        leaver = user.username  # as stored: the role is named after it, never after the text as typed
    outcome = sync_pending(gatehouse, [user_role_name(gatehouse.settings.env, leaver)])
    return Departure(leaver, orphaned, next((o.error for o in outcome if o.error), None))


def _close_requests(session: Session, actor: User, user: User) -> None:
    """A leaver's open requests are refused: nobody is left asked to decide them (they could not be granted)."""
    for request in session.exec(
        select(AccessRequest).where(AccessRequest.requester_id == user.id, open_request())
    ).all():
        move(session, request, RequestStatus.REFUSED, actor)
        request.decision_reason = f"{user.username} has left."
        session.add(request)
        audit.record(
            session,
            actor.username,
            "request-refused",
            f"{user.username}'s request {request.id} was refused: they have left",
            source_id=request.source_id,
            subject=user.username,
            request_id=request.id,
        )


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
