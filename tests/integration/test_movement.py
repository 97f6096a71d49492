"""Data movement: the form, and browsing, previewing, uploading, downloading and copying under it.

The core decides from the database grants (never from the page) who may touch which key; every object that moves is
added to its form with its size and SHA-256, and carries the form's id in its S3 metadata. Runs on SQLite and
PostgreSQL against moto's server, which runs in this process (so large test listings are put straight into its
backend).
"""

from __future__ import annotations

import ast
import hashlib
import io
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from boto3.s3.transfer import TransferConfig
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from sqlmodel import select

from core import actions
from core.actions.copy_object import copy, move
from core.actions.download import download
from core.actions.preview import preview
from core.actions.record_movement import record_movement
from core.actions.upload import HashingReader, upload
from core.adapters.models import AuditEvent, DataMovement, DataSource, MovementKind, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, NotAllowed, NotFound
from core.movement import MOVEMENT_METADATA, FormNeeded, MovementForm, ObjectExists, validate_key
from core.queries import get_user
from core.reads.browse import breadcrumbs, list_folder
from core.reads.movements import previous_forms

SALES = "alpha-sales-analysis"  # alice: read only on /published; bob: admin
ROOT = Path(__file__).resolve().parents[2]
WORKSPACE = "alpha-shared-workspace"  # alice: read/write, whole bucket
PRICING = "alpha-pricing-models"  # alice: nothing
MiB = 1024 * 1024


def form(**changes: Any) -> MovementForm:
    answers: dict[str, Any] = {
        "description": "Monthly regional sales extract",
        "origin": "Finance team's shared drive",
        "destination": "alpha-shared-workspace",
        "purpose": "Quarterly pricing review for the finance committee",
        "classification": "OFFICIAL",
        "personal_data": False,
        "retention": "Until the review ends in March 2027",
        "declaration": True,
    }
    return MovementForm(**{**answers, **changes})


def user(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def movement(gatehouse: Gatehouse, movement_id: int) -> DataMovement:
    with gatehouse.session() as session:
        found = session.get(DataMovement, movement_id)
        assert found is not None
        return found


def calls(gatehouse: Gatehouse, event: str, client: Any = None) -> list[dict[str, Any]]:
    """The parameters of every call of one S3 operation made from now on through a Gatehouse client."""
    seen: list[dict[str, Any]] = []
    (client or gatehouse.aws.s3).meta.events.register(
        f"before-parameter-build.s3.{event}", lambda params, **_: seen.append(dict(params))
    )
    return seen


def put_direct(bucket: str, key: str, body: bytes) -> None:
    """Straight into the emulation's memory: fast enough for ten thousand objects."""
    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].put_object(bucket, key, body)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the form and key rules (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"description": "  "}, "Say what the data is"),
        ({"origin": ""}, "Say where the data comes from"),
        ({"destination": None}, "Say where the data goes"),
        ({"purpose": "x"}, "Say why the data is moving"),
        ({"classification": "SECRET"}, "OFFICIAL or OFFICIAL-SENSITIVE"),
        ({"personal_data": "maybe"}, "personal data: yes or no"),
        ({"personal_data": True}, "data protection impact assessment"),
        ({"retention": "a\nb"}, "on one line"),
        ({"retention": "x" * 201}, "at most 200 characters"),
        ({"description": "bad \x00 byte here"}, "without control characters"),
        ({"declaration": False}, "information governance procedures"),
    ],
)
def test_a_bad_answer_is_one_clear_sentence(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        form(**changes)
    assert "\n" not in str(refused.value) and str(refused.value).endswith(".")


def test_answers_are_tidied() -> None:
    answers = form(classification=" official sensitive ", personal_data=True, dpia_reference=" DPIA-42 ")
    assert (answers.classification, answers.dpia_reference) == ("OFFICIAL-SENSITIVE", "DPIA-42")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "Enter a name"),
        ("/a.csv", "must not start with /"),
        ("a/../b.csv", r"must not contain \. or \.\."),
        ("a/\tb.csv", "control character"),
        ("a/b/", "must not end with /"),
        ("a//b.csv", "empty folder name"),
        ("..\\etc\\passwd", "backslash"),
        ("é" * 513, "at most 1,024"),
    ],
)
def test_object_names_are_checked(key: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_key(key)


def test_the_checksum_counts_each_byte_once_even_when_a_retry_reads_again() -> None:
    data = bytes(range(256)) * 100
    reader = HashingReader(io.BytesIO(data))
    reader.read(1000)
    reader.seek(0)  # a retried request starts its body again
    reader.read(5000)
    reader.read()
    assert (reader.size, reader.hexdigest()) == (len(data), sha256(data))
    skipping = HashingReader(io.BytesIO(data))
    skipping.seek(10)
    with pytest.raises(OSError, match="out of order"):
        skipping.read(5)


# --- who may write where ----------------------------------------------------------------------------------------


def test_writing_needs_write_access_inside_the_granted_paths(gatehouse: Gatehouse) -> None:
    alice, bob = user(gatehouse, "alice"), user(gatehouse, "bob")
    with pytest.raises(NotAllowed, match="read-only access to alpha-sales-analysis"):
        record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), SALES)
    with pytest.raises(NotAllowed, match="no access to alpha-pricing-models"):
        record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), PRICING)

    actions.grant_access(gatehouse, bob, SALES, ["alice"], AccessLevel.READ_WRITE, "/published")
    form_id = record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), SALES)
    with pytest.raises(NotAllowed, match=r"covers only /published: drafts/new\.csv is outside it"):
        upload(gatehouse, alice, form_id, SALES, "drafts/new.csv", io.BytesIO(b"a\n1\n"), 4)
    with pytest.raises(NotAllowed, match="outside it"):
        upload(gatehouse, alice, form_id, SALES, "publishedX/new.csv", io.BytesIO(b"a\n1\n"), 4)
    assert upload(gatehouse, alice, form_id, SALES, "published/new.csv", io.BytesIO(b"a\n1\n"), 4).size == 4

    with pytest.raises(FormNeeded, match="Complete a data movement form before you upload data"):
        upload(gatehouse, alice, None, WORKSPACE, "notes/x.csv", io.BytesIO(b"x"), 1)
    with pytest.raises(FormNeeded, match="other data sources"):
        upload(gatehouse, alice, form_id, WORKSPACE, "notes/x.csv", io.BytesIO(b"x"), 1)
    with pytest.raises(NotFound, match="no data movement form"):
        upload(gatehouse, bob, form_id, SALES, "published/y.csv", io.BytesIO(b"x"), 1)  # alice's form, not bob's
    objects = gatehouse.aws.s3.list_objects_v2(Bucket=SALES, Prefix="drafts/new")
    assert objects["KeyCount"] == 0


def test_hidden_and_archived_sources_are_not_there(gatehouse: Gatehouse) -> None:
    alice, dave = user(gatehouse, "alice"), user(gatehouse, "dave")
    with pytest.raises(NotFound, match="no data source called alpha-de-raw-intake"):
        list_folder(gatehouse, alice, "alpha-de-raw-intake")
    assert [o.key for o in list_folder(gatehouse, dave, "alpha-de-raw-intake", "incoming").objects] == [
        "incoming/raw_feed.csv"
    ]
    with gatehouse.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == WORKSPACE)).one()
        source.archived_at = utcnow()
        session.add(source)
    with pytest.raises(NotAllowed, match="archived"):
        list_folder(gatehouse, alice, WORKSPACE)
    with pytest.raises(NotAllowed, match="archived"):
        record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(), WORKSPACE)


# --- upload -----------------------------------------------------------------------------------------------------


def test_an_upload_carries_its_form_and_its_checksum(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    form_id = record_movement(gatehouse, alice, "upload", form(), WORKSPACE)
    body = b"region,orders\nNorth,3\nSouth,5\n"
    moved = upload(gatehouse, alice, form_id, WORKSPACE, "intake/orders.csv", io.BytesIO(body), len(body))

    head = gatehouse.aws.s3.head_object(Bucket=WORKSPACE, Key="intake/orders.csv")
    assert head["Metadata"][MOVEMENT_METADATA] == str(form_id)
    stored = gatehouse.aws.s3.get_object(Bucket=WORKSPACE, Key="intake/orders.csv")["Body"].read()
    assert (moved.size, moved.sha256) == (len(body), sha256(stored)) and stored == body
    record = movement(gatehouse, form_id)
    assert record.total_bytes == len(body) and record.completed_at is not None
    assert [(o["key"], o["size"], o["sha256"]) for o in record.objects] == [
        ("intake/orders.csv", len(body), sha256(body))
    ]
    with gatehouse.session() as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.actor == "alice")).all()
    assert {"data-movement-recorded", "data-uploaded"} <= set(actions)


@pytest.mark.both_databases  # concurrent writers
def test_several_files_under_one_form_at_once_are_all_recorded(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    form_id = record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
    bodies = {f"batch/{n}.csv": f"n\n{n}\n".encode() * (n + 1) for n in range(6)}
    errors: list[BaseException] = []

    def send(key: str) -> None:
        try:
            upload(gatehouse, alice, form_id, WORKSPACE, key, io.BytesIO(bodies[key]), len(bodies[key]))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send, args=(key,)) for key in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    record = movement(gatehouse, form_id)
    assert {o["key"]: o["sha256"] for o in record.objects} == {k: sha256(b) for k, b in bodies.items()}
    assert record.total_bytes == sum(len(b) for b in bodies.values())


def test_replacing_an_object_needs_confirmation_even_when_it_appears_mid_upload(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    form_id = record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
    new = b"region\nWales\n"
    with pytest.raises(ObjectExists, match=r"notes/regions\.csv already exists in alpha-shared-workspace: confirm"):
        upload(gatehouse, alice, form_id, WORKSPACE, "notes/regions.csv", io.BytesIO(new), len(new))
    replaced = upload(gatehouse, alice, form_id, WORKSPACE, "notes/regions.csv", io.BytesIO(new), len(new), True)
    assert replaced.sha256 == sha256(new)
    assert movement(gatehouse, form_id).objects[-1]["replaced"] is True

    def race(operation: str) -> None:
        """Another writer puts the key after Gatehouse looked, just before Gatehouse's write is sent."""
        gatehouse.aws.s3_create_only.meta.events.register_first(
            f"before-parameter-build.s3.{operation}",
            lambda params, **_: gatehouse.aws.put_object(WORKSPACE, params["Key"], b"theirs"),
            unique_id=f"race-{operation}",
        )

    race("PutObject")
    with pytest.raises(ObjectExists, match="appeared in alpha-shared-workspace while Gatehouse was writing it"):
        upload(gatehouse, alice, form_id, WORKSPACE, "race/small.csv", io.BytesIO(new), len(new))
    race("CompleteMultipartUpload")
    big = bytes(11 * MiB)
    small_parts = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    with pytest.raises(ObjectExists, match="appeared"):
        upload(gatehouse, alice, form_id, WORKSPACE, "race/big.bin", io.BytesIO(big), len(big), config=small_parts)
    for key in ("race/small.csv", "race/big.bin"):
        assert gatehouse.aws.s3.get_object(Bucket=WORKSPACE, Key=key)["Body"].read() == b"theirs"
    assert len(movement(gatehouse, form_id).objects) == 1  # refused writes are not recorded


def test_a_file_above_the_multipart_threshold_goes_up_in_parts(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    form_id = record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
    body = np.random.default_rng(7).bytes(11 * MiB + 123)
    client = gatehouse.aws.s3_create_only
    parts, completions = calls(gatehouse, "UploadPart", client), calls(gatehouse, "CompleteMultipartUpload", client)
    sent: list[int] = []
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    moved = upload(
        gatehouse, alice, form_id, WORKSPACE, "big/blob.bin", io.BytesIO(body), len(body), progress=sent.append,
        config=config,
    )  # fmt: skip
    assert len(parts) == 3 and completions[0]["IfNoneMatch"] == "*"
    assert sum(sent) == len(body)
    stored = gatehouse.aws.s3.get_object(Bucket=WORKSPACE, Key="big/blob.bin")
    assert stored["Metadata"][MOVEMENT_METADATA] == str(form_id)
    assert moved.sha256 == sha256(body) == sha256(stored["Body"].read())


# --- browse -----------------------------------------------------------------------------------------------------


def test_a_folder_of_ten_thousand_objects_shows_its_first_page_after_one_list_call(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    for n in range(10_000):
        put_direct(WORKSPACE, f"many/{n:05d}.csv", b"x")
    put_direct(WORKSPACE, "many/sub/inner.csv", b"x")
    listed = calls(gatehouse, "ListObjectsV2")

    first = list_folder(gatehouse, alice, WORKSPACE, "many")
    assert len(listed) == 1 and listed[0]["MaxKeys"] == 100 and listed[0]["Delimiter"] == "/"
    assert [o.name for o in first.objects[:2]] == ["00000.csv", "00001.csv"] and first.next_token
    second = list_folder(gatehouse, alice, WORKSPACE, "many/", first.next_token)
    assert len(listed) == 2 and second.objects[0].name == f"{len(first.objects):05d}.csv"
    assert first.console_url.endswith("&prefix=many/")
    assert [(c.name, c.prefix) for c in breadcrumbs(WORKSPACE, "many/sub/")] == [
        (WORKSPACE, ""),
        ("many", "many/"),
        ("sub", "many/sub/"),
    ]


def test_a_path_grant_shows_only_its_paths(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    listed = calls(gatehouse, "ListObjectsV2")
    root = list_folder(gatehouse, alice, SALES)
    assert [(f.name, f.prefix) for f in root.folders] == [("published", "published/")] and root.objects == []
    assert listed == []  # the granted paths are shown, the bucket is not listed
    # Her role may not list the root either: the console opens at her path
    assert root.console_url.endswith(f"/buckets/{SALES}?region=eu-west-1&tab=objects&prefix=published/")
    inside = list_folder(gatehouse, alice, SALES, "/published")
    assert [o.key for o in inside.objects] == ["published/sales_2025.csv", "published/sales_2025.parquet"]
    with pytest.raises(NotAllowed, match="covers only /published: drafts/ is outside it"):
        list_folder(gatehouse, alice, SALES, "drafts/")
    with pytest.raises(NotAllowed, match="outside it"):
        preview(gatehouse, alice, SALES, "drafts/forecast_2026.csv")
    form_id = record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(), SALES)
    with pytest.raises(NotAllowed, match="outside it"):
        download(gatehouse, alice, form_id, SALES, "drafts/forecast_2026.csv")
    with pytest.raises(InvalidInput, match="1 to 1,000 entries"):
        list_folder(gatehouse, alice, SALES, "published/", page_size=5000)


# --- preview ----------------------------------------------------------------------------------------------------


def received(gatehouse: Gatehouse) -> list[int]:
    """Bytes S3 sent back for each GetObject from now on."""
    sizes: list[int] = []
    gatehouse.aws.s3.meta.events.register(
        "after-call.s3.GetObject", lambda parsed, **_: sizes.append(int(parsed["ContentLength"]))
    )
    return sizes


def test_a_preview_reads_a_bounded_part_of_a_large_file(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    rows = "".join(f"{n},North,{n * 3}\n" for n in range(400_000))
    big_csv = ("id,region,orders\n" + rows).encode()
    put_direct(WORKSPACE, "big/orders.csv", big_csv)
    frame = np.random.default_rng(1).random((400_000, 4))
    parquet = io.BytesIO()
    pd.DataFrame(frame, columns=list("abcd")).to_parquet(parquet, row_group_size=50_000)
    put_direct(WORKSPACE, "big/values.parquet", parquet.getvalue())
    requests, sizes = calls(gatehouse, "GetObject"), received(gatehouse)

    shown = preview(gatehouse, alice, WORKSPACE, "big/orders.csv", max_bytes=64 * 1024, rows=20)
    assert list(shown.columns) == ["id", "region", "orders"] and len(shown) == 20
    assert [r["Range"] for r in requests] == ["bytes=0-65535"] and sum(sizes) == 64 * 1024 < len(big_csv) // 50

    requests.clear(), sizes.clear()
    values = preview(gatehouse, alice, WORKSPACE, "big/values.parquet", rows=50)
    assert list(values.columns) == list("abcd") and len(values) == 50
    assert np.allclose(values.to_numpy(), frame[:50])
    assert all("Range" in r for r in requests) and sum(sizes) < len(parquet.getvalue()) // 4
    with pytest.raises(InvalidInput, match="would read more than 100,000 bytes: read it with code instead"):
        preview(gatehouse, alice, WORKSPACE, "big/values.parquet", max_parquet_bytes=100_000)

    sales = preview(gatehouse, alice, SALES, "published/sales_2025.parquet", rows=5)
    assert list(sales.columns) == ["month", "region", "orders", "revenue_gbp"] and len(sales) == 5


def test_what_cannot_be_previewed_is_said_plainly(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    with pytest.raises(InvalidInput, match=r"^Gatehouse can preview CSV, TSV, JSON lines, Parquet and Excel files\.$"):
        preview(gatehouse, alice, WORKSPACE, "notes/readme.txt")
    put_direct(WORKSPACE, "big/book.xlsx", bytes(11 * MiB))
    with pytest.raises(InvalidInput, match="previews Excel files of up to 10 MiB"):
        preview(gatehouse, alice, WORKSPACE, "big/book.xlsx")
    workbook = io.BytesIO()
    pd.DataFrame({"a": [1, 2, 3]}).to_excel(workbook, index=False)
    put_direct(WORKSPACE, "small/book.xlsx", workbook.getvalue())
    assert preview(gatehouse, alice, WORKSPACE, "small/book.xlsx")["a"].tolist() == [1, 2, 3]
    put_direct(WORKSPACE, "small/broken.parquet", b"not parquet at all")
    with pytest.raises(InvalidInput, match=r"could not read small/broken\.parquet as Parquet"):
        preview(gatehouse, alice, WORKSPACE, "small/broken.parquet")
    put_direct(WORKSPACE, "small/lines.jsonl", b'{"a": 1}\n{"a": 2}\n')
    assert preview(gatehouse, alice, WORKSPACE, "small/lines.jsonl")["a"].tolist() == [1, 2]
    with pytest.raises(NotFound, match=r"no object small/missing\.csv"):
        preview(gatehouse, alice, WORKSPACE, "small/missing.csv")


# --- download, copy, move ---------------------------------------------------------------------------------------


def test_a_download_needs_a_form_and_is_recorded_on_it(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    key = "published/sales_2025.csv"
    with pytest.raises(FormNeeded, match="before you download data"):
        download(gatehouse, alice, None, SALES, key)
    upload_form = record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
    with pytest.raises(FormNeeded, match="is for an upload: complete one for this download"):
        download(gatehouse, alice, upload_form, WORKSPACE, "notes/regions.csv")

    form_id = record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(destination="My laptop"), SALES)
    data = b"".join(download(gatehouse, alice, form_id, SALES, key))
    assert data == gatehouse.aws.s3.get_object(Bucket=SALES, Key=key)["Body"].read()
    [entry] = movement(gatehouse, form_id).objects
    assert (entry["key"], entry["size"], entry["sha256"], entry["complete"]) == (key, len(data), sha256(data), True)
    with gatehouse.session() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "data-downloaded")).one()
    assert event.details["movement_id"] == form_id and event.actor == "alice"


def test_copy_from_a_readable_path_to_a_writable_source(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    with pytest.raises(NotAllowed, match="read-only access to alpha-sales-analysis"):
        record_movement(gatehouse, alice, MovementKind.COPY, form(), WORKSPACE, SALES)
    with pytest.raises(NotAllowed, match="read-only access"):
        record_movement(gatehouse, alice, MovementKind.MOVE, form(), SALES, WORKSPACE)
    form_id = record_movement(gatehouse, alice, MovementKind.COPY, form(), SALES, WORKSPACE)
    with pytest.raises(NotAllowed, match="outside it"):
        copy(gatehouse, alice, form_id, SALES, "drafts/forecast_2026.csv", WORKSPACE, "copies/forecast.csv")

    moved = copy(gatehouse, alice, form_id, SALES, "published/sales_2025.csv", WORKSPACE, "copies/sales.csv")
    original = gatehouse.aws.s3.get_object(Bucket=SALES, Key="published/sales_2025.csv")
    copied = gatehouse.aws.s3.get_object(Bucket=WORKSPACE, Key="copies/sales.csv")
    assert copied["Metadata"] == {"gatehouse-demo": "true", MOVEMENT_METADATA: str(form_id)}
    assert copied["ContentType"] == original["ContentType"]
    assert moved.sha256 == sha256(original["Body"].read()) == sha256(copied["Body"].read())
    with pytest.raises(ObjectExists, match="already exists"):
        copy(gatehouse, alice, form_id, SALES, "published/sales_2025.csv", WORKSPACE, "copies/sales.csv")
    [entry] = movement(gatehouse, form_id).objects
    assert entry["from_bucket"] == SALES and entry["bucket"] == WORKSPACE

    move_form = record_movement(gatehouse, alice, MovementKind.MOVE, form(), WORKSPACE, WORKSPACE)
    move(gatehouse, alice, move_form, WORKSPACE, "copies/sales.csv", WORKSPACE, "archive/sales.csv")
    assert gatehouse.aws.s3.list_objects_v2(Bucket=WORKSPACE, Prefix="copies/")["KeyCount"] == 0
    assert movement(gatehouse, move_form).objects[0]["key"] == "archive/sales.csv"


def test_a_previous_form_is_a_starting_point(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    first = record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
    second = record_movement(
        gatehouse, alice, MovementKind.DOWNLOAD, form(personal_data=True, dpia_reference="DPIA-7"), SALES
    )
    with gatehouse.session() as session:
        latest = previous_forms(session, alice, limit=5)
    assert [(f.id, f.kind, f.source) for f in latest] == [
        (second, MovementKind.DOWNLOAD, SALES),
        (first, MovementKind.UPLOAD, WORKSPACE),
    ]
    assert "declaration" not in latest[0].answers and latest[0].answers["dpia_reference"] == "DPIA-7"
    assert MovementForm(**latest[0].answers, declaration=True) == form(personal_data=True, dpia_reference="DPIA-7")


# --- every way data leaves ------------------------------------------------------------------------------------

# Every public function of core/actions and core/reads that reads an object's bytes, and what stands between them
# and a person: a form for this very movement, or (a preview) a bounded sample, recorded as a read, that no table
# exports (.streamlit/config.toml: client.disableDataExport). A new way out must be added here to pass.
WAYS_OUT: dict[str, Any] = {
    "download": lambda gh, alice, form_id: b"".join(download(gh, alice, form_id, SALES, "published/sales_2025.csv")),
    "copy": lambda gh, alice, form_id: copy(
        gh, alice, form_id, SALES, "published/sales_2025.csv", WORKSPACE, "copies/sales.csv"
    ),
    "move": lambda gh, alice, form_id: move(gh, alice, form_id, WORKSPACE, "notes/regions.csv", WORKSPACE, "x.csv"),
}


BOUNDED = {"preview"}
# Reads an object's bytes only to record the checksum of what it wrote in the same bucket: nothing enters or leaves
# the platform, so no form; an audited write for read/write holders (tests/integration/test_versions.py).
IN_PLACE = {"restore_version"}
READS_BYTES = {
    "open_object",
    "copy_object",
    "checksum",
    "_RangedFile",
}  # core/adapters/s3.py's reads of bytes, and a view on one


def test_every_way_data_leaves_is_listed() -> None:
    """The public functions of the actions and reads that reach an object's bytes (directly or through a helper of
    their module) are exactly the ways out this module checks."""
    public: set[str] = set()
    for module in sorted([*(ROOT / "core" / "actions").glob("*.py"), *(ROOT / "core" / "reads").glob("*.py")]):
        tree = ast.parse(module.read_text())
        defs = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
        calls = {
            name: {
                c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")
                for c in ast.walk(node)
                if isinstance(c, ast.Call)
            }
            for name, node in defs.items()
        }

        def reads(name: str, seen: frozenset[str] = frozenset(), calls: dict[str, set[str]] = calls) -> bool:
            called = calls.get(name, set())
            return bool(called & READS_BYTES) or any(
                reads(c, seen | {name}) for c in called & set(calls) - seen - {name}
            )

        public |= {name for name in defs if not name.startswith("_") and reads(name)}
    assert public == set(WAYS_OUT) | BOUNDED | IN_PLACE


@pytest.mark.parametrize("way", sorted(WAYS_OUT))
def test_no_data_leaves_without_a_form_for_it(gatehouse: Gatehouse, way: str) -> None:
    alice = user(gatehouse, "alice")
    kind = {
        "download": MovementKind.DOWNLOAD,
        "copy": MovementKind.COPY,
        "move": MovementKind.MOVE,
    }[way]
    with pytest.raises(FormNeeded):
        WAYS_OUT[way](gatehouse, alice, None)
    wrong = record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
    with pytest.raises(FormNeeded):
        WAYS_OUT[way](gatehouse, alice, wrong)
    events = audit_actions(gatehouse)
    target = None if kind is MovementKind.DOWNLOAD else WORKSPACE
    where = WORKSPACE if kind is MovementKind.MOVE else SALES
    right = record_movement(gatehouse, alice, kind, form(), where, target)
    WAYS_OUT[way](gatehouse, alice, right)
    moved = [
        a for a in audit_actions(gatehouse)[len(events) :] if a.startswith("data-") and a != "data-movement-recorded"
    ]
    assert len(moved) == 1 and len(movement(gatehouse, right).objects) == 1  # one movement, one record


def test_a_preview_is_a_bounded_read_on_record(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    shown = preview(gatehouse, alice, SALES, "published/sales_2025.parquet", rows=5)
    with gatehouse.session() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "data-previewed")).one()
    assert (event.actor, event.details["key"], event.details["rows"]) == ("alice", "published/sales_2025.parquet", 5)
    assert len(shown) == 5 and "previewed 5 rows of published/sales_2025.parquet" in event.summary


def audit_actions(gatehouse: Gatehouse) -> list[str]:
    with gatehouse.session() as session:
        return list(session.exec(select(AuditEvent.action).order_by(AuditEvent.id)))
