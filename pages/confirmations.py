"""Confirmations: a line manager confirms requests of their reports for sources whose admins have all left."""

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.reads import queues
from pages.ui import cached, decisions, running, signin, widgets

PAGE_SIZE = 10


def confirmations(gh: Gatehouse, me: User) -> None:
    st.title("Confirmations")
    widgets.flash()
    st.caption(
        "When every admin of a data source has left, a request for it needs its requester's line manager to confirm "
        "the business need; the platform team then grants it."
    )
    waiting = cached.read_page(queues.awaiting_confirmation, me, key="confirm-page", size=PAGE_SIZE)
    if not waiting.total:
        st.info("No request is waiting for your confirmation.")
    request = decisions.request_queue(waiting, "confirm-page", PAGE_SIZE, "confirm-request")
    if request is None:
        return
    with st.container(border=True):
        decisions.request_card(request)
        decisions.decision_form(
            gh,
            me,
            request,
            "Confirm the business need",
            lambda _, __: actions.confirm_request(gh, me, request.id),
            lambda _: f"Confirmed: {request.requester}'s request now goes to the platform team.",
            f"Refused {request.requester}'s request.",
            grants=False,  # confirming grants nothing: the platform team grants it next
        )


gh = running.gatehouse()
actor = signin.actor()
signin.require(actor.roles.line_manager, "line managers")
confirmations(gh, actor.user)
