"""The code stays as STYLE.md asks: ruff-clean, and pages never talk to AWS or SQL themselves."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_are_thin() -> None:
    forbidden = re.compile(r"^\s*(import boto3|from boto3|import botocore|from sqlmodel|from sqlalchemy)", re.M)
    for page in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]:
        assert not forbidden.search(page.read_text()), f"{page.name} talks to AWS or the database directly"
