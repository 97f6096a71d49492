"""Browsing a source on My data: folders page by page within my paths, preview, code to read the data, and
download or copy after a data movement form."""

from __future__ import annotations

import streamlit as st

from core import actions, snippets
from core.adapters.models import MovementKind
from core.context import Gatehouse
from core.domain import GatehouseError, plural
from core.reads import browse as browsing
from core.reads import catalog
from core.reads.catalog import UsableSource
from core.reads.versions import object_versions
from core.rules import prefixes
from pages import cached, signin
from pages.markup import literal, table
from pages.movement_form import movement_form
from pages.widgets import moment

PAGE_SIZE = 50
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024  # through the browser; bigger files: the code snippets or the CLI


def browse(gh: Gatehouse, actor: signin.Actor, usable: list[UsableSource]) -> None:
    names = list(dict.fromkeys(s.name for s in usable))  # one row a grant: a source may hold several
    source = st.selectbox(
        "Data source", names, index=None, placeholder="Choose a data source to browse", key="browse-source"
    )
    if source is None:
        return
    state = st.session_state.setdefault(f"browse-{source}", {"prefix": "", "tokens": [None]})
    try:
        page = browsing.list_folder(gh, actor.user, source, state["prefix"], state["tokens"][-1], PAGE_SIZE)
    except GatehouseError as error:
        st.error(literal(error))
        return
    crumbs = browsing.breadcrumbs(source, page.prefix)
    columns = st.columns(len(crumbs) + 1)
    for column, crumb in zip(columns, crumbs, strict=False):
        if column.button(literal(crumb.name), key=f"crumb-{source}-{crumb.prefix}"):
            _go(state, crumb.prefix)
    columns[-1].link_button("Open on AWS", page.console_url)
    for folder in page.folders:
        if st.button(f":material/folder: {literal(folder.name)}", key=f"folder-{source}-{folder.prefix}"):
            _go(state, folder.prefix)
    if page.objects:
        st.markdown(
            table(
                ["Name", "Size", "Last modified (UTC)"],
                [[o.name, plural(o.size, "byte"), moment(o.last_modified)] for o in page.objects],
            )
        )
    elif not page.folders:
        st.caption("This folder is empty.")
    previous, following = st.columns(2)
    if len(state["tokens"]) > 1 and previous.button("Previous page", key=f"prev-{source}"):
        state["tokens"].pop()
        st.rerun()
    if page.next_token and following.button("Next page", key=f"next-{source}"):
        state["tokens"].append(page.next_token)
        st.rerun()

    chosen = st.selectbox(
        "Object",
        [o.key for o in page.objects],
        index=None,
        placeholder="Choose a file to preview, read or move",
        key=f"object-{source}",
    )
    target = chosen or page.prefix
    with st.expander("Read this data in Python or R", expanded=False):
        try:
            code = snippets.snippets(source, target)
        except GatehouseError as error:
            st.caption(literal(error))
        else:
            for library, tab in zip(code, st.tabs([literal(library) for library in code]), strict=True):
                tab.code(code[library], language=snippets.snippet_language(library))
    if chosen is None:
        return
    entry = next(o for o in page.objects if o.key == chosen)
    writes_here = any(
        s.name == source and s.level.can_write and (not s.paths or chosen.startswith(prefixes(s.paths))) for s in usable
    )
    preview_tab, download_tab, copy_tab, versions_tab = st.tabs(["Preview", "Download", "Copy or move", "Versions"])
    with preview_tab:
        if snippets.file_kind(chosen) is None:
            st.caption("Gatehouse can preview CSV, TSV, JSON lines, Parquet and Excel files.")
        elif st.button("Preview the first rows", key=f"preview-{chosen}"):
            try:
                st.dataframe(actions.preview(gh, actor.user, source, chosen), width="stretch")
            except GatehouseError as error:
                st.error(literal(error))
    with download_tab:
        if entry.size > MAX_DOWNLOAD_BYTES:
            st.info("This file is too big to download through the browser: read it with the code above.")
        else:
            movement_id = movement_form(
                gh, actor, f"download-{chosen}", MovementKind.DOWNLOAD, source, destination="My computer"
            )
            if movement_id is not None:
                try:
                    actions.check_download(gh, actor.user, movement_id, source, chosen)
                except GatehouseError as error:
                    st.error(literal(error))
                else:

                    def saved(form: int = movement_id, key: str = chosen) -> bytes:
                        """Read when the person saves the file (Streamlit calls it at the click): one download,
                        one record, however often the page reruns before."""
                        return b"".join(actions.download(gh, actor.user, form, source, key))

                    st.download_button(
                        f"Save {literal(entry.name)}",
                        saved,
                        file_name=entry.name,
                        key=f"save-{chosen}",
                        on_click="ignore",
                    )
    with copy_tab:
        _copy(gh, actor, source, chosen)
    with versions_tab:
        _versions(gh, actor, source, chosen, writes_here)


def _versions(gh: Gatehouse, actor: signin.Actor, source: str, key: str, can_write: bool) -> None:
    """Earlier versions of the object: who wrote them, download one, or (a reader-writer) make one current again.
    Listed at a click: one S3 listing, and who wrote each from the database."""
    shown_key = f"versions-shown-{source}-{key}"
    if not st.session_state.get(shown_key):
        if st.button("Show earlier versions", key=f"versions-{key}"):
            st.session_state[shown_key] = True
            st.rerun()
        return
    if done := st.session_state.pop(f"restored-{key}", None):
        st.success(literal(done))
    try:
        versions = object_versions(gh, actor.user, source, key)
    except GatehouseError as error:
        st.error(literal(error))
        return
    st.markdown(
        table(
            ["Saved (UTC)", "Size", "Written by", ""],
            [
                [
                    moment(v.last_modified, seconds=True),
                    "deleted here" if v.deleted else plural(v.size, "byte"),
                    v.writer,
                    "current" if v.current else "",
                ]
                for v in versions
            ],
        )
    )
    earlier = [v for v in versions if not v.current and not v.deleted]
    if not earlier:
        st.caption("There is no earlier version of this object.")
        return
    labels = {f"{moment(v.last_modified, seconds=True)}, {plural(v.size, 'byte')}": v for v in earlier}
    label = st.selectbox("Earlier version", list(labels), key=f"version-{key}")
    version = labels[label]
    way = st.radio(
        "What to do with it",
        ["Download it", "Restore it"] if can_write else ["Download it"],
        horizontal=True,
        key=f"version-way-{key}",
    )
    if way == "Restore it":
        form = movement_form(gh, actor, f"restore-{key}", MovementKind.RESTORE, source, destination=f"{source}/{key}")
        if form is not None and st.button("Restore this version", type="primary", key=f"restore-go-{key}"):
            try:
                restored = actions.restore_version(gh, actor.user, form, source, key, version.version_id)
            except GatehouseError as error:
                st.error(literal(error))
            else:
                done = "Undeleted" if restored.undeleted else "Restored"
                st.session_state[f"restored-{key}"] = f"{done} {key}: the version of {label} is the current one again."
                st.rerun()  # the list again, with the restored version on top
        return
    form = movement_form(gh, actor, f"version-download-{key}", MovementKind.DOWNLOAD, source, destination="My computer")
    if form is not None:

        def saved(movement: int = form, chosen: str = version.version_id) -> bytes:
            return b"".join(actions.download(gh, actor.user, movement, source, key, chosen))

        name = key.rsplit("/", 1)[-1]
        st.download_button(
            f"Save {literal(name)} as it was", saved, file_name=name, key=f"save-version-{key}", on_click="ignore"
        )


def _copy(gh: Gatehouse, actor: signin.Actor, source: str, key: str) -> None:
    writable = list(
        dict.fromkeys(s.name for s in cached.read(catalog.usable_sources, gh.settings, actor.user) if s.level.can_write)
    )
    if not writable:
        st.caption("You cannot write to any data source.")
        return
    how = st.radio(
        "Copy or move",
        ["Copy", "Move"],
        horizontal=True,
        key=f"copy-how-{key}",
        help="Moving deletes the original, which needs write access where it is.",
    )
    kind = MovementKind.MOVE if how == "Move" else MovementKind.COPY
    target = st.selectbox(f"{literal(how)} to", writable, key=f"copy-target-{key}")
    target_key = st.text_input("As", value=key, key=f"copy-key-{key}")
    movement_id = movement_form(gh, actor, f"copy-{key}", kind, source, target, destination=f"{target}/{target_key}")
    if movement_id is not None and st.button(literal(how), type="primary", key=f"copy-go-{key}"):
        action = actions.move if kind is MovementKind.MOVE else actions.copy
        try:
            moved = action(gh, actor.user, movement_id, source, key, target, target_key)
        except GatehouseError as error:
            st.error(literal(error))
        else:
            done = "Moved" if kind is MovementKind.MOVE else "Copied"
            st.success(literal(f"{done} to {moved.bucket}/{moved.key} ({plural(moved.size, 'byte')})."))


def _go(state: dict, prefix: str) -> None:
    state["prefix"] = prefix
    state["tokens"] = [None]
    st.rerun()


if __name__ == "__main__":  # Streamlit's old multipage app runs every file in pages/ as a page: this is not one
    st.switch_page("app.py")
