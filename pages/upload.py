"""Upload: after a data movement form, put files into a source where I may write."""

import threading

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from core.actions.upload import upload
from core.adapters.models import MovementKind, User
from core.context import Gatehouse
from core.domain import AccessLevel, GatehouseError, format_paths, plural
from core.movement import upload_folder
from core.paths import Paths
from core.reads import catalog
from pages.ui import cached, running, signin, widgets
from pages.ui.markup import literal
from pages.ui.movement_form import movement_form


def upload_page(gh: Gatehouse, actor: signin.Actor) -> None:
    limit_mb = int(st.get_option("server.maxUploadSize"))
    st.title("Upload")
    st.caption(
        f"Files up to {limit_mb:,} MB each through this page; for bigger ones use `gatehouse upload`. "
        "Moving data onto the platform needs a data movement form first."
    )
    usable = cached.read(catalog.usable_sources, actor.user)
    writable = [s for s in usable if s.level.can_write]
    names = list(dict.fromkeys(s.name for s in writable))  # one row a grant: a source may hold several
    # The sources only read, with the paths read: what to ask to write
    read_only = {
        name: held_paths([s for s in usable if s.name == name])
        for name in dict.fromkeys(s.name for s in usable if s.name not in names)
    }
    if not writable:
        st.info("You cannot write to any data source yet: uploading needs read/write access.")
        offer_read_write(read_only)
        return
    # With several, none is chosen for the person: the folder and the form's fields come once it is (issue 26: a
    # first view draws two fields, not a dozen)
    source_name = st.selectbox(
        "Data source",
        names,
        index=0 if len(names) == 1 else None,
        placeholder="Choose the data source the files go to",
        key="upload-source",
    )
    offer_read_write(read_only)
    if source_name is None:
        return
    write_paths = held_paths([s for s in writable if s.name == source_name])
    prefix = chosen_folder(source_name, write_paths)
    if prefix is None:
        return
    movement_id = movement_form(
        gh, actor, "upload", MovementKind.UPLOAD, source_name, destination=f"{source_name}/{prefix}".rstrip("/")
    )
    if movement_id is not None:
        upload_files(gh, actor.user, movement_id, source_name, prefix)


def held_paths(rows: list[catalog.UsableSource]) -> Paths:
    """The paths a person's grants (rows) on one source cover; none: the whole bucket."""
    return Paths.WHOLE if any(not s.paths for s in rows) else Paths(p for s in rows for p in s.paths)


def offer_read_write(read_only: dict[str, Paths]) -> None:
    """Say where the sources the person can only read went, and offer to ask for read/write on one of them: Request
    access opens with that source, read/write and the paths they read (theirs to change there). With several, the
    person chooses which: none is picked for them. A caption, a choice and a button: cheap at every rerun."""
    if not read_only:
        return
    listed = list(read_only)
    shown = ", ".join(listed[:5]) + (f" and {len(listed) - 5:,} more" if len(listed) > 5 else "")
    st.caption(literal(f"Not listed because you can only read them: {shown}."))
    chosen = listed[0] if len(listed) == 1 else None
    with st.container(horizontal=True, vertical_alignment="bottom"):
        if chosen is None:
            chosen = st.selectbox(
                "Ask for read/write on",
                listed,
                index=None,
                placeholder="Choose a data source you read",
                key="upload-ask-source",
                width=320,
            )
        if chosen is not None and st.button(
            literal(f"Request read/write on {chosen}"),
            key="upload-ask",
            help="Opens Request access with this source, read/write and the paths you read: change them there.",
        ):
            widgets.ask_for(chosen, AccessLevel.READ_WRITE, read_only[chosen])
            st.switch_page("pages/request_access.py")


def chosen_folder(source_name: str, write_paths: Paths) -> str | None:
    """The folder the files go to, checked as typed: no form, no file before it is one the files may go to."""
    folders = [p.lstrip("/") for p in write_paths] or [""]
    folder = st.text_input(
        "Folder",
        value=folders[0],
        key="upload-folder",
        help=literal(f"Where in {source_name} the files go. You may write in: {format_paths(write_paths)}."),
    )
    try:
        return upload_folder(folder, write_paths)
    except GatehouseError as error:
        st.error(literal(error))
        return None


def upload_files(gh: Gatehouse, me: User, movement_id: int, source_name: str, prefix: str) -> None:
    """The files chosen, uploaded one by one at the click, each with its progress and then what was stored."""
    files = st.file_uploader("Files", accept_multiple_files=True, key="upload-files")
    overwrite = st.checkbox("Replace files that already exist", key="upload-overwrite")
    if not (files and st.button("Upload", type="primary", key="upload-go")):
        return
    page_context = get_script_run_ctx()
    for file in files:
        key = f"{prefix}/{file.name}" if prefix else file.name
        bar = st.progress(0.0, text=f"{literal(file.name)}: 0%")
        sent = [0]

        def advance(
            bytes_sent: int, total: int = file.size, name: str = file.name, done: list[int] = sent, shown=bar
        ) -> None:  # type: ignore[no-untyped-def]
            # boto3 reports progress from its transfer threads: lend them this page's run context to draw.
            add_script_run_ctx(threading.current_thread(), page_context)
            done[0] += bytes_sent
            fraction = min(done[0] / total, 1.0) if total else 1.0
            shown.progress(fraction, text=f"{literal(name)}: {fraction:.0%}")

        try:
            moved = upload(
                gh, me, movement_id, source_name, key, file, file.size, overwrite=overwrite, progress=advance
            )
        except GatehouseError as error:
            bar.empty()
            st.error(literal(f"{file.name}: {error}"))
            continue
        bar.progress(1.0, text=f"{literal(file.name)}: done")
        st.success(
            literal(
                f"Uploaded {moved.key} to {moved.bucket} ({plural(moved.size, 'byte')}, SHA-256 {moved.sha256[:16]}…)."
            )
        )


upload_page(running.gatehouse(), signin.actor())
