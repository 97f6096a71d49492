"""The Upload page (AppTest): no file is accepted before the data movement form is complete; then files go to the
chosen folder, carrying the form's id."""

from __future__ import annotations

import hashlib

from sqlmodel import select

from core import actions
from core.adapters.models import DataMovement, DataSource, Grant
from core.context import Gatehouse
from core.domain import AccessLevel
from core.queries import get_user
from pages.ui.markup import literal
from tests.app.test_journeys import go, messages, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)

CSV = b"month,region,orders\n2025-01,North,12\n2025-02,South,7\n"


def fill_form(at, declaration: bool = True, nth: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Fill in the nth movement form on the page."""
    widget(at, "text_area", "What the data is", nth).input("Monthly orders by region, aggregated.")
    widget(at, "text_input", "Where it comes from", nth).input("The sales team's reporting system")
    widget(at, "text_area", "Purpose of the move", nth).input("Analyse regional trends for the pricing review.")
    widget(at, "text_input", "How long it will be kept", nth).input("Two years")
    if declaration:
        widget(
            at, "checkbox", "I declare that the information governance procedures for this data were followed", nth
        ).check()
    widget(at, "button", "Complete the form", nth).click()
    at.run()
    assert not at.exception, at.exception


def test_no_file_is_accepted_before_the_form_is_complete(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("alice"), "pages/upload.py")
    assert not at.file_uploader  # nothing to drop a file into yet
    fill_form(at, declaration=False)
    assert [e.value for e in at.error] == [
        "Confirm that the information governance procedures for this data were followed."
    ]
    assert not at.file_uploader
    with app_env.session() as session:
        assert session.exec(select(DataMovement)).all() == []


def test_after_the_form_a_file_is_uploaded_with_the_forms_id(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("alice"), "pages/upload.py")
    widget(at, "selectbox", "Data source").select("alpha-shared-workspace")
    at.run()
    widget(at, "text_input", "Folder").input("notes")
    at.run()
    fill_form(at)
    assert any("is complete" in m for m in messages(at))
    at.file_uploader[0].upload("orders.csv", CSV, "text/csv")
    at.run()
    widget(at, "button", "Upload").click()
    at.run()
    assert not at.exception, at.exception
    assert any(m.startswith("Uploaded notes/orders.csv to alpha-shared-workspace") for m in messages(at))
    head = app_env.aws.s3.head_object(Bucket="alpha-shared-workspace", Key="notes/orders.csv")
    with app_env.session() as session:
        [movement] = session.exec(select(DataMovement)).all()
    assert head["Metadata"]["gatehouse-movement-id"] == str(movement.id)
    assert movement.objects[0]["sha256"] == hashlib.sha256(CSV).hexdigest()


def test_alice_cannot_upload_where_she_only_reads(app_env: Gatehouse) -> None:  # noqa: F811
    at = go(sign_in("alice"), "pages/upload.py")
    assert widget(at, "selectbox", "Data source").options == ["alpha-shared-workspace"]


def test_with_several_sources_the_folder_and_the_form_wait_for_the_one_chosen(app_env: Gatehouse) -> None:  # noqa: F811
    """Nobody's files go to a source picked for them: with two writable sources none is chosen, and the folder and the
    data movement form's fields are drawn once one is."""
    with app_env.session() as session:
        bob = get_user(session, "bob")
    actions.grant_access(app_env, bob, "alpha-sales-analysis", ["alice"], AccessLevel.READ_WRITE)
    at = go(sign_in("alice"), "pages/upload.py")
    source = widget(at, "selectbox", "Data source")
    assert source.value is None and sorted(source.options) == ["alpha-sales-analysis", "alpha-shared-workspace"]
    assert not at.text_input and not at.text_area and not at.file_uploader
    source.select("alpha-sales-analysis")
    at.run()
    assert widget(at, "text_input", "Folder").value == ""
    fill_form(at)
    assert any("is complete" in m for m in messages(at))
    assert at.file_uploader


def test_a_folder_that_climbs_out_or_breaks_a_key_is_refused_as_typed(app_env: Gatehouse) -> None:  # noqa: F811
    """`../etc` was accepted until a file was chosen and Upload pressed: every folder no object name may start with is
    refused at the field, in one sentence, before the movement form and the file picker are offered."""
    at = go(sign_in("alice"), "pages/upload.py")
    widget(at, "selectbox", "Data source").select("alpha-shared-workspace")
    at.run()
    refused = {
        "../etc": "The folder must not contain . or .. as a folder name.",
        "notes/..": "The folder must not contain . or .. as a folder name.",
        "/etc": "The folder must not start with /: write etc, not /etc.",
        "..\\etc": "The folder holds a backslash (\\): separate folders with /, as in reports/2025.",
        "notes//2025": "The folder has an empty folder name (//).",
        "notes\tdrafts": "The folder holds a control character, such as a tab or a line break: remove it.",
        "notes\u202e": "The folder holds a text-direction override, which makes a name look like another: remove it.",
    }
    for folder, sentence in refused.items():
        widget(at, "text_input", "Folder").input(folder)
        at.run()
        assert not at.exception, at.exception
        assert [e.value for e in at.error] == [literal(sentence)], folder
        assert not [w for w in at.text_area if w.label == "What the data is"] and not at.file_uploader, folder
    widget(at, "text_input", "Folder").input("notes/2025/")  # a folder written with its slash is that folder
    at.run()
    assert not at.error
    assert widget(at, "text_area", "What the data is")


def test_a_folder_outside_the_paths_one_may_write_is_refused_as_typed(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:  # alice may write only /notes of the shared workspace
        grant = session.exec(
            select(Grant).where(Grant.user_id == get_user(session, "alice").id, Grant.level == AccessLevel.READ_WRITE)
        ).one()
        grant.paths = ["/notes"]
        session.add(grant)
        session.commit()
    at = go(sign_in("alice"), "pages/upload.py")
    assert widget(at, "text_input", "Folder").value == "notes"
    widget(at, "text_input", "Folder").input("drafts")
    at.run()
    assert [e.value for e in at.error] == ["You may put files only in notes: drafts is outside it."]
    assert not at.file_uploader


def test_with_several_sources_one_reads_the_person_chooses_which_to_ask_to_write(app_env: Gatehouse) -> None:  # noqa: F811
    """ "Request read/write" once asked for the first source read, for the whole bucket: the person chooses the
    source, and Request access opens with it, read/write and the paths they read."""
    with app_env.session() as session:
        alice = get_user(session, "alice")
        pricing = session.exec(select(DataSource).where(DataSource.name == "alpha-pricing-models")).one()
        session.add(Grant(source_id=pricing.id, user_id=alice.id, level=AccessLevel.READ_ONLY, paths=["/reports"]))
        session.commit()
    at = go(sign_in("alice"), "pages/upload.py")
    choice = widget(at, "selectbox", "Ask for read/write on")
    assert choice.value is None and choice.options == ["alpha-pricing-models", "alpha-sales-analysis"]
    assert not [b for b in at.button if b.label.startswith("Request read/write")]  # nothing chosen for her
    choice.select("alpha-pricing-models")
    at.run()
    widget(at, "button", "Request read/write on alpha-pricing-models").click()
    at.run()
    assert not at.exception, at.exception
    assert widget(at, "selectbox", "Data source").value == "alpha-pricing-models"
    assert widget(at, "radio", "Access level").value == AccessLevel.READ_WRITE
    assert widget(at, "text_area", "Paths (optional)").value == "/reports"
