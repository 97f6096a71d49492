"""My data: the sources I can use (level, paths, Open on AWS; Browse their files; create a new one) and the others
with whom access depends on."""

from datetime import timedelta

import pyarrow as pa
import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import MAX_BUSINESS_NEED, format_paths
from core.reads import catalog, extensions
from pages.ui import cached, running, signin, team_access, widgets
from pages.ui.markup import bold, links, literal, table
from pages.ui.source_forms import new_source_forms

PAGE_SIZE = 25

NEW_SOURCE = "new-source-open"  # the dialog stays open over the runs its forms make, until closed or done


def new_source_open(is_open: bool = False) -> None:
    st.session_state[NEW_SOURCE] = is_open


@st.dialog("New data source", width="large", on_dismiss=new_source_open)
def new_source(gh: Gatehouse, me: User) -> None:
    """The forms of Request access → New data source, here too: where a person looks for their sources."""
    new_source_forms(gh, me, done=new_source_open)


def my_data(gh: Gatehouse, me: User) -> None:
    st.title("My data")
    widgets.flash()
    with st.container(horizontal=True, horizontal_alignment="distribute", vertical_alignment="bottom"):
        st.subheader("Data sources you can use")
        st.button("New data source", icon=":material/add:", key="new-source", on_click=new_source_open, args=(True,))
    if st.session_state.get(NEW_SOURCE):
        new_source(gh, me)
    sources_i_can_use(me)
    access_that_ends(gh, me)
    other_sources(me)


def sources_i_can_use(me: User) -> None:
    """Mine, a page at a time: level, paths, end, whether AWS has it, and a link to each in the AWS console."""
    search = st.session_state.get("usable-search", "")
    number = widgets.page_number("usable-page", search)
    usable = cached.read(catalog.usable_page, me, search=search, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
    if usable.total > PAGE_SIZE or search:  # the search box, above the table, once there is more than a page
        st.text_input("Find one of yours", key="usable-search", placeholder="Type part of its name")
    if usable.total == 0:
        st.info(
            "None of yours matches."
            if search
            else "You have no access to any data source yet. Find the one you need below and ask one of its admins."
        )
        return
    st.markdown(
        table(
            ["Data source", "Kind", "Access", "Holds", "Paths", "Ends", "In AWS", "AWS console"],
            [
                [
                    bold(s.name),
                    s.kind.label,
                    team_access.held_as(s),  # "Read only, through the prisons team" (issue #28)
                    s.holds.label,  # "Personal data · IAO carol" (issue #29)
                    format_paths(s.paths),
                    widgets.day(s.expires_on) if s.expires_on else "",
                    widgets.aws_state(s.applied, s.apply_error),
                    links(
                        [("Open on AWS", s.console_urls[0])]
                        if len(s.console_urls) == 1
                        else [(f"Open {path}", url) for path, url in zip(s.paths, s.console_urls, strict=True)]
                    ),
                ]
                for s in usable.items
            ],
        )
    )
    widgets.pager(usable.total, PAGE_SIZE, "usable-page", what="of your sources")
    st.page_link("pages/browse.py", label="Open their folders and files", icon=":material/folder_open:")


def access_that_ends(gh: Gatehouse, me: User) -> None:
    """My grants that end, and "Ask to extend" one of them: a new end date and why, decided as a request is (issue
    #29). A switch, then one picker and one form, whatever number ends: the table above says when each ends."""
    ending = cached.read(extensions.ending_grants, me)
    if not ending:
        return
    # closed, it is one element: the table above says when each ends; opened, a picker and a form
    if not st.toggle(literal(f"Ask to extend access that ends ({len(ending)})"), key="extend-open"):
        return
    open_for = [g for g in ending if not g.asked]
    asked = [g.source for g in ending if g.asked]
    if asked:
        st.caption(literal(f"Waiting already (see Request access → My requests): {', '.join(sorted(set(asked)))}."))
    if not open_for:
        return
    grant = open_for[0]
    if len(open_for) > 1:
        grant = st.selectbox("Access to extend", open_for, format_func=_ending, key="extend-pick")
    else:
        st.caption(literal(_ending(grant)))
    _extend_form(gh, me, grant)


def _ending(grant: extensions.EndingGrant) -> str:
    through = f", through the {grant.team} team" if grant.team else ""
    return (
        f"{grant.source}: {grant.level.label.lower()} on {format_paths(grant.paths)}{through}, "
        f"ends {widgets.day(grant.expires_on)}"
    )


def _extend_form(gh: Gatehouse, me: User, grant: extensions.EndingGrant) -> None:
    key = f"extend-{grant.grant_id}"
    with st.form(key):
        until = widgets.any_date("New end date", grant.expires_on + timedelta(days=90), f"{key}-until")
        why = st.text_area("Why you still need it", key=f"{key}-why", max_chars=MAX_BUSINESS_NEED)
        if st.form_submit_button("Ask to extend", type="primary"):
            widgets.act(
                gh,
                lambda: actions.ask_to_extend(gh, me, grant.grant_id, until, why),
                lambda asked: f"Asked to extend your access to {asked.source}: it waits for {asked.waits_for}.",
            )


def other_sources(me: User) -> None:
    """The sources I cannot use, found by name: ticking one opens Request access with it chosen."""
    st.subheader("Other data sources")
    st.caption(  # one caption for the list and how to use it: an element less at every rerun
        "To use one of these, tick its box to ask one of its admins. A source with no active admin is orphaned: "
        "your line manager confirms your request, then the platform team grants it."
    )
    search = st.text_input("Search by name", key="other-search", placeholder="e.g. pricing")
    number = widgets.page_number("other-page", search)
    others = cached.read(catalog.other_sources, me, search=search, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
    if others.total == 0:
        st.caption("No other data sources match." if search else "There are no other data sources.")
        return
    # One table (one element, however many rows: cheap to redraw); a row's box opens Request access with it chosen
    picked = st.dataframe(
        pa.table(
            {
                "Data source": [o.name for o in others.items],
                "Kind": [o.kind.label for o in others.items],
                "Holds": [o.holds.label for o in others.items],
                "Admins": [", ".join(o.admins) if o.admins else "none left (orphaned)" for o in others.items],
            }
        ),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"other-table-{st.session_state.get('other-asked', 0)}",  # a new table after each use: no stale tick
    )
    if picked.selection.rows and picked.selection.rows[0] < len(others.items):
        st.session_state["other-asked"] = st.session_state.get("other-asked", 0) + 1
        widgets.ask_for(others.items[picked.selection.rows[0]].name)
        st.switch_page("pages/request_access.py")
    widgets.pager(others.total, PAGE_SIZE, "other-page", what="sources")


gh = running.gatehouse()
my_data(gh, signin.actor().user)
