"""Confirmations: a line manager confirms requests of their reports for sources whose admins have all left."""

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.reads import queues
from pages.ui import decisions, running, signin, widgets


def confirmations(gh: Gatehouse, me: User) -> None:
    st.title("Confirmations")
    widgets.flash()
    st.caption(
        "When every admin of a data source has left, a request for it needs its requester's line manager to confirm "
        "the business need; the platform team then grants it."
    )
    decisions.decide_queue(
        gh,
        me,
        queues.awaiting_confirmation,
        "confirm-queue",
        decisions.Decider(
            "Confirm the business need",
            lambda request, _, __: actions.confirm_request(gh, me, request.id),
            lambda request, _: f"Confirmed: {request.requester}'s request now goes to the platform team.",
            lambda request: f"Refused {request.requester}'s request.",
            grants=False,  # confirming grants nothing: the platform team grants it next
        ),
        heading=None,
        empty="No request is waiting for your confirmation.",
    )


gh = running.gatehouse()
actor = signin.actor()
signin.require(actor.roles.line_manager, "line managers")
confirmations(gh, actor.user)
