"""Questions asked about a request before deciding it (issue #29): a request's thread of questions and answers, in
the order asked, for its decision card and its requester; and the requests waiting for one's own answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.adapters.models import AccessRequest, DataSource, RequestQuestion, RequestStatus, User
from core.domain import AccessLevel, NotAllowed
from core.paths import Paths
from core.queries import is_active_admin, load_request


@dataclass(frozen=True)
class Exchange:
    """One question and its answer (None while it waits for it)."""

    asked_by: str
    question: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None

    @property
    def as_text(self) -> str:
        """The exchange as plain text, as the requester and decider typed it (shown with st.text)."""
        return f"{self.asked_by} asked: {self.question}\n" + (
            f"Answer: {self.answer}" if self.answer is not None else "(no answer yet)"
        )


@dataclass(frozen=True)
class Waiting:
    """A request that waits for its requester's answer to a question (`asked_by` asked it of `requester`)."""

    request_id: int
    source: str
    level: AccessLevel
    paths: Paths
    asked_by: str
    question: str
    asked_at: datetime
    requester: str = ""


def thread(session: Session, actor: User, request_id: int) -> list[Exchange]:
    """The request's questions and answers, first asked first: for its requester and whoever decides it (its source's
    admins, the line manager, the information asset owner, the platform team), and whoever asked in it."""
    request = load_request(session, request_id)
    rows = session.exec(
        select(RequestQuestion, User.username)
        .join(User, col(User.id) == RequestQuestion.asked_by_id)
        .where(RequestQuestion.request_id == request_id)
        .order_by(col(RequestQuestion.asked_at), col(RequestQuestion.id))
    ).all()
    if not _may_see(session, actor, request, {q.asked_by_id for q, _ in rows}):
        raise NotAllowed("Only the requester and those who decide this request see its questions.")
    return [Exchange(name, q.question, q.asked_at, q.answer, q.answered_at) for q, name in rows]


def _may_see(session: Session, actor: User, request: AccessRequest, askers: set[int]) -> bool:
    if actor.is_platform_admin or actor.id in {request.requester_id, request.line_manager_id, *askers}:
        return True
    source = session.get(DataSource, request.source_id)
    return source is not None and (actor.id == source.iao_id or is_active_admin(session, actor, source))


def waiting_for_my_answer(session: Session, user: User) -> list[Waiting]:
    """My requests that wait for my answer, each with its open question, oldest first."""
    asker = aliased(User)
    rows = _unanswered(session, asker, asker.id == RequestQuestion.asked_by_id, AccessRequest.requester_id == user.id)
    return [Waiting(r.id or 0, source, r.level, r.paths, name, q.question, q.asked_at) for r, source, q, name in rows]


def asked_by_me(session: Session, user: User) -> list[Waiting]:
    """The requests that wait for their requester's answer to my question, oldest first (they return to me then)."""
    requester = aliased(User)
    rows = _unanswered(
        session, requester, requester.id == AccessRequest.requester_id, RequestQuestion.asked_by_id == user.id
    )
    return [
        Waiting(r.id or 0, source, r.level, r.paths, user.username, q.question, q.asked_at, name)
        for r, source, q, name in rows
    ]


def _unanswered(session: Session, person: Any, named_by: Any, mine: Any) -> list[Any]:
    """Requests waiting for an answer with their open question, and the username of `person` (joined `named_by`),
    those of them that are `mine`, oldest question first."""
    return list(
        session.exec(
            select(AccessRequest, DataSource.name, RequestQuestion, person.username)
            .join(DataSource, col(DataSource.id) == AccessRequest.source_id)
            .join(RequestQuestion, col(RequestQuestion.request_id) == AccessRequest.id)
            .join(person, named_by)
            .where(
                mine,
                AccessRequest.status == RequestStatus.PENDING_ANSWER,
                col(RequestQuestion.answered_at).is_(None),
            )
            .order_by(col(RequestQuestion.asked_at), col(RequestQuestion.id))
        ).all()
    )
