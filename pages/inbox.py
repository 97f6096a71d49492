"""Inbox: what Gatehouse told me — requests to decide, decisions, confirmations, access about to end."""

import streamlit as st

from core import notify
from pages import ui

gh = ui.gatehouse()
me = ui.actor().user

st.title("Inbox")
page_number = st.session_state.get("inbox-page", 0)
with gh.session() as session:
    page = notify.inbox(session, me, offset=page_number * 20, limit=20)
if not page.items:
    st.info("Nothing here yet.")
for item in page.items:
    with st.container(border=True):
        marker = "" if item.read_at else ":blue-badge[new] "
        st.markdown(f"{marker}**{ui.escape(item.subject)}**")
        st.caption(f"{item.created_at:%d %b %Y %H:%M} UTC")
        st.text(item.body)
shown_unread = [item.id for item in page.items if item.read_at is None and item.id is not None]
if shown_unread:  # seen now: counted as read from the next visit on
    with gh.session() as session:
        notify.mark_read(session, me, shown_unread)
ui.pager(page.total, 20, "inbox-page", back="Newer", forward="Older")
