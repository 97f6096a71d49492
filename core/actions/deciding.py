"""What every decision on an access request does, said once: in one unit of work, load who decides and the request
as the database says now, check the step and that this person may take it, move the request (exactly one decision
wins if two deciders race), then record the event and tell who must know. approve_request, refuse_request and
confirm_request each add only what is theirs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Update, update
from sqlmodel import Session, col

from core import audit
from core.access import changing_access
from core.actor import acting
from core.adapters.models import AccessRequest, DataSource, RequestStatus, User, utcnow
from core.context import Gatehouse
from core.domain import InvalidInput
from core.notify import NotificationKind, moved_on, notify
from core.queries import load_request, may_decide, platform_team
from core.rules import check_access_may_change, check_decision_step, check_transition, is_active, route_request


@dataclass
class Deciding:
    """A request being decided, in the decision's own transaction."""

    session: Session
    actor: User
    request: AccessRequest
    source: DataSource
    requester: User
    was: RequestStatus | None = None  # where the request stood before this step (a question returns it there)

    def record(
        self,
        action: str,
        summary: str,
        told: list[User],
        kind: NotificationKind,
        subject: str,
        body: str,
        *,
        asks: bool = False,
        **details: Any,
    ) -> None:
        """The decision's audit event and its notification, in the same transaction as the decision. `asks`: the
        notification asks its readers to decide the request next (their inbox then shows where it stands)."""
        audit.record(
            self.session,
            self.actor.username,
            action,
            summary,
            source_id=self.source.id,
            subject=self.requester.username,
            request_id=self.request.id,
            **details,
        )
        notify(self.session, told, kind, subject, body, request_id=self.request.id if asks else None)

    def take(self, new: RequestStatus) -> None:
        """Take the step to `new` (one decision wins), before the caller changes the request further."""
        step(self.session, self.request, new, self.actor)


@contextmanager
def deciding(gatehouse: Gatehouse, actor: User, request_id: int, new: RequestStatus) -> Iterator[Deciding]:
    """Open the decision's unit of work and take the step to `new`; what the caller adds commits with it, or none
    of it does."""
    with deciding_on(gatehouse, actor, request_id, new) as decided:
        decided.take(new)
        yield decided


@contextmanager
def deciding_on(gatehouse: Gatehouse, actor: User, request_id: int, new: RequestStatus) -> Iterator[Deciding]:
    """`deciding`, but the caller takes the step (`Deciding.take`) once it knows where it goes: an approval of
    personal data goes to the information asset owner (pending-iao) or grants (approved), as its terms say. The
    checks are `new`'s, and those of the step taken."""
    with decision(gatehouse, actor) as (session, actor):
        request = load_request(session, request_id)
        source = session.get(DataSource, request.source_id)
        requester = session.get(User, request.requester_id)
        assert source is not None and requester is not None
        # Decisions take their turn with every other change of the source's access (always the source first, then
        # the request: never the other way round, which could deadlock with archiving), and then read it again.
        changing_access(session, source)
        session.refresh(request)
        was = RequestStatus(request.status)
        check_decision_step(was, new).enforce(InvalidInput)
        may_decide(session, actor, request).enforce()
        if new in (RequestStatus.APPROVED, RequestStatus.PENDING_PLATFORM):  # steps towards access
            check_access_may_change(source.name, source.archived_at).enforce(InvalidInput)
        yield Deciding(session, actor, request, source, requester, was)


@contextmanager
def decision(gatehouse: Gatehouse, actor: User) -> Iterator[tuple[Session, User]]:
    """Every decision's unit of work (on an access request, on a webapp source asked for), with who decides as the
    database says now: what the decision writes commits together, or none of it does."""
    with gatehouse.session() as session:
        yield session, acting(session, actor)


def one_decision_wins(session: Session, write: Update, lost: str) -> None:
    """The decision's write, `write` made only while the request is as it was read: when another decider moved it
    since, nothing is written and `lost` is said (and the unit of work rolls back)."""
    result = session.exec(write)  # type: ignore[call-overload]
    if result.rowcount != 1:
        raise InvalidInput(lost)


def step(session: Session, request: AccessRequest, new: RequestStatus, actor: User) -> None:
    """Take one allowed step, only if nobody else moved the request since we read it (optimistic version); the
    deciders who were asked about it hear that it moved on. An open request may also stay at its step, for someone
    else to decide (`send_on`)."""
    current = RequestStatus(request.status)
    if new is not current or not current.is_open:
        check_transition(current, new).enforce(InvalidInput)
    now = utcnow()
    values: dict[str, Any] = {"status": new, "version": request.version + 1, "updated_at": now}
    if new in (RequestStatus.APPROVED, RequestStatus.REFUSED):
        values |= {"decided_by_id": actor.id, "decided_at": now}
    one_decision_wins(
        session,
        update(AccessRequest)
        .where(col(AccessRequest.id) == request.id, col(AccessRequest.version) == request.version)
        .values(**values),
        "Someone else decided this request a moment ago: reload to see the decision.",
    )
    session.refresh(request)
    moved_on(session, request.id or 0, actor)


def send_on(session: Session, actor: User, request: AccessRequest, gone: User, manager: User | None, why: str) -> None:
    """A request that waited for `gone` goes where a request made now would (`route_request`): to `manager` (the
    requester's line manager now, or None) to confirm, or else to the platform team. The new decider is asked, and
    the requester told where it waits now. `why` says why `gone` no longer decides it, of the requester's side
    ("has left", "is no longer {their} line manager": {their} becomes "their" or "your")."""
    requester = session.get(User, request.requester_id)
    source = session.get(DataSource, request.source_id)
    if requester is None or source is None:
        return
    route = route_request(
        source_has_active_admins=False, line_manager_active=None if manager is None else is_active(manager)
    )
    step(session, request, route, actor)  # first: it reads the request again
    if route is RequestStatus.PENDING_LINE_MANAGER and manager is not None:
        request.line_manager_id, deciders, kind = manager.id, [manager], NotificationKind.CONFIRMATION_NEEDED
        now_waits = f"your line manager, {manager.username}, to confirm it"
    else:
        request.no_line_manager, deciders, kind = True, platform_team(session), NotificationKind.REQUEST_TO_DECIDE
        now_waits = "the platform team"
    session.add(request)
    asked = f"{request.level.label.lower()} access to {source.name} ({request.paths})"
    audit.record(
        session,
        actor.username,
        "request-moved-on",
        f"{requester.username}'s request for {asked} waited for {gone.username}, who {why.format(their='their')}; "
        "it now waits for "
        + ("the requester's line manager" if kind is NotificationKind.CONFIRMATION_NEEDED else "the platform team"),
        source_id=source.id,
        subject=requester.username,
        request_id=request.id,
        after={"status": route.value},
    )
    notify(
        session,
        deciders,
        kind,
        f"{requester.username} asks for access to {source.name}",
        f"{requester.username} asks for {asked}; {gone.username}, who was to decide it, {why.format(their='their')}."
        f"\nBusiness need: {request.business_need}",
        request_id=request.id,
    )
    notify(
        session,
        [requester],
        NotificationKind.REQUEST_MOVED,
        f"Your request for {source.name} now waits for {now_waits.split(',')[0]}",
        f"{gone.username}, who was to decide your request for {asked}, {why.format(their='your')}: it now waits for "
        f"{now_waits}.",
    )
