"""Questions before deciding (issue #29), on the pages: a request's thread on its decision card with the form that asks
(beside Approve and Refuse), and, for a requester, their requests that need their answer, each with its question and
the form that answers it. What people typed is shown as text (st.text), never Markdown."""

from __future__ import annotations

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import MAX_QUESTION, format_paths, plural
from core.reads import questions
from core.reads.queues import RequestView
from pages.ui import cached, widgets
from pages.ui.markup import bold, literal


def thread(me: User, request_id: int) -> None:
    """The questions asked about a request and their answers, first asked first (nothing when none was asked)."""
    exchanges = cached.read(questions.thread, me, request_id)
    if not exchanges:
        return
    st.markdown("**Questions and answers**")
    st.text("\n\n".join(e.as_text for e in exchanges))  # their own words, exactly as written


def asked_by_me(me: User) -> None:
    """The requests I asked a question about, waiting for their requesters' answers: one line under the queue."""
    waiting = cached.read(questions.asked_by_me, me)
    if waiting:
        st.caption(
            literal(
                "Waiting for an answer to your question: "
                + "; ".join(
                    f"{w.requester}'s request for {w.source} (asked {widgets.moment(w.asked_at)})" for w in waiting
                )
                + ". Each returns here once answered."
            )
        )


def ask_form(gh: Gatehouse, me: User, request: RequestView) -> None:
    """Ask the requester a question instead of deciding: the request waits for their answer, then returns here."""
    with st.form(f"ask-{request.id}", border=False):
        question = st.text_area(
            "Your question",
            key=f"question-{request.id}",
            max_chars=MAX_QUESTION,
            help=literal(
                f"{request.requester} reads it and answers; the request waits until then, and then returns to you. "
                f"At most {MAX_QUESTION:,} characters."
            ),
        )
        if st.form_submit_button("Ask"):
            widgets.act(
                gh,
                lambda: actions.ask_question(gh, me, request.id, question),
                f"Asked {request.requester}: the request waits for their answer.",
            )


def answers_to_give(me: User) -> None:
    """On the Inbox: that questions wait for my answer, and where I answer them (one element: the Inbox draws at
    every rerun; each question's message below says "Needs your answer")."""
    waiting = cached.read(questions.waiting_for_my_answer, me)
    if waiting:
        st.page_link(
            "pages/request_access.py",
            label=literal(
                f"{plural(len(waiting), 'question')} about your requests "
                f"{'waits' if len(waiting) == 1 else 'wait'} for your answer: answer under Request access → My requests"
            ),
            icon=":material/question_answer:",
        )


def needs_my_answer(gh: Gatehouse, me: User) -> None:
    """My requests that wait for my answer: each one box with who asked what (the decider's words, as text) and a
    form to answer it. Six elements a question: the Inbox draws it at every rerun."""
    waiting = cached.read(questions.waiting_for_my_answer, me)
    for item in waiting:
        with st.container(border=True):
            st.markdown(
                f"**Needs your answer** · your request for {bold(item.source)} · {literal(item.level.label)} · "
                f"{literal(format_paths(item.paths))}  \n"
                f"{literal(item.asked_by)} asked {literal(widgets.moment(item.asked_at))}:"
            )
            st.text(item.question)  # the decider's own words
            with st.form(f"answer-{item.request_id}", border=False):
                answer = st.text_area(
                    "Your answer",
                    key=f"answer-text-{item.request_id}",
                    max_chars=MAX_QUESTION,
                    help=literal(
                        f"{item.asked_by} reads it; the request then waits for their decision again. "
                        f"At most {MAX_QUESTION:,} characters."
                    ),
                )
                if st.form_submit_button("Send answer", type="primary"):
                    widgets.act(
                        gh,
                        lambda i=item, a=answer: actions.answer_question(gh, me, i.request_id, a),
                        f"Answer sent: your request for {item.source} waits for {item.asked_by}'s decision again.",
                    )
