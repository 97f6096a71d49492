"""Browse: the files of the data sources I can use, a folder at a time within my paths. A row of the table opens it:
a folder shows what it holds, a file its preview, the code to read it, download, copy or move, and its versions."""

import streamlit as st

from core.context import Gatehouse
from core.domain import GatehouseError, plural
from core.reads import browse as browsing
from core.reads import catalog
from core.reads.browse import FolderPage, ObjectEntry
from pages.ui import browse_view, cached, running, signin, widgets
from pages.ui.browse_view import folder_code, object_panel
from pages.ui.markup import literal
from pages.ui.widgets import clock

PAGE_SIZE = 50


def selected_row(key: str) -> int | None:
    """The row ticked in the table of this key (its state is there before the table is drawn again), if any."""
    state = st.session_state.get(key)
    rows = state["selection"]["rows"] if state else []
    return rows[0] if rows else None


def go(place: dict, prefix: str) -> None:
    """Into a folder: its first page, in a new table (a folder's rows are not the ones ticked in the last)."""
    place.update(prefix=prefix, tokens=[None], table=place["table"] + 1)


def crumb_chosen(place: dict, key: str) -> None:
    if st.session_state.get(key) is not None:  # the current folder clicked again: nothing to do
        go(place, st.session_state[key])


def turn(place: dict, token: str | None) -> None:
    """To the next page of the folder (a token), or back to the one before (None)."""
    if token is None:
        place["tokens"].pop()
    else:
        place["tokens"].append(token)
    place["table"] += 1


def browse_page(gh: Gatehouse, actor: signin.Actor) -> None:
    st.title("Browse")
    widgets.flash()
    usable = cached.read(catalog.usable_sources, actor.user)
    names = list(dict.fromkeys(s.name for s in usable))  # one row a grant: a source may hold several
    if not names:
        st.info("You have no access to any data source yet: find the one you need on Request access.")
        st.page_link("pages/request_access.py", label="Request access", icon=":material/key:")
        return
    source = st.selectbox(
        "Data source",
        names,
        index=0 if len(names) == 1 else None,
        placeholder="Choose a data source to browse",
        key="source",
        bind="query-params",  # ?source=… opens Browse on that source (a link from My data, a bookmark)
    )
    if source is None:
        st.caption("Choose one of your data sources to see its folders and files.")
        return
    holds = next((s.holds for s in usable if s.name == source), None)
    if holds is not None and holds.classification.is_personal:  # issue #29: said before any file is opened
        st.caption(literal(f"{source} holds {holds.label}: use it only for the need you were granted it for."))
    place = st.session_state.setdefault(f"browse-{source}", {"prefix": "", "tokens": [None], "table": 0})
    listing = folder_listed(gh, actor, source, place)
    if listing is None:
        return
    breadcrumbs(source, place, listing.page)
    entry = folder_table(source, place, listing)
    page_buttons(source, place, listing)
    if entry is None:
        folder_code(source, listing.page.prefix)
    else:
        object_panel(gh, actor, source, entry, usable)


def folder_listed(gh: Gatehouse, actor: signin.Actor, source: str, place: dict) -> browse_view.Listed | None:
    """The page of the folder to show: the one whose row was clicked, else where the source's browsing stands."""
    row = selected_row(f"browse-table-{source}-{place['table']}")
    if row is not None and row < len(place.get("folders", [])):  # a folder's row was clicked: open it
        go(place, place["folders"][row])
    try:
        return browse_view.listed(gh, actor.user, source, place["prefix"], place["tokens"][-1], PAGE_SIZE)
    except GatehouseError as error:
        st.error(literal(error))
        go(place, "")  # back to the top of the source at the next run (its paths may have changed)
        return None


def breadcrumbs(source: str, place: dict, page: FolderPage) -> None:
    """The folders from the source down to this one (a click goes there), and the folder on AWS."""
    crumbs = browsing.breadcrumbs(source, page.prefix)
    names_of = {c.prefix: c.name for c in crumbs}
    crumb_key = f"browse-crumbs-{source}"
    st.session_state[crumb_key] = page.prefix  # the folder shown is the one highlighted
    with st.container(horizontal=True, vertical_alignment="center"):
        st.segmented_control(
            "Folder",
            list(names_of),
            format_func=lambda prefix: literal(names_of[prefix]),
            key=crumb_key,
            on_change=crumb_chosen,
            args=(place, crumb_key),
            label_visibility="collapsed",
        )
        st.link_button("Open on AWS", page.console_url, icon=":material/open_in_new:")


def folder_table(source: str, place: dict, listing: browse_view.Listed) -> ObjectEntry | None:
    """The folder's folders and files, one table: the file whose row is ticked, if one is."""
    page = listing.page
    rows = [f.prefix for f in page.folders] + [o.key for o in page.objects]
    if place.get("rows") not in (None, rows):  # changed since drawn (a move, another's upload): a new table,
        place["table"] += 1  # so that a tick never stands on a row other than the one that was ticked
    place["rows"], place["folders"] = rows, [f.prefix for f in page.folders]
    if listing.table is None:
        return None
    picked = st.dataframe(
        listing.table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"browse-table-{source}-{place['table']}",
    )
    chosen = picked.selection.rows[0] - len(page.folders) if picked.selection.rows else -1
    return page.objects[chosen] if 0 <= chosen < len(page.objects) else None


def page_buttons(source: str, place: dict, listing: browse_view.Listed) -> None:
    """Previous and next page, how fresh the listing is (S3 is written by others too), and Refresh."""
    with st.container(horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"):
        if len(place["tokens"]) > 1:
            st.button("Previous page", key=f"browse-back-{source}", on_click=turn, args=(place, None))
        if listing.table is not None:
            st.caption(f"Listed at {clock(listing.at, seconds=True)}. Click a row's box to open a folder or a file.")
        else:
            st.caption(f"This folder is empty (listed at {clock(listing.at, seconds=True)}).")
        st.button(
            "Refresh",
            key=f"browse-refresh-{source}",
            on_click=browse_view.refresh,
            icon=":material/refresh:",
            help="List the folder again now: what others wrote in S3 since shows on its own within "
            f"{plural(browse_view.LISTING_TTL_SECONDS, 'second')}, Gatehouse's own writes at once.",
        )
        if listing.page.next_token:
            st.button("Next page", key=f"browse-next-{source}", on_click=turn, args=(place, listing.page.next_token))


browse_page(running.gatehouse(), signin.actor())
