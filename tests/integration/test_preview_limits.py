"""A preview is bounded in time, memory and width whatever the file holds (issue 24).

Anyone who can write to a source can leave a file built to make a parser work without end and wait for an admin or a
reviewer to preview it. Each file here is one that was measured to take tens of seconds or gigabytes before: the
preview now ends with one sentence, within the test's time bound (pytest-timeout), never by hanging. The parsing is
the same whichever database holds the grants, so these run on SQLite only.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from core import config
from core.actions.preview import preview
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import InvalidInput
from core.queries import get_user

WORKSPACE = "alpha-shared-workspace"  # alice: read/write, whole bucket
SHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gatehouse.db'}"


def alice(gatehouse: Gatehouse) -> User:
    with gatehouse.session() as session:
        return get_user(session, "alice")


def refused(gatehouse: Gatehouse, key: str, body: bytes) -> str:
    """The one sentence a preview of `body` ends with."""
    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].put_object(WORKSPACE, key, body)
    with pytest.raises(InvalidInput) as refusal:
        preview(gatehouse, alice(gatehouse), WORKSPACE, key)
    sentence = str(refusal.value)
    assert "\n" not in sentence and sentence.endswith("."), sentence
    return sentence


def workbook(rows: bytes, shared_strings: bytes | None = None) -> bytes:
    """The smallest workbook openpyxl opens: one sheet of these rows, and these shared strings."""
    strings = f'<Relationship Id="rId2" Type="{RELATIONSHIP}/sharedStrings" Target="sharedStrings.xml"/>'
    strings_type = (
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )
    members = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        f"{strings_type if shared_strings else ''}</Types>",
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{RELATIONSHIP}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{RELATIONSHIP}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{RELATIONSHIP}/worksheet" Target="worksheets/sheet1.xml"/>'
        f"{strings if shared_strings else ''}</Relationships>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", SHEET + rows + b"</sheetData></worksheet>")
        if shared_strings:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
    return out.getvalue()


def shared_strings(count: int, runs: int = 0) -> bytes:
    """`count` shared strings, each plain text or `runs` runs of rich text (openpyxl reads each run)."""
    string = b"<si>" + b"<r><t>a</t></r>" * runs + b"</si>" if runs else b"<si><t>a</t></si>"
    return b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + string * count + b"</sst>"


def huge_value(rows: int, size: int = 400_000_000) -> bytes:
    """A Parquet file of `rows` rows whose first value is `size` bytes of zeros: 400 MB compress to 13 KB (zstd)."""
    values = pa.array([bytes(size)] + [b"x"] * (rows - 1), pa.binary())
    out = io.BytesIO()
    pq.write_table(pa.table({"value": values}), out, compression="zstd", use_dictionary=False)
    return out.getvalue()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cells", [40_000, 200_000])
def test_a_workbook_row_too_wide_to_preview(gatehouse: Gatehouse, cells: int) -> None:
    row = b'<row r="1">' + b'<c t="n"><v>1</v></c>' * cells + b"</row>"
    book = workbook(row)
    assert len(book) < 20_000  # a few kilobytes: under every size limit a preview had
    assert refused(gatehouse, "hostile/wide.xlsx", book) == (
        "hostile/wide.xlsx is too wide to preview: more than 1,000 columns, where a preview shows up to 1,000; "
        "read it with code instead (see Read this data)."
    )


@pytest.mark.timeout(60)
def test_a_workbook_of_two_million_shared_strings(gatehouse: Gatehouse) -> None:
    book = workbook(b'<row r="1"><c t="s"><v>0</v></c></row>', shared_strings(2_000_000))
    assert len(book) < 200_000
    assert refused(gatehouse, "hostile/strings.xlsx", book) == (
        "hostile/strings.xlsx holds 2,000,000 different texts: Gatehouse previews Excel files of up to 200,000; "
        "read it with code instead (see Read this data)."
    )


@pytest.mark.timeout(60)
def test_a_zip_bomb_named_xlsx(gatehouse: Gatehouse) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("xl/worksheets/sheet1.xml", "w") as f:
        for _ in range(300):
            f.write(bytes(1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    assert refused(gatehouse, "hostile/bomb.xlsx", out.getvalue()) == (
        "hostile/bomb.xlsx unpacks to 300 MiB: Gatehouse previews Excel files that unpack to at most 256 MiB; "
        "read it with code instead (see Read this data)."
    )


@pytest.mark.timeout(60)
def test_a_parquet_value_that_unpacks_to_400_mb(gatehouse: Gatehouse) -> None:
    small = huge_value(1)
    assert len(small) < 64 * 1024  # far under the 32 MiB a Parquet preview may fetch
    assert refused(gatehouse, "hostile/value.parquet", small) == (
        "The first rows of hostile/value.parquet unpack to 381 MiB: Gatehouse previews at most 256 MiB; "
        "read it with code instead (see Read this data)."
    )


@pytest.mark.timeout(60)
def test_what_the_metadata_does_not_show_is_stopped_by_the_memory_limit(
    gatehouse: Gatehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One huge value among enough small ones that its row group looks ordinary for 50 rows (256 MiB or less): the
    worker runs out of the memory it may use (lowered here, so that the test need not make gigabytes). pyarrow may
    raise MemoryError or abort on a refused allocation, so the sentence says time or memory."""
    monkeypatch.setattr(config, "PREVIEW_MEMORY_MIB", 64)
    assert refused(gatehouse, "hostile/among.parquet", huge_value(100, 200_000_000)) in (
        "Previewing hostile/among.parquet needs more than the 64 MiB of memory a preview may use: read it with "
        "code instead (see Read this data).",
        "Previewing hostile/among.parquet needs more time or memory than a preview may use: read it with code "
        "instead (see Read this data).",
    )


@pytest.mark.timeout(60)
def test_what_takes_too_long_is_stopped_by_the_cpu_limit(gatehouse: Gatehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """150,000 shared strings of ten runs each pass the metadata check (fewer than 200,000 strings, 22 MiB unpacked)
    and take about thirteen seconds of work to read here: more than ten times the CPU time allowed, so that a faster
    machine stops it too (plain strings took 1.3 seconds, and a faster machine once read them within the second)."""
    monkeypatch.setattr(config, "PREVIEW_CPU_SECONDS", 1)
    book = workbook(b'<row r="1"><c t="s"><v>0</v></c></row>', shared_strings(150_000, runs=10))
    assert refused(gatehouse, "hostile/slow.xlsx", book) == (
        "Previewing hostile/slow.xlsx needs more than 1 second of work: read it with code instead (see Read this data)."
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("key", "separator"), [("hostile/commas.csv", b","), ("hostile/tabs.tsv", b"\t")])
def test_a_line_of_half_a_million_separators(gatehouse: Gatehouse, key: str, separator: bytes) -> None:
    assert refused(gatehouse, key, separator * 500_000 + b"\n") == (
        f"{key} is too wide to preview: 500,001 columns, where a preview shows up to 1,000; "
        "read it with code instead (see Read this data)."
    )


@pytest.mark.timeout(60)
def test_json_lines_with_a_huge_line(gatehouse: Gatehouse) -> None:
    huge = b'{"text": "' + b"x" * 5_000_000 + b'"}\n'
    assert refused(gatehouse, "hostile/huge.jsonl", huge) == (
        "The first line of hostile/huge.jsonl is longer than 1,000,000 bytes: Gatehouse cannot preview it."
    )
    keys = b"{" + b",".join(b'"k%d": 0' % n for n in range(50_000)) + b"}\n"
    assert refused(gatehouse, "hostile/keys.jsonl", keys) == (
        "hostile/keys.jsonl is too wide to preview: 50,000 columns, where a preview shows up to 1,000; "
        "read it with code instead (see Read this data)."
    )


@pytest.mark.timeout(60)
def test_long_text_is_cut_and_the_rest_shown(gatehouse: Gatehouse) -> None:
    line = b'{"id": 1, "text": "' + b"y" * 900_000 + b'"}\n{"id": 2, "text": "short"}\n'
    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].put_object(WORKSPACE, "long/lines.jsonl", line)
    shown = preview(gatehouse, alice(gatehouse), WORKSPACE, "long/lines.jsonl")
    assert shown["id"].tolist() == [1, 2]
    assert shown["text"].tolist() == ["y" * 1_000 + "…", "short"]


@pytest.mark.timeout(60)
def test_a_preview_that_outlasts_the_clock_is_ended(gatehouse: Gatehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "PREVIEW_SECONDS", 0)
    assert refused(gatehouse, "slow/orders.csv", b"id,region\n1,North\n") == (
        "Previewing slow/orders.csv took longer than 0 seconds: read it with code instead (see Read this data)."
    )


class _Planted:
    """What a worker taken over by a hostile file could send, were its answers unpickled: code run in the app."""

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (Path(_PLANTED_AT[0]),))


_PLANTED_AT: list[str] = []


def test_the_app_takes_only_data_from_a_worker_never_a_pickle(tmp_path: Path) -> None:
    """A worker parses hostile files, so the app reads its answers as data (JSON, or an Arrow table checked in full):
    a pickle it sends is no answer (and runs nothing), nor is a JSON word no worker says."""
    import json
    import pickle

    from core import preview_worker

    _PLANTED_AT[:] = [str(tmp_path / "ran")]
    for raw in (
        pickle.dumps(("rows", _Planted())),
        b"J" + pickle.dumps(("rows", _Planted())),
        b"R" + b"not an arrow stream",
        b"J" + json.dumps(["rows", [[1, 2]]]).encode(),
    ):
        with pytest.raises(InvalidInput, match="answered what no worker says"):
            preview_worker._heard(raw)
    assert not (tmp_path / "ran").exists()
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", {"nested": 1}]})  # a JSON lines field of two kinds goes as text
    tag, rows = preview_worker._heard(b"R" + preview_worker._arrow(frame))
    assert tag == "rows" and rows["a"].tolist() == [1, 2] and rows["b"].tolist() == ["x", "{'nested': 1}"]
