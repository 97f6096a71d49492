"""Personal data: the information asset owner's screen (issue #29). Requests an admin approved that wait for the owner,
data waiting for their sign-off before it leaves a source, and access review reports to sign."""

import streamlit as st

from core.adapters.models import User
from core.context import Gatehouse
from pages.ui import iao_requests, iao_signoffs, running, signin, widgets


def personal_data(gh: Gatehouse, me: User) -> None:
    st.title("Personal data")
    widgets.flash()
    st.caption(
        "You are the information asset owner of sources that hold personal data: access to them is granted once an "
        "admin and you approve, and data leaves them only once you signed its movement form."
    )
    widgets.lazy_tabs(  # only the open one is built at a rerun: each is a queue of its own
        {
            "Requests to approve": lambda: iao_requests.requests_to_approve(gh, me),
            "Data leaving your sources": lambda: iao_signoffs.movements_to_sign(gh, me),
            "Access review reports": lambda: iao_signoffs.reports_to_sign(gh, me),
        },
        "iao-section",
    )


gh = running.gatehouse()
actor = signin.actor()
signin.require(actor.roles.iao, "information asset owners")
personal_data(gh, actor.user)
