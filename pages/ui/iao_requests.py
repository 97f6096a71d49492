"""The information asset owner's requests to approve (issue #29): those an admin approved."""

import streamlit as st

from core.adapters.models import User
from core.context import Gatehouse


def requests_to_approve(gh: Gatehouse, me: User) -> None:
    st.subheader("Requests to approve")
    st.caption("No request is waiting for you.")  # filled in by the two-step approval's work
