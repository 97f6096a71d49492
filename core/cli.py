"""`gatehouse`: the platform team's command line. Same settings and the same core functions as the app. Errors are
one line on stderr and a non-zero exit code."""

from __future__ import annotations

import sys
import time
from dataclasses import MISSING, fields
from enum import StrEnum
from pathlib import Path
from typing import Annotated, get_args, get_type_hints

import typer
import yaml

from core import actions, audit, effects
from core.actions.expire import expire
from core.actions.import_roles import import_roles
from core.actions.record_movement import record_movement
from core.actions.sign_in_link import way_in
from core.adapters.local_aws import ensure_local_aws
from core.adapters.models import MovementKind
from core.cli_access import access_app
from core.cli_common import operator, start_gatehouse, typed_date
from core.cli_help import Commands
from core.cli_reviews import reviews_app
from core.cli_scim import scim_app, serve, teams_app
from core.cli_sources import sources_app
from core.config import ConfigurationError, load_settings
from core.domain import GatehouseError, InvalidInput, SourceKind, plural, shown
from core.movement import MovementForm, form_questions
from core.reads import audit_trail, people
from core.startup import start

app = Commands(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False, help=__doc__)
users_app = Commands(no_args_is_help=True, help="Joiners and leavers.")
app.add_typer(users_app, name="users")
app.add_typer(sources_app, name="sources")
app.add_typer(access_app, name="access")
app.add_typer(reviews_app, name="reviews")
app.add_typer(scim_app, name="scim")
app.add_typer(teams_app, name="teams")
app.command("serve")(serve)


class Kind(StrEnum):
    WAREHOUSE = "warehouse"
    WEBAPP = "webapp"


MAX_FORM_BYTES = 100_000  # a form's answers are a few kilobytes: anything bigger is the wrong file


@users_app.command("add")
def users_add(
    username: str,
    email: Annotated[str, typer.Option(help="Their email address.")],
    line_manager: Annotated[
        str | None, typer.Option(help="Username of their line manager.", metavar="USERNAME")
    ] = None,
    platform_admin: Annotated[bool, typer.Option("--platform-admin", help="A member of the platform team.")] = False,
    external: Annotated[bool, typer.Option("--external", help="Someone from outside the organisation.")] = False,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Add a platform member (a joiner) and create their IAM role; with password sign-in, print their one-time link."""
    gatehouse = start_gatehouse()
    joiner = actions.add_user(
        gatehouse,
        operator(),
        username,
        email,
        display_name=name,
        line_manager=line_manager,
        platform_admin=platform_admin,
        external=external,
    )
    typer.echo(f"added {joiner.user.username}")
    if told := way_in(gatehouse.settings, joiner.sign_in_link):
        typer.echo(told)
    if joiner.sign_in_link:
        typer.echo(joiner.sign_in_link.url)
    if joiner.sync_error:
        typer.echo(f"recorded; their IAM role is not made yet (retried): {joiner.sync_error}", err=True)
    if joiner.existing_access_kept:
        typer.echo("their role already has an s3-access policy: left in place; run `gatehouse import-iam` to adopt it")


@users_app.command("link")
def users_link(username: str) -> None:
    """A new one-time link that sets a member's password (none yet, or forgotten); the earlier one stops working."""
    gatehouse = start_gatehouse()
    link = actions.new_sign_in_link(gatehouse, operator(), username)
    typer.echo(way_in(gatehouse.settings, link))
    typer.echo(link.url)


@users_app.command("leave")
def users_leave(username: str) -> None:
    """Mark a member as having left: all their access is revoked in IAM."""
    departure = actions.mark_left(start_gatehouse(), operator(), username)
    typer.echo(departure.outcome, err=bool(departure.sync_error))
    if departure.orphaned_sources:
        typer.echo("now orphaned (no active admin): " + ", ".join(departure.orphaned_sources))


@sources_app.command("create")
def sources_create(
    name: str,
    admin: Annotated[str, typer.Option(help="Username of the source's first admin.", metavar="USERNAME")],
    kind: Annotated[Kind, typer.Option(help="warehouse or webapp.")] = Kind.WAREHOUSE,
    hidden: Annotated[bool, typer.Option("--hidden", help="Hidden from standard users (data engineering).")] = False,
    app_name: Annotated[
        str | None, typer.Option("--app", help="Webapp sources: the app that reads it.", metavar="APP")
    ] = None,
) -> None:
    """Create a data source: a hardened bucket, with its admin (and, for webapp sources, the app read-only)."""
    created = actions.create_source(
        start_gatehouse(), operator(), name, SourceKind(kind.value), admin=admin, hidden=hidden, app_name=app_name
    )
    typer.echo(f"created {created.name}")
    if created.error:
        typer.echo(f"recorded; the bucket is not made yet and will be retried: {created.error}", err=True)
    elif created.sync_error:
        typer.echo(f"recorded, not yet applied in AWS (retried): {created.sync_error}", err=True)


@app.command()
def reconcile(dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the drift.")] = False) -> None:
    """Compare every role's live IAM policies with the database; repair the drift (audited)."""
    gatehouse = start_gatehouse()
    drift = actions.find_drift(gatehouse, operator())
    for item in drift:
        typer.echo(f"{item.role_name}: {item.what}")
    if not drift:
        typer.echo("no drift: AWS matches the database")
        return
    if dry_run:
        typer.echo(f"{plural(len({d.role_name for d in drift}), 'role')} drifted (dry run: nothing changed)")
        return
    repaired = actions.repair(gatehouse, drift, operator())
    for done in repaired:
        typer.echo(f"repaired {done.sentence}")
    typer.echo(f"repaired {plural(len(repaired), 'role')}")


@app.command("import-iam")
def import_iam(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be imported.")] = False,
) -> None:
    """Adopt the s3-access policies of existing {env}_user_* roles as grants."""
    report = import_roles(start_gatehouse(), operator(), dry_run=dry_run)
    for line in report.lines:
        typer.echo(line)
    typer.echo(
        f"{'would import' if dry_run else 'imported'} {plural(report.imported, 'grant')}; skipped {report.skipped}"
    )


@app.command("expire")
def expire_command() -> None:
    """End access whose end date has passed, warn holders and admins of access that ends soon, and close requests
    nobody decided in GATEHOUSE_REQUEST_MAX_AGE_DAYS (run daily)."""
    gatehouse = start_gatehouse()
    report = expire(gatehouse)
    for line in report.expired:
        typer.echo(f"expired: {line}")
    for line in report.warned:
        typer.echo(f"warned: {line}")
    for line in report.closed:
        typer.echo(f"closed, undecided for {gatehouse.settings.request_max_age_days} days: {line}")
    for line in report.sync_errors:
        typer.echo(f"recorded, not yet applied in AWS: {line}", err=True)
    typer.echo(f"{len(report.expired)} expired, {len(report.warned)} warned, {len(report.closed)} closed")


UPLOAD_HELP = (
    "Upload files too big for a browser, after a data movement form, with a progress bar.\n\n"
    "The form (--form FILE) is a YAML file of key: value lines, the app's form question by question; text in quotes "
    "where YAML would read it as something else (a date, a number, yes/no):\n\n\b\n"
    + "\n".join(f"{key}: {question}" for key, question in form_questions().items())
)


@app.command("upload", help=UPLOAD_HELP)
def upload_command(
    files: Annotated[list[Path], typer.Argument(help="Files to upload.", exists=True, dir_okay=False, readable=True)],
    destination: Annotated[str, typer.Argument(help="s3://BUCKET/PREFIX")],
    form: Annotated[
        Path,
        typer.Option(
            help="The data movement form's answers (YAML: the keys above).", exists=True, dir_okay=False, metavar="FILE"
        ),
    ],
    user: Annotated[
        str, typer.Option("--as", help="The platform member moving the data (their grants apply).", metavar="USERNAME")
    ],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace objects that already exist.")] = False,
) -> None:
    answers = read_form(form)  # first: a malformed form file must leave everything as it was
    gatehouse = start_gatehouse()
    bucket, _, prefix = destination.removeprefix("s3://").partition("/")
    if not destination.startswith("s3://") or not bucket:
        raise GatehouseError(f"{destination!r} is not an s3://BUCKET/PREFIX destination.")
    with gatehouse.session() as session:
        mover = people.active_user(session, user)
    movement_id = record_movement(gatehouse, mover, MovementKind.UPLOAD, answers, bucket)
    typer.echo(f"data movement form {movement_id} recorded")
    for path in files:
        key = f"{prefix.strip('/')}/{path.name}" if prefix.strip("/") else path.name
        size = path.stat().st_size
        with path.open("rb") as stream, typer.progressbar(length=size, label=path.name) as bar:
            moved = actions.upload(gatehouse, mover, movement_id, bucket, key, stream, size, overwrite, bar.update)
        typer.echo(f"uploaded s3://{moved.bucket}/{moved.key} ({plural(moved.size, 'byte')}, sha256 {moved.sha256})")


def read_form(path: Path) -> MovementForm:
    """The form's answers from a YAML file whose keys are MovementForm's fields; whatever is wrong with the file is
    one sentence naming it (InvalidInput), never a traceback."""
    loaded = _load_answers(path)
    _check_names(path, loaded)
    answers = {str(name): value for name, value in loaded.items()}  # each name is a field's name now
    _check_types(path, answers)
    try:
        return MovementForm(**answers)
    except InvalidInput as error:
        raise InvalidInput(f"{path}: {error}") from None


def _load_answers(path: Path) -> dict[object, object]:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FORM_BYTES + 1)
    except OSError as error:
        raise InvalidInput(f"{path} cannot be read: {error.strerror or error}.") from None
    if len(data) > MAX_FORM_BYTES:
        raise InvalidInput(f"{path} is over {MAX_FORM_BYTES:,} bytes: that is not a form's answers.")
    try:
        answers = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text: save it as UTF-8.") from None
    except yaml.YAMLError as error:
        raise InvalidInput(f"{path} is not a readable YAML file: {_yaml_problem(error)}.") from None
    except RecursionError:  # PyYAML recurses once per level of `[[[…` or `{{{…`
        raise InvalidInput(f"{path} is nested too deeply to be a form's answers.") from None
    if not isinstance(answers, dict):
        raise InvalidInput(f"{path} must hold the form's answers as key: value lines.")
    return answers


def _yaml_problem(error: yaml.YAMLError) -> str:
    """What the parser objects to and where, on one line (its own message spans several, with an excerpt)."""
    problem = getattr(error, "problem", None)
    if not problem:
        return shown(str(error).splitlines()[0])
    mark = getattr(error, "problem_mark", None)
    return shown(f"{problem} (line {mark.line + 1})" if mark else problem)


def _check_names(path: Path, answers: dict[object, object]) -> None:
    # YAML keys may be numbers, null or true (`1: oops`), or hold line breaks: compare and show them as text.
    known = {f.name for f in fields(MovementForm)}
    unknown = sorted(shown(str(key), 40) for key in answers if key not in known)
    if unknown:
        raise InvalidInput(f"{path} has unknown answers: {', '.join(unknown)} (expected {', '.join(sorted(known))}).")
    missing = sorted(f.name for f in fields(MovementForm) if f.name not in answers and f.default is MISSING)
    if missing:
        raise InvalidInput(f"{path} lacks answers: {', '.join(missing)}.")


def _check_types(path: Path, answers: dict[str, object]) -> None:
    """YAML reads `2030-01-31` as a date, `3` as a number and `{a: 1}` as a mapping: each answer must be text or
    true/false, as the form asks, before MovementForm judges what it says (it judges an empty answer, too)."""
    hints = get_type_hints(MovementForm)
    for name, value in answers.items():
        allowed = get_args(hints[name]) or (hints[name],)
        if value is not None and not isinstance(value, allowed):
            kind = "true or false" if bool in allowed else "text (in quotes if YAML would read it as something else)"
            raise InvalidInput(f"{path}: the answer {name} must be {kind}.")


audit_app = Commands(no_args_is_help=True, help="The append-only audit trail.")
app.add_typer(audit_app, name="audit")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


@audit_app.command("export")
def audit_export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl.")] = ExportFormat.CSV,
    since: Annotated[str | None, typer.Option(help="From this day on, YYYY-MM-DD (UTC).", metavar="DATE")] = None,
) -> None:
    """Write the audit trail to standard output, oldest first, streamed (it may be long)."""
    gatehouse = start_gatehouse()
    with gatehouse.session() as session:
        for line in audit_trail.export(
            session, operator(), fmt.value, audit_trail.AuditFilter(since=typed_date(since))
        ):
            sys.stdout.write(line)


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            help="An event's id and hash that an earlier verify printed (12:3fa9…): it must still be so.",
            metavar="ID:HASH",
        ),
    ] = None,
) -> None:
    """Recompute the trail's hash chain, oldest first: say that it holds, or the first event where it breaks (an
    event altered, removed or slipped in behind the trail's back), with a non-zero exit. It prints the chain's head:
    keep it outside the database (the scheduler's log), and --anchor checks it later, against whoever can rewrite
    the whole trail."""
    expected = audit.Anchor.parse(anchor) if anchor else None
    check = start_gatehouse().run(lambda session: audit.verify(session, expected))
    if check.broken_at is not None:
        raise GatehouseError(
            f"the audit trail's hash chain breaks at event {check.broken_at}: it, or one before it, was changed "
            "outside Gatehouse."
        )
    head = f"; its head is {check.head}" if check.head else ""
    typer.echo(f"the audit trail's hash chain holds: {plural(check.events, 'event')}{head}")


@app.command("local-aws")
def local_aws() -> None:
    """Run the local AWS emulation (S3, IAM, STS) in the foreground, with the database applied to it."""
    settings = load_settings()
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
    except ConfigurationError as error:  # before GatehouseError: a bad setting keeps its own exit code
        typer.echo(f"gatehouse: {error}", err=True)
        sys.exit(2)
    except GatehouseError as error:
        typer.echo(f"gatehouse: {error}", err=True)
        sys.exit(1)
    finally:
        effects.wait_for_background()  # what the command decided is committed: let its email and roles go out


if __name__ == "__main__":
    main()
