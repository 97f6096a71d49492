"""`gatehouse access grant`, `revoke`, `list`: who may use which source, at which level, on which paths; to members
or to a team (`--team NAME`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer

from core import actions
from core.cli_common import operator, start_gatehouse, typed_date
from core.cli_help import Commands
from core.domain import AccessLevel, InvalidInput, NotFound, day
from core.reads import catalog

access_app = Commands(no_args_is_help=True, help="Who may use which source, at which level, on which paths.")


def _report(outcome: actions.GrantOutcome) -> None:
    for failed in outcome.failed:
        typer.echo(f"recorded, not yet applied in AWS ({failed.role_name}): {failed.error}", err=True)


@access_app.command("grant")
def access_grant(
    source: str,
    usernames: Annotated[list[str] | None, typer.Argument(help="One or more platform members.")] = None,
    level: Annotated[AccessLevel | None, typer.Option(help="What they may do.")] = None,
    path: Annotated[
        list[str] | None, typer.Option(help="Restrict to this path (repeatable); none = whole bucket.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End date, YYYY-MM-DD.", metavar="DATE")] = None,
    yes_external: Annotated[bool, typer.Option("--yes-external", help="Confirm granting external users.")] = False,
    team: Annotated[str | None, typer.Option(help="Grant a team instead: every member has it.", metavar="NAME")] = None,
) -> None:
    """Grant (or change) access to a source, to members or to a team."""
    if level is None:
        _bad_input("Say what they may do: --level read-only, read-write or admin.")
    paths, ends = "\n".join(path or ()), typed_date(until)  # each --path a line of the paths field, read there
    if team is not None:
        if usernames:
            _bad_input(f"Grant either members or a team: drop {usernames[0]}, or --team {team}.")
        with _team_input():
            outcome = actions.grant_team_access(start_gatehouse(), operator(), source, team, level, paths, ends)
        whom = f"the {outcome.recorded[0]} team"
    else:
        if not usernames:
            _bad_input("Name one or more platform members, or a team with --team NAME.")
        outcome = actions.grant_access(
            start_gatehouse(), operator(), source, usernames, level, paths, ends, confirm_external=yes_external
        )
        whom = ", ".join(outcome.recorded)
    pending = "recorded, not yet applied in AWS: " if outcome.failed else ""
    typer.echo(f"{pending}granted {level.value} on {source} to {whom}")
    _report(outcome)


@access_app.command("revoke")
def access_revoke(
    source: str,
    username: Annotated[str | None, typer.Argument(help="The platform member.")] = None,
    path: Annotated[
        list[str] | None, typer.Option(help="Revoke only this path, exactly as held (repeat for more).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Revoke a team's access instead.", metavar="NAME")] = None,
) -> None:
    """Revoke a user's (or a team's) access to a source, or to some of the paths held on it."""
    paths = "\n".join(path or ())
    if team is not None:
        if username:
            _bad_input(f"Revoke either a member's access or a team's: drop {username}, or --team {team}.")
        with _team_input():
            outcome = actions.revoke_team_access(start_gatehouse(), operator(), source, team, paths)
        whose = f"the {outcome.recorded[0]} team's"
    else:
        if not username:
            _bad_input("Name the platform member, or a team with --team NAME.")
        outcome = actions.revoke_access(start_gatehouse(), operator(), source, username, paths)
        whose = f"{outcome.recorded[0]}'s"
    pending = "recorded, not yet applied in AWS: " if outcome.failed else ""
    what = f"access to {', '.join(path)} of {source}" if path else f"access to {source}"
    typer.echo(f"{pending}revoked {whose} {what}")
    _report(outcome)


@access_app.command("list")
def access_list(
    user: Annotated[str | None, typer.Option(help="Only this user's access.", metavar="USERNAME")] = None,
    source: Annotated[str | None, typer.Option(help="Only access to this source.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team's access.", metavar="NAME")] = None,
) -> None:
    """List grants: source, who (a team as team:NAME), level, paths, end date."""
    if user and team:
        _bad_input(f"List either a member's access or a team's: drop --user {user}, or --team {team}.")
    with _team_input(team is not None):
        rows = start_gatehouse().run(catalog.list_access, operator(), username=user, source_name=source, team=team)
    for row in rows:
        until = f"\tuntil {day(row.expires_on)}" if row.expires_on else ""
        ended = f"\t{row.ended.sentence()}" if row.ended else ""
        typer.echo(f"{row.source}\t{row.principal}\t{row.level.value}\t{row.paths}{until}{ended}")
    if not rows:
        typer.echo("no access found", err=True)


def _bad_input(sentence: str) -> NoReturn:
    """Input that cannot be what was meant: one sentence, exit 2, nothing changed."""
    typer.echo(f"gatehouse: {sentence}", err=True)
    raise typer.Exit(2)


@contextmanager
def _team_input(naming_a_team: bool = True) -> Iterator[None]:
    """A command naming a team: what it was given refused (a team unknown, or a path it does not hold) is bad input."""
    try:
        yield
    except (InvalidInput, NotFound) as refused:
        if not naming_a_team:
            raise
        _bad_input(str(refused))
