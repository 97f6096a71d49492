"""`gatehouse sources set` and `show`: what a source holds (its classification) and who answers for it (its
information asset owner), and a source as the platform team sees it; `sources create` is core/cli.py's."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from core import actions
from core.cli_common import operator, start_gatehouse
from core.cli_help import Commands
from core.domain import Classification, InvalidInput, NotFound, day, shown
from core.reads import catalog, sources

sources_app = Commands(no_args_is_help=True, help="Data sources (S3 buckets).")
CLASSIFICATIONS = "|".join(c.value for c in Classification)


@sources_app.command("set")
def sources_set(
    name: str,
    classification: Annotated[str | None, typer.Option(help="What the source holds.", metavar=CLASSIFICATIONS)] = None,
    iao: Annotated[
        str | None,
        typer.Option("--iao", help="Personal data: its information asset owner, an active member.", metavar="USERNAME"),
    ] = None,
) -> None:
    """Say whether a source holds personal data, and who its information asset owner is."""
    if classification is None:
        _bad_input(f"Say what {shown(name, 63)} holds: --classification {CLASSIFICATIONS.replace('|', ', ')}.")
    try:
        kind = Classification(classification.strip().lower())
    except ValueError:
        _bad_input(f"{shown(classification, 40)} is not a classification: choose {CLASSIFICATIONS.replace('|', ', ')}.")
    try:
        done = actions.set_classification(start_gatehouse(), operator(), name, kind, iao)
    except (InvalidInput, NotFound) as refused:
        _bad_input(str(refused))
    typer.echo(done.sentence)


@sources_app.command("show")
def sources_show(name: str) -> None:
    """A source: its kind, what it holds and its information asset owner, its admins and who has access."""
    gatehouse = start_gatehouse()
    try:
        source = gatehouse.run(sources.source_details, operator(), name)
    except (InvalidInput, NotFound) as refused:
        _bad_input(str(refused))
    grants = gatehouse.run(catalog.list_access, operator(), source_name=source.name)
    holds = source.holds
    owner = (holds.iao + (" (left)" if holds.iao_left else "")) if holds.iao else "none"
    for label, value in (
        ("source", source.name),
        ("kind", source.kind.value),
        ("classification", holds.classification.value),
        ("information asset owner", owner),
        ("admins", ", ".join(source.admins) or "none left (orphaned)"),
        ("hidden", "yes" if source.hidden else "no"),
        ("archived", "yes" if source.archived else "no"),
        ("grants", str(len(grants))),
    ):
        typer.echo(f"{label}:\t{value}")
    for row in grants:
        until = f"\tuntil {day(row.expires_on)}" if row.expires_on else ""
        ended = f"\t{row.ended.sentence()}" if row.ended else ""
        typer.echo(f"\t{row.principal}\t{row.level.value}\t{row.paths}{until}{ended}")


def _bad_input(sentence: str) -> NoReturn:
    """Input that cannot be what was meant: one sentence, exit 2, nothing changed."""
    typer.echo(f"gatehouse: {sentence}", err=True)
    raise typer.Exit(2)
