"""Creating a data source: a warehouse source of one's own, or a webapp source asked of the platform team. One pair
of forms, on Request access (New data source) and on My data (New data source), where a person looks for their
sources."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import MAX_BUSINESS_NEED, MAX_DESCRIPTION
from pages.ui import widgets
from pages.ui.markup import literal


def new_source_forms(gh: Gatehouse, me: User, done: Callable[[], None] = lambda: None) -> None:
    """Both forms; a source created or asked for is said after the rerun that shows it (widgets.act), and `done`
    is called first (My data closes its dialog)."""

    def said(message: str, form: str) -> str:
        widgets.succeeded(form)  # the form starts fresh: a second click does not ask again for what was done
        done()
        return message

    warehouse_form(gh, me, said)
    webapp_form(gh, me, said)


def warehouse_form(gh: Gatehouse, me: User, said: Callable[[str, str], str]) -> None:
    st.markdown("**Create a warehouse data source**")
    st.caption(
        f"For data your own code uses. The name must start with {literal(gh.settings.bucket_prefix)}; you become "
        "its only admin and can give others access."
    )
    # A fresh form at first and after each success: a second click does not ask again for what was done
    st.session_state.setdefault("create-name", gh.settings.bucket_prefix)
    widgets.fresh("create-form", {"create-name": gh.settings.bucket_prefix, "create-description": ""})
    with st.form("create-form"):
        name = st.text_input("Name", key="create-name")
        description = st.text_input(
            "What it holds (optional)",
            key="create-description",
            max_chars=MAX_DESCRIPTION,
            help=f"One line, at most {MAX_DESCRIPTION:,} characters.",
        )
        if st.form_submit_button("Create data source", type="primary"):
            widgets.act(
                gh,
                lambda: actions.create_source(gh, me, name, description=description),
                lambda created: said(f"{created.name} is created; you are its admin.", "create-form"),
            )


def webapp_form(gh: Gatehouse, me: User, said: Callable[[str, str], str]) -> None:
    st.markdown("**Ask for a webapp data source**")
    st.caption(
        "For data that an app or pipeline reads. The platform team creates it; the app gets read-only access "
        "and you become its admin."
    )
    st.session_state.setdefault("webapp-name", gh.settings.bucket_prefix)
    widgets.fresh("webapp-form", {"webapp-name": gh.settings.bucket_prefix, "webapp-app": "", "webapp-need": ""})
    with st.form("webapp-form"):
        bucket = st.text_input("Name", key="webapp-name")
        app_name = st.text_input("App name", key="webapp-app")
        webapp_need = st.text_area(
            "Business need",
            key="webapp-need",
            max_chars=MAX_BUSINESS_NEED,
            help=f"The platform team decides on it. At most {MAX_BUSINESS_NEED:,} characters.",
        )
        if st.form_submit_button("Ask the platform team"):
            widgets.act(
                gh,
                lambda: actions.request_webapp_source(gh, me, bucket, app_name, webapp_need),
                lambda _: said("Sent to the platform team.", "webapp-form"),
            )
