"""Inbox: what Gatehouse told me — requests to decide, decisions, confirmations, access about to end."""

import streamlit as st

from core import notify
from pages import ui

PAGE_SIZE = 10

gh = ui.gatehouse()
me = ui.actor().user

st.title("Inbox")
page_number = st.session_state.get("inbox-page", 0)
page = ui.read(notify.inbox, me, offset=page_number * PAGE_SIZE, limit=PAGE_SIZE)
if not page.items:
    st.info("Nothing here yet.")
for item in page.items:
    marker = "" if item.read_at else ":blue-badge[new] "
    body = "  \n".join(ui.escape(line) for line in item.body.splitlines())
    # one element a notification: a page of them draws as fast as one
    st.container(border=True).markdown(
        f"{marker}**{ui.escape(item.subject)}**  \n:gray[{item.created_at:%d %b %Y %H:%M} UTC]\n\n{body}"
    )
shown_unread = [item.id for item in page.items if item.read_at is None and item.id is not None]
if shown_unread:  # seen now: counted as read from the next visit on
    with gh.session() as session:
        notify.mark_read(session, me, shown_unread)
ui.pager(page.total, PAGE_SIZE, "inbox-page", back="Newer", forward="Older")
