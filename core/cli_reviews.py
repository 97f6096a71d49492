"""`gatehouse reviews …`: start an access review, run the schedule, print a campaign's report (issue #17). The
commands start Gatehouse and act as `core.cli_common` says (core.cli adds this group to `gatehouse`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from core import actions
from core.cli_common import operator, start_gatehouse, typed_date
from core.cli_help import Commands
from core.domain import GatehouseError, day, moment, plural
from core.reads import review_signatures, reviews

reviews_app = Commands(no_args_is_help=True, help="Access reviews: every grant looked at again by a due date.")


class ReportFormat(StrEnum):
    CSV = "csv"


@reviews_app.command("start")
def reviews_start(
    due: Annotated[str, typer.Option(help="The due date, YYYY-MM-DD.", metavar="DATE")],
    source: Annotated[
        list[str] | None, typer.Option(help="A source to review (repeat it); none: every source.")
    ] = None,
) -> None:
    """Start a campaign: each live grant of the sources (and every external user's) is reviewed by its admins."""

    due_on = typed_date(due)
    assert due_on is not None
    started = actions.start_review(start_gatehouse(), operator(), due_on, source or None)
    typer.echo(
        f"started access review {started.campaign_id}: {plural(started.grants, 'grant')} of "
        f"{plural(started.holders, 'person', 'people')} on {plural(started.sources, 'source')}, "
        f"due {day(started.due_on)}"
    )


@reviews_app.command("run")
def reviews_run() -> None:
    """The schedule (run daily, from any number of machines): start reviews that are due, remind reviewers, and
    handle grants nobody reviewed by a due date (GATEHOUSE_REVIEW_UNREVIEWED)."""

    ran = actions.run_reviews(start_gatehouse(), operator())
    if ran.started is not None:
        typer.echo(f"started access review {ran.started.campaign_id}: {plural(ran.started.grants, 'grant')}")
    for line in ran.reminded:
        typer.echo(f"reminded: {line}")
    for line in ran.not_revoked:
        typer.echo(f"not revoked: {line}", err=True)
    for campaign_id in ran.closed:
        typer.echo(f"closed: access review {campaign_id}")
    typer.echo(f"{ran.flagged:,} flagged, {ran.revoked:,} revoked")


@reviews_app.command("report")
def reviews_report(
    campaign: Annotated[int, typer.Argument(help="The campaign's number.")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="csv.")] = ReportFormat.CSV,
) -> None:
    """Write a campaign's evidence to standard output: every grant, the decision, who decided and when, the holder's
    answer, and what changed in AWS; and, on standard error, whose information asset owner signed each source's
    report."""

    if fmt is not ReportFormat.CSV:
        raise GatehouseError("The report is written as csv.")
    gatehouse = start_gatehouse()
    with gatehouse.session() as session:
        for line in reviews.report_csv(session, operator(), campaign):
            sys.stdout.write(line)
        signed = review_signatures.signatures(session, operator(), campaign)
    for source in signed:  # said on standard error: the CSV stays the report alone
        if source.signed_at is not None:
            typer.echo(f"{source.source}: report signed by {source.signed_by} at {moment(source.signed_at)}", err=True)
        elif source.iao is not None:
            typer.echo(f"{source.source}: report not signed yet by its information asset owner, {source.iao}", err=True)
