"""Make AppTest run the app as a Streamlit server does.

A server sees the `pages/` folder at its first run, runs app.py as the main script, and app.py's st.navigation turns
the folder mode off for good. AppTest forgets that before every run, so from the second run on it would run a page
alone, without app.py: no sign-in check, no navigation, no inbox count. These tests are about exactly those.
"""

from __future__ import annotations

from typing import Any

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import app_test


class NavigationPagesManager(PagesManager):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        PagesManager.uses_pages_directory = False
        super().__init__(*args, **kwargs)


app_test.PagesManager = NavigationPagesManager  # type: ignore[misc]
