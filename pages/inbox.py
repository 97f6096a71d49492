"""Inbox: what Gatehouse told me — requests to decide (with where each stands now), decisions, confirmations, access
granted, changed, revoked or ended."""

import streamlit as st

from core import notify
from core.adapters.models import User
from core.context import Gatehouse
from pages.ui import cached, questions_view, reviews_view, running, signin, widgets
from pages.ui.markup import literal

PAGE_SIZE = 10


def inbox(gh: Gatehouse, me: User) -> None:
    st.title("Inbox")
    widgets.flash()
    questions_view.answers_to_give(me)  # a decider asked me a question about my request (issue #29): answered there
    reviews_view.holder_questions(gh, me)  # an access review asks whether I still need my access
    messages(gh, me)


def messages(gh: Gatehouse, me: User) -> None:
    """A page of what Gatehouse told me, newest first; the unread ones shown count as read from the next visit on."""
    page_number = st.session_state.get("inbox-page", 0)
    page = cached.read(notify.inbox, me, offset=page_number * PAGE_SIZE, limit=PAGE_SIZE)
    standing = cached.read(notify.standings, me, tuple(item.id for item in page.items if item.id is not None))
    if not page.items:
        st.info("Nothing here yet.")
    for item in page.items:
        # A message is a box headed by its subject (an expander: one element where a bordered box and a heading in it
        # were two, at every rerun), its body in it as plain text: it quotes what people wrote (a business need, a
        # reason), shown exactly as written.
        with st.expander(
            f"{'' if item.read_at else ':blue-badge[new] '}**{literal(item.subject)}** · "
            f":gray[{widgets.moment(item.created_at)}]",
            expanded=True,
        ):
            if item.id in standing:  # the request it asks about, as it stands now: nobody decides what is settled
                st.markdown(f"**{literal(standing[item.id])}**")
            st.text(item.body)
    shown_unread = [item.id for item in page.items if item.read_at is None and item.id is not None]
    if shown_unread:  # seen now: counted as read from the next visit on
        gh.run(notify.mark_read, me, shown_unread)
    widgets.pager(page.total, PAGE_SIZE, "inbox-page", back="Newer", forward="Older")


gh = running.gatehouse()
inbox(gh, signin.actor().user)
