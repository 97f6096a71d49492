"""`gatehouse --help` reads as what to type (issue 25): no Python type beside a parameter (`--dry-run <bool>` for a
flag that takes no value, `<str>`, `<list[Path]>`), in any command's help; and `upload --help` and the README name
every answer of the data movement form its YAML file holds, which once only an error message listed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import typer
from typer.testing import CliRunner

from core.cli import app, read_form
from core.movement import MovementForm

README = Path(__file__).resolve().parents[2] / "README.md"
TYPE_PLACEHOLDER = re.compile(r"<[^<>\s]*>")  # <bool>, <str>, <list[Path]>, <file>, <int>


def commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from commands(sub, (*path, name))


def help_of(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_no_help_shows_a_type_placeholder() -> None:
    every = list(commands(typer.main.get_command(app)))
    assert ("upload",) in every and ("users", "add") in every and ("reviews", "start") in every
    for path in every:
        text = help_of(path)
        assert "--help" in text
        assert not TYPE_PLACEHOLDER.findall(text), (path, TYPE_PLACEHOLDER.findall(text), text)


def test_a_flag_shows_nothing_beside_it_and_a_value_what_it_is() -> None:
    grant = help_of(("access", "grant"))
    assert re.search(r"--yes-external\s+Confirm", grant)
    assert re.search(r"--until\s+DATE\s+End date", grant)
    assert re.search(r"--level\s+read-only\|read-write\|admin\s", grant)


def test_upload_help_and_the_readme_name_every_answer_of_the_form() -> None:
    keys = [f.name for f in fields(MovementForm)]
    assert "declaration" in keys and "dpia_reference" in keys
    upload = help_of(("upload",))
    readme = README.read_text()
    for key in keys:
        assert re.search(rf"^\s*{key}: \S", upload, re.MULTILINE), (key, upload)
        assert re.search(rf"^{key}: ", readme, re.MULTILINE), key


def test_the_readmes_example_form_is_one_the_cli_takes(tmp_path: Path) -> None:
    (example,) = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.DOTALL)
    form = tmp_path / "form.yaml"
    form.write_text(example)
    answers = read_form(form)
    assert answers.classification == "OFFICIAL" and answers.declaration is True
