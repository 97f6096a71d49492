"""Gatehouse: sign-in and navigation. Each page is built from the signed-in user's roles."""

from __future__ import annotations

import logging

import streamlit as st

from core.domain import GatehouseError
from core.reads.people import Roles
from pages.ui import running, signin
from pages.ui.markup import bold, literal


def pages_for(roles: Roles, unread: int) -> list[st.Page]:
    """The pages this person's roles open, the inbox last with its unread count."""
    pages = [
        st.Page("pages/my_data.py", title="My data", icon=":material/database:", default=True),
        st.Page("pages/browse.py", title="Browse", icon=":material/folder_open:"),
        st.Page("pages/request_access.py", title="Request access", icon=":material/key:"),
        st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
    ]
    if roles.source_admin:
        pages.append(st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:"))
    if roles.line_manager:
        pages.append(st.Page("pages/confirmations.py", title="Confirmations", icon=":material/how_to_reg:"))
    if roles.iao:
        pages.append(st.Page("pages/personal_data.py", title="Personal data", icon=":material/shield_person:"))
    if roles.platform_admin:
        pages.append(st.Page("pages/platform.py", title="Platform", icon=":material/hub:"))
    inbox = f"Inbox ({unread})" if unread else "Inbox"
    pages.append(st.Page("pages/inbox.py", title=inbox, icon=":material/inbox:", url_path="inbox"))
    return pages


st.set_page_config(page_title="Gatehouse", page_icon=running.ICON, layout="wide")  # shipped with the app
log = logging.getLogger("gatehouse")

try:
    gh = running.gatehouse()
except GatehouseError as error:
    st.error(literal(error))
    st.stop()

actor = signin.sign_in(gh)
st.session_state[signin.ACTOR] = actor
pages = signin.built_once(pages_for, actor.roles, actor.unread)
# Streamlit's own navigation, across the top: one message a rerun, where links drawn in the sidebar were an element
# a page. Not in the sidebar (.streamlit/config.toml: client.showSidebarNavigation = false), where Streamlit would
# list the files in pages/ to whoever opens the app before a run declares its pages.
navigation = st.navigation(pages, position="top")

with st.sidebar:
    st.markdown(f"Signed in as {bold(actor.user.display_name or actor.user.username)} ({literal(actor.user.username)})")
    signin.sign_out_button(actor)

try:
    navigation.run()
except GatehouseError as error:
    st.error(literal(error))
except Exception:
    log.exception("Unexpected error on %s", navigation.title)
    st.error(
        "Gatehouse hit an unexpected error and logged it: try again, or tell the platform team if it happens again."
    )
