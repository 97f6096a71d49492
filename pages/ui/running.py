"""The one Gatehouse a Streamlit process runs: started at the first page view, shared by every session after."""

from __future__ import annotations

import base64
from pathlib import Path

import streamlit as st

from core import preview_worker
from core.context import Gatehouse
from core.startup import start

# The app's icon ships with it: a :material/…: page icon is fetched from Google's servers, which a platform without
# internet access cannot reach. As a data URL, read once a process: given its path, Streamlit would read, hash and
# store the file again at every rerun of every page.
ICON = "data:image/png;base64," + base64.b64encode(
    (Path(__file__).resolve().parents[2] / ".streamlit" / "gatehouse.png").read_bytes()
).decode("ascii")


@st.cache_resource(show_spinner="Starting Gatehouse…")
def gatehouse() -> Gatehouse:
    preview_worker.prepare()  # the first preview need not wait for the fork server
    return start()
