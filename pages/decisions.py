"""Deciding requests, the same wherever requests are decided (Admin, Confirmations, Platform): the request's card,
the queue's page as one table with the one request to decide now, and one form with Approve and Refuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import MAX_REASON, format_paths
from core.reads.approval import approval_effect
from core.reads.page import Page
from core.reads.queues import RequestView
from pages import cached
from pages.markup import bold, literal, table
from pages.widgets import act, day, decide_one, moment, pager


def request_card(request: RequestView) -> None:
    """Who asks for what and why: the same words wherever a request is decided."""
    st.markdown(
        f"{bold(request.requester)} asks for **{request.level.label.lower()}** access to {bold(request.source)} "
        f"({literal(format_paths(request.paths))})"
        + (f", until {day(request.expires_on)}" if request.expires_on else "")
    )
    st.caption(f"Asked {moment(request.created_at)}")
    st.text(request.business_need)  # their own words, exactly as written


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


def decision_form(
    gh: Gatehouse,
    me: User,
    request: RequestView,
    approve: str,
    approving: Callable[[Any, str], Any],
    approved: Callable[[Any], str],
    refused: str,
    fields: Callable[[], Any] = lambda: None,
    *,
    grants: bool = True,
) -> None:
    """One form to decide a request, the same wherever requests are decided: the approver's own fields (`fields`:
    what it returns is what was chosen, `(level, paths, end date)` or None for as asked), what approving does in AWS
    (`grants`: said from the policy compiler's documents before and after, redrawn as the fields change), the reason
    the requester is told (needed to refuse; optional to approve, when the approval grants), and the two buttons side
    by side. On approval, `approving(chosen, reason)` acts and `approved(chosen)` is the sentence shown."""
    chosen = fields()  # outside the form: each change redraws what approving would do
    if grants:
        level, paths, until = chosen or (request.level, "\n".join(request.paths), request.expires_on)
        effect = cached.read(approval_effect, gh.settings, me, request.id, level, paths, until)
        st.markdown("**What approving does in AWS**")
        st.text("\n".join(effect))  # paths and names as text
    with st.form(f"decide-{request.id}"):
        reason = st.text_area(
            "Reason" if grants else "Reason for refusing",
            key=f"reason-{request.id}",
            max_chars=MAX_REASON,
            help="The requester reads it. Needed to refuse; "
            + ("optional to approve: say why if you grant less than asked. " if grants else "not needed to confirm. ")
            + f"At most {MAX_REASON:,} characters.",
        )
        with st.container(horizontal=True):
            approve_clicked = st.form_submit_button(literal(approve), type="primary")
            refuse_clicked = st.form_submit_button("Refuse")
    if approve_clicked:
        act(gh, lambda: approving(chosen, reason if grants else ""), approved(chosen))
    if refuse_clicked:
        act(gh, lambda: actions.refuse_request(gh, me, request.id, reason), refused)


if __name__ == "__main__":  # Streamlit's old multipage app runs every file in pages/ as a page: this is not one
    st.switch_page("app.py")
