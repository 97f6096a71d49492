"""The one Gatehouse a Streamlit process runs: started at the first page view, shared by every session after."""

from __future__ import annotations

import streamlit as st

from core.context import Gatehouse
from core.startup import start


@st.cache_resource(show_spinner="Starting Gatehouse…")
def gatehouse() -> Gatehouse:
    return start()


if __name__ == "__main__":  # Streamlit's old multipage app runs every file in pages/ as a page: this is not one
    st.switch_page("app.py")
