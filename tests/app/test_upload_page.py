"""The Upload page (AppTest): no file is accepted before the data movement form is complete; then files go to the
chosen folder, carrying the form's id."""

from __future__ import annotations

import hashlib

from sqlmodel import select

from core.adapters.models import DataMovement
from core.context import Gatehouse
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
