"""Admin → Manage access → Personal data: whether one of my sources holds personal data, and who its information
asset owner is (issue #29). The rules are core's (`actions.set_classification`); its sentence is shown as text."""

from __future__ import annotations

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import Classification
from core.reads import catalog, sources
from core.rules import rules_in_words
from pages.ui import cached, widgets
from pages.ui.markup import literal


def personal_data_form(gh: Gatehouse, me: User, source: str) -> None:
    """The source's classification and owner now, and a form to change them."""
    details = cached.read(sources.source_details, me, source)
    held = details.holds
    st.markdown(literal(f"{source} holds: {held.label}"))
    st.caption(
        "A source holding personal data names its information asset owner: an active member, never an external "
        "one, who approves access after its admins and signs off data leaving it. Access to it always ends."
    )
    search = st.text_input(
        "Find the information asset owner", key=f"iao-search-{source}", placeholder="username or name"
    )
    owners = cached.read(catalog.user_names, search, limit=100)
    if held.iao and held.iao not in owners and not search.strip():
        owners = [held.iao, *owners]
    with st.form(f"classify-{source}"):
        kinds = list(Classification)
        kind = st.radio(
            "What it holds",
            kinds,
            index=kinds.index(held.classification),
            format_func=lambda c: c.label,
            horizontal=True,
            key=f"classify-kind-{source}",
        )
        owner = st.selectbox(
            "Information asset owner",
            owners,
            index=owners.index(held.iao) if held.iao in owners else None,
            placeholder="Choose an active member",
            help="Personal data only: a standard source has none.",
            key=f"classify-iao-{source}",
        )
        if st.form_submit_button("Save", type="primary"):
            widgets.act(
                gh,
                lambda: actions.set_classification(gh, me, source, kind, owner if kind.is_personal else None),
                lambda done: done.sentence,
            )


def terms_caption(gh: Gatehouse, me: User, source: str) -> None:
    """Above a grant or change of a personal-data source's access: what its terms must be (core refuses the rest,
    beside the field), said before the click."""
    held = cached.read(sources.source_details, me, source).holds
    if not held.classification.is_personal:
        return
    rule = gh.settings.classification_rules[held.classification]
    terms = [said for said in rules_in_words(held.classification, rule) if said.startswith("Access")]
    st.caption(literal(" ".join([f"{source} holds {held.classification.label.lower()}.", *terms])))
