"""The information asset owner's sign-offs (issue #29): data leaving a source, and access review reports."""

import streamlit as st

from core.adapters.models import User
from core.context import Gatehouse


def movements_to_sign(gh: Gatehouse, me: User) -> None:
    st.subheader("Data leaving your sources")
    st.caption("No movement is waiting for your sign-off.")  # filled in by the sign-off's work


def reports_to_sign(gh: Gatehouse, me: User) -> None:
    st.subheader("Access review reports")
    st.caption("No report is waiting for your signature.")  # filled in by the review signature's work
