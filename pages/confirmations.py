"""Confirmations: a line manager confirms requests of their reports for sources whose admins have all left."""

import streamlit as st

from core import actions
from core.reads import queues
from pages import ui

PAGE_SIZE = 10

gh = ui.gatehouse()
actor = ui.actor()
ui.require(actor.roles.line_manager, "line managers")
me = actor.user

st.title("Confirmations")
ui.flash()
st.caption(
    "When every admin of a data source has left, a request for it needs its requester's line manager to confirm "
    "the business need; the platform team then grants it."
)
waiting = ui.read_page(queues.awaiting_confirmation, me, key="confirm-page", size=PAGE_SIZE)
if not waiting.total:
    st.info("No request is waiting for your confirmation.")
request = ui.request_queue(waiting, "confirm-page", PAGE_SIZE, "confirm-request")
if request is not None:
    with st.container(border=True):
        ui.request_card(request)
        ui.decision_form(
            gh,
            me,
            request,
            "Confirm the business need",
            lambda _: actions.confirm_request(gh, me, request.id),
            lambda _: f"Confirmed: {request.requester}'s request now goes to the platform team.",
            f"Refused {request.requester}'s request.",
        )
