"""`gatehouse`: the platform team's command line. Same settings and the same core functions as the app.

Errors are one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import getpass
import sys
import time
from dataclasses import MISSING, fields
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError

from core import access, audit_trail, grants, objects, people, sources
from core.adoption import import_roles
from core.config import Settings
from core.domain import AccessLevel, GatehouseError, SourceKind, format_paths
from core.expiry import expire
from core.local_aws import ensure_local_aws
from core.models import MovementKind, User
from core.movement import MovementForm, record_movement
from core.notify import deliver_email
from core.startup import Gatehouse, start

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False, help=__doc__)
users_app = typer.Typer(no_args_is_help=True, help="Joiners and leavers.")
sources_app = typer.Typer(no_args_is_help=True, help="Data sources (S3 buckets).")
access_app = typer.Typer(no_args_is_help=True, help="Who may use which source, at which level, on which paths.")
app.add_typer(users_app, name="users")
app.add_typer(sources_app, name="sources")
app.add_typer(access_app, name="access")


class Level(StrEnum):
    READ_ONLY = "read-only"
    READ_WRITE = "read-write"
    ADMIN = "admin"


class Kind(StrEnum):
    WAREHOUSE = "warehouse"
    WEBAPP = "webapp"


_started: list[Gatehouse] = []


def _gatehouse() -> Gatehouse:
    gatehouse = start(Settings())
    _started.append(gatehouse)
    return gatehouse


def _actor() -> User:
    """The CLI acts as the platform team; the audit trail names the operating-system user who ran it."""
    return people.platform_operator(getpass.getuser())


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise GatehouseError(f"{text!r} is not a date: write it as YYYY-MM-DD.") from None


def _report(outcome: grants.GrantOutcome) -> None:
    for failed in outcome.failed:
        typer.echo(f"recorded, not yet applied in AWS ({failed.role_name}): {failed.error}", err=True)


@users_app.command("add")
def users_add(
    username: str,
    email: Annotated[str, typer.Option(help="Their email address.")],
    line_manager: Annotated[str | None, typer.Option(help="Username of their line manager.")] = None,
    platform_admin: Annotated[bool, typer.Option("--platform-admin", help="A member of the platform team.")] = False,
    external: Annotated[bool, typer.Option("--external", help="Someone from outside the organisation.")] = False,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Add a platform member (a joiner) and create their IAM role."""
    joiner = people.add_user(
        _gatehouse(),
        _actor(),
        username,
        email,
        display_name=name,
        line_manager=line_manager,
        platform_admin=platform_admin,
        external=external,
    )
    typer.echo(f"added {joiner.user.username}")
    if joiner.existing_access_kept:
        typer.echo("their role already has an s3-access policy: left in place; run `gatehouse import-iam` to adopt it")


@users_app.command("leave")
def users_leave(username: str) -> None:
    """Mark a member as having left: all their access is revoked in IAM."""
    departure = people.mark_left(_gatehouse(), _actor(), username)
    typer.echo(f"{departure.username} has left; all their access is revoked")
    if departure.orphaned_sources:
        typer.echo("now orphaned (no active admin): " + ", ".join(departure.orphaned_sources))
    if departure.sync_error:
        typer.echo(f"recorded, not yet applied in AWS: {departure.sync_error}", err=True)


@sources_app.command("create")
def sources_create(
    name: str,
    admin: Annotated[str, typer.Option(help="Username of the source's first admin.")],
    kind: Annotated[Kind, typer.Option(help="warehouse or webapp.")] = Kind.WAREHOUSE,
    hidden: Annotated[bool, typer.Option("--hidden", help="Hidden from standard users (data engineering).")] = False,
    app_name: Annotated[str | None, typer.Option("--app", help="Webapp sources: the app that reads it.")] = None,
) -> None:
    """Create a data source: a hardened bucket, with its admin (and, for webapp sources, the app read-only)."""
    created = sources.create_source(
        _gatehouse(), _actor(), name, SourceKind(kind.value), admin=admin, hidden=hidden, app_name=app_name
    )
    typer.echo(f"created {created.name}")
    if created.error:
        typer.echo(f"recorded; the bucket is not made yet and will be retried: {created.error}", err=True)


@access_app.command("grant")
def access_grant(
    source: str,
    usernames: Annotated[list[str], typer.Argument(help="One or more platform members.")],
    level: Annotated[Level, typer.Option(help="read-only, read-write or admin.")],
    path: Annotated[
        list[str] | None, typer.Option(help="Restrict to this path (repeatable); none = whole bucket.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End date, YYYY-MM-DD.")] = None,
    yes_external: Annotated[bool, typer.Option("--yes-external", help="Confirm granting external users.")] = False,
) -> None:
    """Grant (or change) access to a source."""
    outcome = grants.grant_access(
        _gatehouse(),
        _actor(),
        source,
        usernames,
        AccessLevel(level.value),
        path or None,
        _date(until),
        confirm_external=yes_external,
    )
    typer.echo(f"granted {level.value} on {source} to {', '.join(outcome.recorded)}")
    _report(outcome)


@access_app.command("revoke")
def access_revoke(source: str, username: str) -> None:
    """Revoke a user's access to a source."""
    outcome = grants.revoke_access(_gatehouse(), _actor(), source, username)
    typer.echo(f"revoked {username}'s access to {source}")
    _report(outcome)


@access_app.command("list")
def access_list(
    user: Annotated[str | None, typer.Option(help="Only this user's access.")] = None,
    source: Annotated[str | None, typer.Option(help="Only access to this source.")] = None,
) -> None:
    """List grants: source, who, level, paths, end date."""
    rows = grants.list_access(_gatehouse(), _actor(), username=user, source_name=source)
    for row in rows:
        until = f"\tuntil {row.expires_on}" if row.expires_on else ""
        typer.echo(f"{row.source}\t{row.principal}\t{row.level.value}\t{format_paths(row.paths)}{until}")
    if not rows:
        typer.echo("no access found", err=True)


@app.command()
def reconcile(dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the drift.")] = False) -> None:
    """Compare every role's live IAM policies with the database; repair the drift (audited)."""
    gatehouse = _gatehouse()
    drift = access.find_drift(gatehouse, _actor())
    for item in drift:
        typer.echo(f"{item.role_name}: {item.what}")
    if not drift:
        typer.echo("no drift: AWS matches the database")
        return
    if dry_run:
        typer.echo(f"{len({d.role_name for d in drift})} role(s) drifted (dry run: nothing changed)")
        return
    outcomes = access.repair(gatehouse, drift, _actor())
    typer.echo(f"repaired {len(outcomes)} role(s)")


@app.command("import-iam")
def import_iam(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be imported.")] = False,
) -> None:
    """Adopt the s3-access policies of existing {env}_user_* roles as grants."""
    report = import_roles(_gatehouse(), _actor(), dry_run=dry_run)
    for line in report.lines:
        typer.echo(line)
    typer.echo(f"{'would import' if dry_run else 'imported'} {report.imported} grant(s); skipped {report.skipped}")


@app.command("expire")
def expire_command() -> None:
    """End access whose end date has passed, and warn holders and admins of access that ends soon (run daily)."""
    gatehouse = _gatehouse()
    report = expire(gatehouse)
    for line in report.expired:
        typer.echo(f"expired: {line}")
    for line in report.warned:
        typer.echo(f"warned: {line}")
    for line in report.sync_errors:
        typer.echo(f"recorded, not yet applied in AWS: {line}", err=True)
    typer.echo(f"{len(report.expired)} expired, {len(report.warned)} warned")


@app.command("upload")
def upload_command(
    files: Annotated[list[Path], typer.Argument(help="Files to upload.", exists=True, dir_okay=False, readable=True)],
    destination: Annotated[str, typer.Argument(help="s3://BUCKET/PREFIX")],
    form: Annotated[Path, typer.Option(help="The data movement form's answers (YAML).", exists=True, dir_okay=False)],
    user: Annotated[str, typer.Option("--as", help="The platform member moving the data (their grants apply).")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace objects that already exist.")] = False,
) -> None:
    """Upload files too big for a browser, after a data movement form, with a progress bar."""
    gatehouse = _gatehouse()
    bucket, _, prefix = destination.removeprefix("s3://").partition("/")
    if not destination.startswith("s3://") or not bucket:
        raise GatehouseError(f"{destination!r} is not an s3://BUCKET/PREFIX destination.")
    with gatehouse.session() as session:
        mover = people.active_user(session, user)
    movement_id = record_movement(gatehouse, mover, MovementKind.UPLOAD, read_form(form), bucket)
    typer.echo(f"data movement form {movement_id} recorded")
    for path in files:
        key = f"{prefix.strip('/')}/{path.name}" if prefix.strip("/") else path.name
        size = path.stat().st_size
        with path.open("rb") as stream, typer.progressbar(length=size, label=path.name) as bar:
            moved = objects.upload(gatehouse, mover, movement_id, bucket, key, stream, size, overwrite, bar.update)
        typer.echo(f"uploaded s3://{moved.bucket}/{moved.key} ({moved.size:,} bytes, sha256 {moved.sha256})")


def read_form(path: Path) -> MovementForm:
    """The form's answers from a YAML file whose keys are MovementForm's fields."""
    try:
        answers = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise GatehouseError(f"{path} is not a readable YAML file: {str(error).splitlines()[0]}") from None
    if not isinstance(answers, dict):
        raise GatehouseError(f"{path} must hold the form's answers as key: value lines.")
    known = {f.name for f in fields(MovementForm)}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise GatehouseError(f"{path} has unknown answers: {', '.join(unknown)} (expected {', '.join(sorted(known))}).")
    missing = sorted(f.name for f in fields(MovementForm) if f.name not in answers and f.default is MISSING)
    if missing:
        raise GatehouseError(f"{path} lacks answers: {', '.join(missing)}.")
    return MovementForm(**answers)


audit_app = typer.Typer(no_args_is_help=True, help="The append-only audit trail.")
app.add_typer(audit_app, name="audit")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


@audit_app.command("export")
def audit_export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl.")] = ExportFormat.CSV,
    since: Annotated[str | None, typer.Option(help="From this day on, YYYY-MM-DD (UTC).")] = None,
) -> None:
    """Write the audit trail to standard output, oldest first, streamed (it may be long)."""
    gatehouse = _gatehouse()
    with gatehouse.session() as session:
        for line in audit_trail.export(session, _actor(), fmt.value, audit_trail.AuditFilter(since=_date(since))):
            sys.stdout.write(line)


@app.command("local-aws")
def local_aws() -> None:
    """Run the local AWS emulation (S3, IAM, STS) in the foreground, with the database applied to it."""
    settings = Settings()
    if settings.aws_mode != "local":
        raise GatehouseError("local-aws runs only with GATEHOUSE_AWS_MODE=local.")
    endpoint = ensure_local_aws(settings)
    start(settings)
    typer.echo(f"local AWS emulation on {endpoint} (S3, IAM, STS); Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        typer.echo("stopped")


def main() -> None:
    try:
        app()
    except GatehouseError as error:
        typer.echo(f"gatehouse: {error}", err=True)
        sys.exit(1)
    except ValidationError as error:
        typer.echo(f"gatehouse: {error.errors()[0]['msg'].removeprefix('Value error, ')}", err=True)
        sys.exit(2)
    finally:
        for gatehouse in _started:  # what the command decided is committed; now email whom it concerns
            deliver_email(gatehouse)


if __name__ == "__main__":
    main()
