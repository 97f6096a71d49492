"""The requester answers the question a decider asked about their request (issue #29): the request returns to where
it stood when asked, and to the asker; when the asker can no longer decide it (they left, or are no longer its
admin), to whoever decides it there now."""

from __future__ import annotations

from sqlmodel import Session, col, select

from core import audit
from core.access import changing_access
from core.actions.deciding import send_on, step
from core.actor import acting
from core.adapters.models import AccessRequest, DataSource, RequestQuestion, RequestStatus, User, utcnow
from core.context import Gatehouse
from core.domain import MAX_QUESTION, InvalidInput, check_text
from core.notify import NotificationKind, notify
from core.queries import deciders, load_request, may_decide
from core.rules import asked_for, check_answerer


def answer_question(gatehouse: Gatehouse, actor: User, request_id: int, answer: str) -> None:
    """Only the requester answers, only while the request waits for the answer; if the answer races a withdrawal
    (or anything else that moves the request), one wins and the other is refused in one sentence."""
    answer = check_text(answer, "answer", MAX_QUESTION)
    if not answer:
        raise InvalidInput("Type your answer to the question.")
    with gatehouse.session() as session:
        actor = acting(session, actor)
        request = load_request(session, request_id)
        source = session.get(DataSource, request.source_id)
        assert source is not None
        changing_access(session, source)  # its turn, as every move of a request on the source takes
        session.refresh(request)
        check_answerer(actor, request).enforce()
        question = open_question(session, request_id)
        if question is None:  # pending-answer is only ever reached by asking: never expected
            raise InvalidInput("This request waits for no answer: it has moved on since.")
        step(session, request, RequestStatus(question.returns_to), actor)
        question.answer, question.answered_at = answer, utcnow()
        session.add(question)
        asked = asked_for(request.level, source.name, request.paths)
        asker = session.get(User, question.asked_by_id)
        audit.record(
            session,
            actor.username,
            "request-question-answered",
            f"{actor.username} answered "
            + (f"{asker.username}'s" if asker else "the")
            + f" question about their request for {asked}: {answer}",
            source_id=source.id,
            subject=actor.username,
            request_id=request.id,
            after={"status": request.status},
        )
        _tell(session, actor, request, asker, question, answer, asked)


def open_question(session: Session, request_id: int) -> RequestQuestion | None:
    """The request's question still waiting for its answer (the latest asked)."""
    return session.exec(
        select(RequestQuestion)
        .where(RequestQuestion.request_id == request_id, col(RequestQuestion.answered_at).is_(None))
        .order_by(col(RequestQuestion.id).desc())
    ).first()


def _tell(
    session: Session,
    actor: User,
    request: AccessRequest,
    asker: User | None,
    question: RequestQuestion,
    answer: str,
    asked: str,
) -> None:
    """The asker hears the answer, and is asked to decide again; where they no longer may, whoever decides at that
    step now (or, where nobody is left there, whoever a request made now would wait for: `send_on`)."""
    body = f"You asked: {question.question}\n{actor.username} answered: {answer}"
    subject = f"{actor.username} answered your question about their request"
    if asker is not None and may_decide(session, asker, request).allowed:
        told = [asker]
    else:
        told = deciders(session, request)
        subject = f"{actor.username} answered a question about their request"
        who = asker.username if asker else "A decider"
        body = f"{who} asked: {question.question}\n{actor.username} answered: {answer}"
    stuck = request.status in (RequestStatus.PENDING_ADMIN, RequestStatus.PENDING_LINE_MANAGER)
    if not told and asker is not None and stuck:
        requester_manager = session.get(User, actor.line_manager_id) if actor.line_manager_id else None
        manager = None if request.status == RequestStatus.PENDING_LINE_MANAGER else requester_manager
        send_on(session, actor, request, asker, manager, "can no longer decide it")
        return
    notify(
        session,
        told,
        NotificationKind.QUESTION_ANSWERED,
        subject[:200],
        f"{body}\n\nThe request for {asked} waits for your decision again.",
        request_id=request.id,
    )
