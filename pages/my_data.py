"""My data: the sources I can use (level, paths, Open on AWS) and the others with whom access depends on."""

import pandas as pd
import streamlit as st

from core import catalog
from core.domain import SourceKind, format_paths
from pages import ui
from pages.browse_view import browse

PAGE_SIZE = 25

gh = ui.gatehouse()
me = ui.actor().user

st.title("My data")

with gh.session() as session:
    usable = catalog.usable_sources(session, gh.settings, me)

st.subheader("Data sources you can use")
if not usable:
    st.info("You have no access to any data source yet. Find the one you need below and ask one of its admins.")
for kind in SourceKind:
    mine = [s for s in usable if s.kind is kind]
    st.markdown(f"**{kind.label} data sources** ({len(mine)})")
    if not mine:
        st.caption(f"No {kind.label.lower()} data sources.")
        continue
    for source in mine:
        with st.container(border=True):
            name, level, paths, state, link = st.columns([3, 1.2, 2.5, 2, 1.3], vertical_alignment="center")
            name.markdown(f"**{source.name}**")
            level.markdown(source.level.label)
            paths.markdown(ui.escape(format_paths(source.paths)))
            ends = f" · ends {source.expires_on:%d %b %Y}" if source.expires_on else ""
            state.caption(ui.aws_state(source.applied, source.apply_error) + ends)
            link.link_button("Open on AWS", source.console_url)

if usable:
    st.subheader("Browse")
    browse(gh, ui.actor(), usable)

st.subheader("Other data sources")
st.caption(
    "To use one of these, ask one of its admins. A source with no active admin is orphaned: "
    "your line manager confirms your request, then the platform team grants it."
)
search = st.text_input("Search by name", key="other-search", placeholder="e.g. pricing")
page_number = st.session_state.get("other-page", 0)
with gh.session() as session:
    others = catalog.other_sources(session, me, search=search, offset=page_number * PAGE_SIZE, limit=PAGE_SIZE)
if others.total == 0:
    st.caption("No other data sources match." if search else "There are no other data sources.")
else:
    st.table(
        pd.DataFrame(
            {
                "Data source": [o.name for o in others.items],
                "Kind": [o.kind.label for o in others.items],
                "Admins": [", ".join(o.admins) if o.admins else "none left (orphaned)" for o in others.items],
            }
        ).set_index("Data source"),
    )
    ui.pager(others.total, PAGE_SIZE, "other-page", what="sources")
