""" "Read this data": code for the user's own tools holds the real bucket and key, and the Python code parses."""

from __future__ import annotations

import ast
import re

import pytest

from core.domain import InvalidInput
from core.snippets import PYTHON_LIBRARIES, R_LIBRARIES, snippet_language, snippets

BUCKET = "alpha-sales-analysis"
FILES = [
    "published/sales_2025.csv",
    "published/sales_2025.tsv",
    "published/sales_2025.jsonl",
    "published/sales_2025.parquet",
    "published/sales_2025.xlsx",
    "published/notes.txt",
    'published/it\'s "quoted" \\ odd.csv',
]
FOLDERS = ["published/", "published/2025/", ""]


def check(code: dict[str, str], bucket: str, key: str) -> None:
    assert code, "some library can always read or download it"
    for library, text in code.items():
        assert library in PYTHON_LIBRARIES + R_LIBRARIES
        if snippet_language(library) == "python":
            tree = ast.parse(text)
            strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            # The real names reach the code as string values, whatever quotes or backslashes they hold.
            assert any(bucket in s for s in strings), library
            assert any(key in s for s in strings), library
        else:
            assert _r_strings_hold(text, bucket) and _r_strings_hold(text, key), library


def _r_strings_hold(text: str, value: str) -> bool:
    literals = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
    decoded = [re.sub(r"\\(.)", r"\1", literal) for literal in literals]
    return any(value in literal for literal in decoded)


@pytest.mark.parametrize("key", FILES)
def test_a_file_snippet_names_the_real_object(key: str) -> None:
    check(snippets(BUCKET, key), BUCKET, key)


@pytest.mark.parametrize("prefix", FOLDERS)
@pytest.mark.parametrize("kind", ["CSV", "TSV", "JSON lines", "Parquet", "Excel"])
def test_a_folder_snippet_reads_it_as_a_dataset_where_the_library_can(prefix: str, kind: str) -> None:
    check(snippets(BUCKET, prefix, folder_kind=kind), BUCKET, prefix)


def test_the_guidance_forms_are_followed() -> None:
    code = snippets(BUCKET, "published/sales_2025.csv")
    assert code["pandas"].endswith("df = pd.read_csv('s3://alpha-sales-analysis/published/sales_2025.csv')\n")
    assert "reader.read('s3://alpha-sales-analysis/published/sales_2025.csv')" in code["arrow-pd-parser"]
    assert "download_file('alpha-sales-analysis', 'published/sales_2025.csv', 'sales_2025.csv')" in code["boto3"]
    assert 's3_read("s3://alpha-sales-analysis/published/sales_2025.csv", read.csv)' in code["botor"]
    assert 's3_path = "alpha-sales-analysis/published/sales_2025.csv"' in code["Rs3tools"]
    folder = snippets(BUCKET, "published/")
    assert "wr.s3.read_csv('s3://alpha-sales-analysis/published/', dataset=True)" in folder["awswrangler"]
    assert "pl.read_csv('s3://alpha-sales-analysis/published/*.csv')" in folder["polars"]
    assert "arrow-pd-parser" not in folder  # it reads single files only


def test_a_file_no_library_parses_can_still_be_downloaded() -> None:
    assert set(snippets(BUCKET, "published/notes.txt")) == {"boto3", "Rs3tools", "botor"}


def test_a_folder_of_an_unknown_kind_is_refused_in_one_sentence() -> None:
    with pytest.raises(InvalidInput, match=r"^Choose what the folder's files are: .*\.$"):
        snippets(BUCKET, "published/", folder_kind="ZIP")
