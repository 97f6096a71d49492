"""`gatehouse serve` (the HTTP service: SCIM 2.0 provisioning at /scim/v2), `gatehouse scim token …` and
`gatehouse teams …` (teams made in Gatehouse, for platforms without SCIM) (issue #27).
The commands start Gatehouse and act as `core.cli_common` says (core.cli adds them to `gatehouse`)."""

from __future__ import annotations

from typing import Annotated

import typer

from core.actions import provision_team, scim_token
from core.cli_common import operator, start_gatehouse
from core.cli_help import Commands
from core.domain import moment, plural

scim_app = Commands(no_args_is_help=True, help="SCIM provisioning from your identity provider.")
scim_token_app = Commands(no_args_is_help=True, help="The bearer tokens your identity provider presents.")
scim_app.add_typer(scim_token_app, name="token")
teams_app = Commands(no_args_is_help=True, help="Teams: your identity provider's groups, or made here.")


def serve(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8502,
) -> None:
    """Serve Gatehouse over HTTP: SCIM 2.0 provisioning at /scim/v2 (put it behind your TLS proxy)."""
    import uvicorn

    from core.service.app import make_app

    application = make_app(start_gatehouse())
    typer.echo(f"SCIM 2.0 on http://{host}:{port}/scim/v2; Ctrl-C stops it")
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)


@scim_token_app.command("create")
def scim_token_create(name: str) -> None:
    """Make a bearer token for an identity provider; it is printed this once (only its hash is kept)."""

    token = scim_token.create_token(start_gatehouse(), operator(), name)
    typer.echo(token)
    typer.echo(f"the SCIM token {name.strip()} is shown this once: give it to your identity provider now", err=True)


@scim_token_app.command("revoke")
def scim_token_revoke(name: str) -> None:
    """Revoke a token: the identity provider presenting it is refused from now on."""

    scim_token.revoke_token(start_gatehouse(), operator(), name)
    typer.echo(f"revoked the SCIM token {name.strip()}")


@scim_token_app.command("list")
def scim_token_list() -> None:
    """The tokens: name, who made it, when, and when it was last used."""

    tokens = scim_token.list_tokens(start_gatehouse(), operator())
    for token in tokens:
        used = f"last used {moment(token.last_used_at)}" if token.last_used_at else "never used"
        typer.echo(f"{token.name}\tmade by {token.created_by} {moment(token.created_at)}\t{used}")
    if not tokens:
        typer.echo("no SCIM tokens", err=True)


@teams_app.command("create")
def teams_create(
    name: str,
    member: Annotated[list[str] | None, typer.Option(help="A member's username (repeat it).")] = None,
) -> None:
    """Make a team (for platforms whose identity provider does not send groups over SCIM)."""

    gatehouse = start_gatehouse()
    ids = provision_team.member_ids(gatehouse, member or [])
    made = provision_team.create_team(gatehouse, operator(), name, ids)
    typer.echo(f"created the team {made.name} ({plural(len(made.members), 'member')})")


@teams_app.command("add-member")
def teams_add_member(name: str, usernames: list[str]) -> None:
    """Add members to a team."""

    changed = provision_team.change_members(start_gatehouse(), operator(), name, add=usernames)
    typer.echo(f"{changed.name}: {', '.join(n for _, n in changed.members) or 'nobody'}")


@teams_app.command("remove-member")
def teams_remove_member(name: str, usernames: list[str]) -> None:
    """Take members out of a team."""

    changed = provision_team.change_members(start_gatehouse(), operator(), name, remove=usernames)
    typer.echo(f"{changed.name}: {', '.join(n for _, n in changed.members) or 'nobody'}")


@teams_app.command("list")
def teams_list() -> None:
    """Every team, where it comes from, and its members."""

    found = provision_team.teams(start_gatehouse())
    for team in found:
        where = "identity provider" if team.from_identity_provider else "Gatehouse"
        typer.echo(f"{team.name}\t{where}\t{', '.join(n for _, n in team.members) or 'nobody'}")
    if not found:
        typer.echo("no teams", err=True)
