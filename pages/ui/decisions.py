"""Deciding requests, the same wherever requests are decided (Admin, Confirmations, Platform): the request's card,
the queue's page as one table with the one request to decide now, and Approve, Refuse and Ask a question, each in its
own tab, under the questions already asked and their answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import MAX_REASON, AccessLevel, format_paths
from core.paths import Paths
from core.reads.approval import approval_effect
from core.reads.page import Page
from core.reads.queues import RequestView
from pages.ui import cached, questions_view, team_access
from pages.ui.markup import bold, literal, table
from pages.ui.widgets import act, day, decide_one, end_date, lazy_tabs, moment, pager, paths_field

QUEUE_PAGE = 10  # requests a page of a queue (one is decided at a time, its forms the only ones drawn)


def request_card(request: RequestView) -> None:
    """Who asks for what and why: the same words wherever a request is decided."""
    st.markdown(
        f"{bold(request.requester)} asks for **{request.level.label.lower()}** access to {bold(request.source)} "
        f"({literal(format_paths(request.paths))})"
        + (f", until {day(request.expires_on)}" if request.expires_on else "")
    )
    st.caption(f"Asked {moment(request.created_at)}")
    team_access.request_for_team(request)  # asked for a team: whom approving reaches (issue #28)
    st.text(request.business_need)  # their own words, exactly as written


@dataclass(frozen=True)
class Decider:
    """How a queue's requests are decided (see `decision_form`): the Approve tab's label and its action
    (`approving(request, terms, reason)`), the sentence said after each decision, and what the approver may change
    (`adjustable`) or is shown (`grants`: what approving does in AWS; `note`: a line under the request)."""

    approve: str
    approving: Callable[[RequestView, Terms, str], Any]
    approved: Callable[[RequestView, Terms], str]
    refused: Callable[[RequestView], str]
    adjustable: bool = False
    grants: bool = True
    note: Callable[[RequestView], str] | None = None


def decide_queue(
    gh: Gatehouse,
    me: User,
    read: Callable[..., Page[RequestView]],
    key: str,
    decider: Decider,
    *,
    heading: str | None,
    empty: str,
    size: int = QUEUE_PAGE,
) -> None:
    """A queue of requests waiting for me (Admin, Platform, Confirmations), the same everywhere: its heading with
    how many wait (none: the page's title says it), a page of them as one table, and the one request to decide now
    with its card and its decision form. `read(me, offset=, limit=)` is the queue's read in core."""
    queue = cached.read_page(read, me, key=f"{key}-page", size=size)
    if heading is not None:
        st.subheader(f"{literal(heading)} ({queue.total:,})")
    if not queue.total:
        (st.caption if heading is not None else st.info)(literal(empty))  # under a heading, a line; alone, a box
    questions_view.asked_by_me(me)  # asked about, they left the queue until answered (issue #29)
    request = request_queue(queue, f"{key}-page", size, f"{key}-decide")
    if request is None:
        return
    with st.container(border=True):
        request_card(request)
        if decider.note is not None:
            st.caption(literal(decider.note(request)))
        decision_form(
            gh,
            me,
            request,
            decider.approve,
            lambda terms, reason: decider.approving(request, terms, reason),
            lambda terms: decider.approved(request, terms),
            decider.refused(request),
            adjustable=decider.adjustable,
            grants=decider.grants,
        )


def request_queue(queue: Page[RequestView], page_key: str, size: int, decide_key: str) -> RequestView | None:
    """A page of a request queue: its table, the pager that turns it (`read_page(…, key=page_key)`), and the one
    request to decide now."""
    requests_table(queue.items)
    pager(queue.total, size, page_key, what="requests")
    return decide_one(queue.items, decide_key, describe_request)


def requests_table(requests: list[RequestView]) -> None:
    if not requests:
        return
    st.markdown(
        table(
            ["Requester", "Access", "Data source", "Paths", "Asked"],
            [[r.requester, r.level.label, bold(r.source), format_paths(r.paths), day(r.created_at)] for r in requests],
        )
    )


def describe_request(request: RequestView) -> str:
    return f"{request.requester}: {request.level.label.lower()} on {request.source} ({format_paths(request.paths)})"


@dataclass(frozen=True)
class Terms:
    """What an approver grants: a level, paths (as asked, or the text the approver typed, which core reads), an end
    date."""

    level: AccessLevel
    paths: Paths | str
    until: date | None

    @staticmethod
    def asked(request: RequestView) -> Terms:
        """What was asked; at the information asset owner's step, what the admin approved (issue #29)."""
        if request.approved_terms is not None:
            return Terms(*request.approved_terms)
        return Terms(request.level, request.paths, request.expires_on)


def decision_form(
    gh: Gatehouse,
    me: User,
    request: RequestView,
    approve: str,
    approving: Callable[[Terms, str], Any],
    approved: Callable[[Terms], str],
    refused: str,
    *,
    adjustable: bool = False,
    grants: bool = True,
    ask: bool = True,
) -> None:
    """Deciding a request, the same wherever requests are decided: Approve and Refuse in tabs of their own, each with
    its own fields and button, so that the reason a refusal needs never reads as needed to approve; only the open
    tab is built (Approve, until Refuse is clicked). Above them, the questions asked about the request and their
    answers, as text; beside them (`ask`), Ask a question: the requester answers before the decision.

    Approve: the approver's terms (`adjustable`: level, paths and end date, at most as asked; else as asked),
    what approving does in AWS (`grants`: said from the policy compiler's documents before and after, redrawn as the
    terms change), and an optional reason when the approval grants. What core refuses in the terms is said beside
    each field, all at once, before the click and at it. `approving(terms, reason)` acts and `approved(terms)` is
    the sentence shown. Refuse: the reason the requester reads, and its button."""
    questions_view.thread(me, request.id)
    shows = {  # Refuse's form is built only once its tab is opened: most requests are approved
        approve: lambda: _approve(gh, me, request, approve, approving, approved, adjustable, grants),
        "Refuse": lambda: _refuse(gh, me, request, refused),
    }
    if ask:
        shows["Ask a question"] = lambda: questions_view.ask_form(gh, me, request)
    lazy_tabs(shows, f"decision-{request.id}")


def _approve(
    gh: Gatehouse,
    me: User,
    request: RequestView,
    approve: str,
    approving: Callable[[Terms, str], Any],
    approved: Callable[[Terms], str],
    adjustable: bool,
    grants: bool,
) -> None:
    terms, slots = _terms(request) if adjustable else (Terms.asked(request), {})
    if grants:
        effect = cached.read(approval_effect, gh.settings, me, request.id, terms.level, terms.paths, terms.until)
        for name, problem in effect.problems.items():
            slots.get(name, st).error(literal(problem))
        if effect.next_step:  # personal data: the admin's approval sends it to the information asset owner
            st.info(literal(effect.next_step))
        if effect.changes:
            st.markdown("**What approving does in AWS**")
            st.text("\n".join(effect.changes))  # paths and names as text
    with st.form(f"approve-{request.id}", border=False):
        reason = ""
        if grants:
            reason = st.text_area(
                "Reason (optional)",
                key=f"approve-reason-{request.id}",
                max_chars=MAX_REASON,
                help="The requester reads it: say why if you grant less than asked. "
                f"At most {MAX_REASON:,} characters.",
            )
            slots["reason"] = st.empty()
        approve_clicked = st.form_submit_button(literal(approve), type="primary")
    if approve_clicked:  # an approval that sends the request on says so (core's `next_step`), else the page's words
        said = approved(terms)
        act(gh, lambda: approving(terms, reason), lambda done: getattr(done, "next_step", None) or said, slots)


def _refuse(gh: Gatehouse, me: User, request: RequestView, refused: str) -> None:
    with st.form(f"refuse-{request.id}", border=False):
        why = st.text_area(
            "Reason for refusing",
            key=f"reason-{request.id}",
            max_chars=MAX_REASON,
            help=f"The requester reads it. At most {MAX_REASON:,} characters.",
        )
        if st.form_submit_button("Refuse"):
            act(gh, lambda: actions.refuse_request(gh, me, request.id, why), refused)


def _terms(request: RequestView) -> tuple[Terms, dict[str, Any]]:
    """The approver's fields, each with the slot under it where what core refuses in it is said: at most the level
    asked for, on the paths asked for or fewer, ending no later than asked."""
    bound = Terms.asked(request)  # at most what was asked (or, at the owner's step, what the admin approved)
    levels = [lvl for lvl in AccessLevel if lvl.rank <= bound.level.rank]
    level = st.selectbox(
        "Grant", levels, index=len(levels) - 1, format_func=lambda lvl: lvl.label, key=f"lvl-{request.id}"
    )
    slots = {"level": st.empty()}
    paths = paths_field(
        "On paths",
        f"paths-{request.id}",
        "Fewer paths than asked is fine; empty is the whole bucket, only if the whole bucket was asked for.",
        bound.paths if isinstance(bound.paths, Paths) else request.paths,
    )
    slots["paths"] = st.empty()
    until = end_date(f"until-{request.id}", bound.until, asked=bound.until)
    slots["until"] = st.empty()
    return Terms(level, paths, until), slots
