"""Whoever may decide a request now (an admin, the line manager, the platform team, the information asset owner)
asks the requester a question instead of deciding (issue #29): the request waits for the answer (pending-answer),
then returns to where it stood, and to the asker."""

from __future__ import annotations

from core.actions.deciding import deciding
from core.adapters.models import RequestQuestion, RequestStatus, User
from core.context import Gatehouse
from core.domain import MAX_QUESTION, InvalidInput, check_text
from core.notify import NotificationKind


def ask_question(gatehouse: Gatehouse, actor: User, request_id: int, question: str) -> None:
    """Refused in one sentence, changing nothing, when the question is empty or too long, or the actor may not
    decide the request as it stands (`queries.may_decide`: nobody asks while it already waits for an answer)."""
    question = check_text(question, "question", MAX_QUESTION)
    if not question:
        raise InvalidInput("Type the question the requester is to answer.")
    with deciding(gatehouse, actor, request_id, RequestStatus.PENDING_ANSWER) as decision:
        assert decision.was is not None
        request, who, source, requester = decision.request, decision.actor, decision.source, decision.requester
        asking = RequestQuestion(
            request_id=request.id or 0, asked_by_id=who.id or 0, question=question, returns_to=decision.was
        )
        decision.session.add(asking)
        asked = f"{request.level.label.lower()} access to {source.name} ({request.paths})"
        decision.record(
            "request-question-asked",
            f"{who.username} asked {requester.username} a question about their request for {asked}: {question}",
            [requester],
            NotificationKind.ANSWER_NEEDED,
            f"Your request for {source.name} needs your answer",
            f"{who.username} asks you a question about your request for {asked} before deciding it:\n{question}\n\n"
            "Answer it in Request access → My requests (or here in your inbox): the request waits for your answer.",
            asks=True,
            after={"status": RequestStatus.PENDING_ANSWER.value, "returns_to": decision.was.value},
        )
