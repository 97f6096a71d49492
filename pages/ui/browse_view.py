"""Browsing a source (pages/browse.py): a folder's listing, kept between reruns; the code that reads a folder; and a
file's panel: its preview, the code to read it, download or copy after a data movement form, and its versions
(restored by a reader-writer with no form: nothing enters or leaves the platform)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import streamlit as st
from cachetools import TTLCache

from core import actions, snippets
from core.adapters.models import MovementKind, User, utcnow
from core.context import Gatehouse
from core.domain import GatehouseError, plural, visible
from core.reads import browse as browsing
from core.reads.browse import FolderPage, ObjectEntry
from core.reads.catalog import UsableSource
from core.reads.movements import sign_off
from core.reads.versions import object_versions
from pages.ui import cached, signin, widgets
from pages.ui.markup import bold, literal, table
from pages.ui.movement_form import movement_form
from pages.ui.widgets import moment

MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024  # through the browser; bigger files: the code snippets or the CLI
# A listing is kept at most this long: S3 is written by others than Gatehouse (their tools, pipelines), whose writes
# show within it, or at once on Refresh. Gatehouse's own writes show at the next rerun (see `listed`).
LISTING_TTL_SECONDS = 30


@dataclass(frozen=True)
class Listed:
    """A page of a folder as listed, and its rows as the table the page shows (Arrow, made once a listing)."""

    page: FolderPage
    table: pa.Table | None  # None: the folder is empty
    at: datetime  # when S3 listed it


# Every session of the process shares it: one S3 call saved a rerun (and the grant's read), a few KB a listing.
_LISTINGS: TTLCache[str, Listed] = TTLCache(maxsize=500, ttl=LISTING_TTL_SECONDS)
_LISTINGS_LOCK = threading.Lock()
REFRESHED = "browse-refreshed"  # the session's Refresh clicks: a click lists afresh


def listed(gh: Gatehouse, actor: User, source: str, prefix: str, token: str | None, size: int) -> Listed:
    """`browsing.list_folder`, kept across reruns and sessions for LISTING_TTL_SECONDS at most.

    Keyed on the database's revision (a grant changed, or any write Gatehouse records: every upload, copy, move and
    restore is one, from any process), on this process's count of S3 object writes (its own writes, at once, whatever
    the database says), and on the session's Refresh clicks; and on who lists, so that nobody sees a listing made
    for another's access. A refusal is raised, never kept."""
    revision = st.session_state.get(cached.REVISION)

    def listing() -> Listed:
        page = browsing.list_folder(gh, actor, source, prefix, token, size)
        return Listed(page, _table(page), datetime.now(UTC))

    if revision is None:  # no revision to key on (a schema made without the migrations): listed every time
        return listing()
    refreshed = st.session_state.get(REFRESHED, 0)
    key = repr((revision[:3], gh.objects_written(), refreshed, actor.id, source, prefix, token, size))
    with _LISTINGS_LOCK:
        kept = _LISTINGS.get(key)
    if kept is None:
        kept = listing()
        with _LISTINGS_LOCK:
            _LISTINGS[key] = kept
    return kept


def refresh() -> None:
    """List the folder afresh at the next run (Refresh): for what others wrote in S3 since it was listed."""
    st.session_state[REFRESHED] = st.session_state.get(REFRESHED, 0) + 1


def _table(page: FolderPage) -> pa.Table | None:
    if not page.folders and not page.objects:
        return None
    folders = len(page.folders)
    return pa.table(
        {
            "Name": pa.array(
                [visible(f.name) + "/" for f in page.folders]  # a folder ends with /, as in S3
                + [visible(o.name) for o in page.objects],
                pa.string(),
            ),
            "Size": pa.array([""] * folders + [plural(o.size, "byte") for o in page.objects], pa.string()),
            "Last modified (UTC)": pa.array(
                [""] * folders + [moment(o.last_modified) for o in page.objects], pa.string()
            ),
        }
    )


def folder_code(source: str, prefix: str) -> None:
    """The code that reads the folder shown, folded away (most people came for a file) and made when unfolded."""
    folded = st.expander("Read this folder in Python or R", key="browse-folder-code", on_change="rerun")
    if folded.open:
        with folded:
            _code(source, prefix)


def _code(source: str, target: str) -> None:
    try:
        code = snippets.snippets(source, target)
    except GatehouseError as error:
        st.caption(literal(error))
        return
    for library, tab in zip(code, st.tabs([literal(library) for library in code]), strict=True):
        tab.code(code[library], language=snippets.snippet_language(library))


@cached.fragment
def object_panel(
    gh: Gatehouse, actor: signin.Actor, source: str, entry: ObjectEntry, usable: list[UsableSource]
) -> None:
    """One file: its preview, code, download, copy or move, and versions, in tabs of which only the open one runs.
    A fragment: a click inside reruns the panel alone, not the folder's listing and table above it."""
    key = entry.key
    writes_here = cached.read(browsing.may_write, actor.user, source, key)
    with st.container(border=True):
        st.markdown(f"{bold(entry.name)} · {plural(entry.size, 'byte')} · saved {moment(entry.last_modified)}")
        widgets.lazy_tabs(
            {
                "Preview": lambda: _preview(gh, actor, source, key),
                "Code": lambda: _code(source, key),
                "Download": lambda: _download(gh, actor, source, entry),
                "Copy or move": lambda: _copy(gh, actor, source, key, usable),
                "Versions": lambda: _versions(gh, actor, source, key, writes_here),
            },
            "browse-object-tab",
        )


def _preview(gh: Gatehouse, actor: signin.Actor, source: str, key: str) -> None:
    if snippets.file_kind(key) is None:
        st.caption("Gatehouse can preview CSV, TSV, JSON lines, Parquet and Excel files.")
    elif st.button("Preview the first rows", key=f"preview-{key}"):  # a read on record: at a click
        try:
            st.dataframe(actions.preview(gh, actor.user, source, key), width="stretch")
        except GatehouseError as error:
            st.error(literal(error))


def _download(gh: Gatehouse, actor: signin.Actor, source: str, entry: ObjectEntry) -> None:
    key = entry.key
    if entry.size > MAX_DOWNLOAD_BYTES:
        st.info("This file is too big to download through the browser: read it with the code under Code.")
        return
    movement_id = movement_form(gh, actor, f"download-{key}", MovementKind.DOWNLOAD, source, destination="My computer")
    if movement_id is None or not signed_to_leave(gh, actor, movement_id, "download"):
        return
    try:
        actions.check_download(gh, actor.user, movement_id, source, key)
    except GatehouseError as error:
        st.error(literal(error))
        return

    def saved(form: int = movement_id) -> bytes:
        """Read when the person saves the file (Streamlit calls it at the click): one download, one record, however
        often the page reruns before."""
        return b"".join(actions.download(gh, actor.user, form, source, key))

    st.download_button(f"Save {literal(entry.name)}", saved, file_name=entry.name, key=f"save-{key}", on_click="ignore")


def signed_to_leave(gh: Gatehouse, actor: signin.Actor, movement_id: int, what: str) -> bool:
    """Data leaving a personal-data source: whether its form is signed, said either way (waiting for whom, refused
    and why, or available until when). A form that needs no sign-off: True, and nothing said."""
    state = cached.read(sign_off, actor.user, movement_id, gh.settings.signed_download_hours)
    if state is None:
        return True
    if state.refused is not None:
        st.error(f"{literal(state.signed_by or '')} refused to sign form {movement_id:d}: {literal(state.refused)}")
        return False
    if state.until is None:
        st.info(
            f"Form {movement_id:d} is now with {literal(state.signer)}, who signs it: this source holds personal "
            "data, and nothing leaves it before. You are told in your inbox when it is signed."
        )
        st.button("Check again", key=f"signoff-check-{movement_id}")
        return False
    if state.until < utcnow().replace(tzinfo=state.until.tzinfo):
        st.warning(
            f"The sign-off of form {movement_id:d} has passed ({moment(state.until)}): fill in a new form, which the "
            "information asset owner signs again."
        )
        return False
    st.success(
        f"Signed off by {literal(state.signed_by or '')}: your {literal(what)} is available until "
        f"{moment(state.until)}."
    )
    return True


def _versions(gh: Gatehouse, actor: signin.Actor, source: str, key: str, can_write: bool) -> None:
    """Earlier versions of the object: who wrote them, download one, or (a reader-writer) make one current again.
    Listed when the tab opens: one S3 listing, and who wrote each from the database."""
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
        _restore(gh, actor, source, key, version.version_id, label)
    else:
        _download_version(gh, actor, source, key, version.version_id)


def _restore(gh: Gatehouse, actor: signin.Actor, source: str, key: str, version_id: str, label: str) -> None:
    """Make an earlier version the current one again, at a click."""
    st.caption(
        "It becomes the current version again: a new version, so nothing is lost. No data movement form: "
        "nothing enters or leaves the platform. The restore is on record in the audit trail."
    )
    if st.button("Restore this version", type="primary", key=f"restore-go-{key}"):
        try:
            restored = actions.restore_version(gh, actor.user, source, key, version_id)
        except GatehouseError as error:
            st.error(literal(error))
        else:
            done = "Undeleted" if restored.undeleted else "Restored"
            st.session_state[f"restored-{key}"] = f"{done} {key}: the version of {label} is the current one again."
            st.rerun()  # the page again: the folder's table and the list, with the restored version on top


def _download_version(gh: Gatehouse, actor: signin.Actor, source: str, key: str, version_id: str) -> None:
    """An earlier version saved to my computer, after a data movement form."""
    form = movement_form(gh, actor, f"version-download-{key}", MovementKind.DOWNLOAD, source, destination="My computer")
    if form is not None and signed_to_leave(gh, actor, form, "download"):

        def saved(movement: int = form, chosen: str = version_id) -> bytes:
            return b"".join(actions.download(gh, actor.user, movement, source, key, chosen))

        name = key.rsplit("/", 1)[-1]
        st.download_button(
            f"Save {literal(name)} as it was", saved, file_name=name, key=f"save-version-{key}", on_click="ignore"
        )


def _copy(gh: Gatehouse, actor: signin.Actor, source: str, key: str, usable: list[UsableSource]) -> None:
    writable = list(dict.fromkeys(s.name for s in usable if s.level.can_write))
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
    if movement_id is None or not signed_to_leave(gh, actor, movement_id, how.lower()):
        return
    if st.button(literal(how), type="primary", key=f"copy-go-{key}"):
        action = actions.move if kind is MovementKind.MOVE else actions.copy
        done = "Moved" if kind is MovementKind.MOVE else "Copied"
        widgets.act(  # said above the folder's table, drawn again with the file moved or copied
            gh,
            lambda: action(gh, actor.user, movement_id, source, key, target, target_key),
            lambda moved: f"{done} to {moved.bucket}/{moved.key} ({plural(moved.size, 'byte')}).",
        )
