"""Browse (AppTest): a page of its own, where a row of the folder's table opens it (a folder, or a file's panel of
tabs), a bucket's root included; a reader-writer restores a version with no data movement form, a reader cannot.
A folder's listing is kept between reruns: what Gatehouse writes shows at once, what others write at Refresh."""

from __future__ import annotations

import io

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core import actions
from core.adapters.models import AuditEvent, DataMovement, MovementKind
from core.context import Gatehouse
from core.queries import get_user
from tests.app.test_journeys import go, messages, widget
from tests.app.test_sign_in import app_env, page_text, sign_in  # noqa: F401  (fixture)
from tests.app.test_upload_page import CSV, fill_form
from tests.integration.test_movement import form

WORKSPACE = "alpha-shared-workspace"


def browse(at: AppTest, source: str) -> AppTest:
    go(at, "pages/browse.py")
    widget(at, "selectbox", "Data source").select(source).run()
    assert not at.exception, at.exception
    return at


def rows(at: AppTest) -> list[str]:
    """The names in the folder's table (the page's first table)."""
    return list(at.dataframe[0].value["Name"])


def click_row(at: AppTest, source: str, name: str) -> AppTest:
    """Tick a row's box, as a person does in the browser (AppTest cannot click a table: it sets its state)."""
    table = at.session_state[f"browse-{source}"]["table"]
    at.session_state[f"browse-table-{source}-{table}"] = {
        "selection": {"rows": [rows(at).index(name)], "columns": [], "cells": []}
    }
    at.run()
    assert not at.exception, at.exception
    return at


def open_tab(at: AppTest, label: str) -> AppTest:
    at.session_state["browse-object-tab"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def test_browse_is_a_page_whose_rows_open_folders_and_files(app_env: Gatehouse) -> None:  # noqa: F811
    app_env.aws.put_object(WORKSPACE, "top.csv", b"a,b\n1,2\n")  # a file at the bucket's root
    at = browse(sign_in("alice"), WORKSPACE)
    assert rows(at) == ["notes/", "top.csv"]
    assert not [w for w in at.selectbox if w.label == "Object"]  # no picker of full keys: the rows open
    click_row(at, WORKSPACE, "top.csv")  # a file at the root opens like any other
    assert "**top.csv** · 8 bytes" in page_text(at)
    assert [t.label for t in at.tabs][:5] == ["Preview", "Code", "Download", "Copy or move", "Versions"]

    click_row(at, WORKSPACE, "notes/")
    assert rows(at) == ["regions.csv"]
    assert "**top.csv**" not in page_text(at)  # a new folder, a new table: nothing ticked in it
    click_row(at, WORKSPACE, "regions.csv")
    widget(at, "button", "Preview the first rows").click().run()
    assert not at.exception, at.exception
    assert len(at.dataframe) == 2  # the folder's table, and the file's first rows under Preview
    open_tab(at, "Code")
    assert any("notes/regions.csv" in c.value for c in at.code)

    crumbs = at.button_group[0]  # the breadcrumb: the bucket, then each folder on the way
    assert (crumbs.options, crumbs.value) == ([WORKSPACE, "notes"], "notes/")  # one line, where she is highlighted
    crumbs.set_value("").run()
    assert not at.exception, at.exception
    assert rows(at) == ["notes/", "top.csv"]


def test_a_file_written_meanwhile_never_turns_the_tick_onto_another_file(app_env: Gatehouse) -> None:  # noqa: F811
    app_env.aws.put_object(WORKSPACE, "top.csv", b"a,b\n1,2\n")
    at = click_row(browse(sign_in("alice"), WORKSPACE), WORKSPACE, "top.csv")
    assert "**top.csv**" in page_text(at)
    app_env.aws.put_object(WORKSPACE, "another.csv", b"a\n")  # another tool's write: row 1 is now another.csv
    at.run()
    assert rows(at) == ["notes/", "another.csv", "top.csv"]
    assert "**another.csv**" not in page_text(at) and "**top.csv**" not in page_text(at)  # a new table, unticked


def test_a_path_grant_browses_from_the_root_down_to_its_paths(app_env: Gatehouse) -> None:  # noqa: F811
    at = browse(sign_in("alice"), "alpha-sales-analysis")  # alice reads /published only
    assert rows(at) == ["published/"]
    click_row(at, "alpha-sales-analysis", "published/")
    assert "sales_2025.csv" in rows(at)


def test_a_link_opens_browse_on_a_source(app_env: Gatehouse) -> None:  # noqa: F811
    at = sign_in("alice")
    at.query_params["source"] = WORKSPACE
    go(at, "pages/browse.py")
    assert widget(at, "selectbox", "Data source").value == WORKSPACE
    assert rows(at) == ["notes/"]


def test_alice_moves_a_file_in_browse_after_a_form(app_env: Gatehouse) -> None:  # noqa: F811
    at = browse(sign_in("alice"), WORKSPACE)
    click_row(at, WORKSPACE, "notes/")
    click_row(at, WORKSPACE, "regions.csv")
    open_tab(at, "Copy or move")
    widget(at, "radio", "Copy or move").set_value("Move").run()
    widget(at, "text_input", "As").input("notes/regions-moved.csv").run()
    fill_form(at)
    widget(at, "button", "Move").click().run()
    assert not at.exception, at.exception
    assert any(m.startswith("Moved to alpha-shared-workspace/notes/regions-moved.csv") for m in messages(at))
    keys = {o["Key"] for o in app_env.aws.s3.list_objects_v2(Bucket=WORKSPACE)["Contents"]}
    assert "notes/regions-moved.csv" in keys and "notes/regions.csv" not in keys
    assert rows(at) == ["regions-moved.csv"]  # the folder's table, listed again at once
    with app_env.session() as session:
        [movement] = session.exec(select(DataMovement)).all()
    assert movement.kind == "move" and movement.objects


def overwrite(gatehouse: Gatehouse, key: str, bodies: tuple[bytes, ...]) -> None:
    with gatehouse.session() as session:
        alice = get_user(session, "alice")
    for n, body in enumerate(bodies):
        form_id = actions.record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
        actions.upload(gatehouse, alice, form_id, WORKSPACE, key, io.BytesIO(body), len(body), overwrite=n > 0)


def test_a_writer_restores_a_version_with_no_form_and_a_reader_cannot(app_env: Gatehouse) -> None:  # noqa: F811
    overwrite(app_env, "notes/prices.csv", (b"item,price\napple,1\n", b"item,price\napple,999\n"))
    with app_env.session() as session:
        forms = len(session.exec(select(DataMovement)).all())

    bob = browse(sign_in("bob"), WORKSPACE)  # bob reads the workspace
    click_row(bob, WORKSPACE, "notes/")
    click_row(bob, WORKSPACE, "prices.csv")
    open_tab(bob, "Versions")
    assert widget(bob, "radio", "What to do with it").options == ["Download it"]

    at = browse(sign_in("alice"), WORKSPACE)
    click_row(at, WORKSPACE, "notes/")
    click_row(at, WORKSPACE, "prices.csv")
    open_tab(at, "Versions")
    assert "alice (form " in page_text(at)
    widget(at, "radio", "What to do with it").set_value("Restore it").run()
    assert not [w for w in at.text_area if w.label == "What the data is"]  # no data movement form
    widget(at, "button", "Restore this version").click().run()
    assert not at.exception, at.exception
    assert any(m.startswith("Restored notes/prices.csv: the version of") for m in messages(at))
    assert "alice (restored)" in page_text(at)  # the new current version, credited to her
    sizes = dict(zip(rows(at), at.dataframe[0].value["Size"], strict=True))
    assert sizes["prices.csv"] == "19 bytes"  # the folder's table shows the restored version at once (not 21 bytes)
    assert app_env.aws.open_object(WORKSPACE, "notes/prices.csv").read() == b"item,price\napple,1\n"
    with app_env.session() as session:
        assert len(session.exec(select(DataMovement)).all()) == forms  # no form asked for, none made
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "data-restored")).all()
    assert event.actor == "alice" and event.details["key"] == "notes/prices.csv"


def test_an_upload_shows_in_browse_at_once(app_env: Gatehouse) -> None:  # noqa: F811
    at = browse(sign_in("alice"), WORKSPACE)
    click_row(at, WORKSPACE, "notes/")
    assert rows(at) == ["regions.csv"]
    assert any(c.value.startswith("Listed at ") for c in at.caption)  # how fresh the listing is
    go(at, "pages/upload.py")
    widget(at, "selectbox", "Data source").select(WORKSPACE).run()
    widget(at, "text_input", "Folder").input("notes").run()
    fill_form(at)
    at.file_uploader[0].upload("orders.csv", CSV, "text/csv").run()
    widget(at, "button", "Upload").click().run()
    assert any(m.startswith("Uploaded notes/orders.csv") for m in messages(at))
    go(at, "pages/browse.py")
    assert rows(at) == ["orders.csv", "regions.csv"]  # listed again: her upload is there, not the listing of before


def test_refresh_shows_what_another_tool_wrote(app_env: Gatehouse) -> None:  # noqa: F811
    at = browse(sign_in("alice"), WORKSPACE)
    assert rows(at) == ["notes/"]
    another_tool = app_env.aws.session.client("s3", endpoint_url=app_env.settings.endpoint_url)  # not Gatehouse's
    another_tool.put_object(Bucket=WORKSPACE, Key="from-a-pipeline.csv", Body=b"a\n1\n")
    widget(at, "button", "Refresh").click().run()
    assert not at.exception, at.exception
    assert rows(at) == ["notes/", "from-a-pipeline.csv"]


def test_the_folders_code_is_made_when_unfolded(app_env: Gatehouse) -> None:  # noqa: F811
    at = click_row(browse(sign_in("alice"), WORKSPACE), WORKSPACE, "notes/")
    assert [e.label for e in at.expander] == ["Read this folder in Python or R"]
    at.session_state["browse-folder-code"] = True  # unfolded, as a click does
    at.run()
    assert any("s3://alpha-shared-workspace/notes/" in c.value for c in at.code)
