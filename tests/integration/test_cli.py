"""The `gatehouse` command as an operator runs it: a separate process reading the same GATEHOUSE_* settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from sqlmodel import select

from core import actions, cli, cli_common
from core.actions import sign_in_link
from core.actor import platform_operator
from core.adapters.models import AuditEvent, DataMovement, DataSource, Grant, utcnow
from core.config import Settings
from core.context import Gatehouse
from core.domain import InvalidInput, day
from core.queries import get_user

ROOT = Path(__file__).resolve().parents[2]


def _environment(settings: Settings) -> dict[str, str]:
    return {
        "GATEHOUSE_DATABASE_URL": settings.db_url,
        "GATEHOUSE_LOCAL_AWS_PORT": str(settings.local_aws_port),
        "GATEHOUSE_DATA_DIR": str(settings.data_dir),
    }


@pytest.fixture
def gatehouse_cli(gatehouse: Gatehouse, settings: Settings, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """`gatehouse …` run in this process, as the console script runs it (`core.cli.main` with its arguments and
    environment): what it printed, on which stream, and its exit code. A subprocess would cost seconds a call in
    interpreter start-up; `test_the_console_script_runs_as_a_process` keeps the installed command proven."""
    environment = _environment(settings)

    def run(*arguments: str, **settings: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()  # what the test printed before is not the command's
        code: int | str | None = 0
        with (
            mock.patch.dict(os.environ, {**environment, **settings}),
            mock.patch.object(sys, "argv", ["gatehouse", *arguments]),
        ):
            try:
                cli.main()
            except SystemExit as exit_:
                code = exit_.code
            finally:
                for started in cli_common.STARTED:
                    started.engine.dispose()
                cli_common.STARTED.clear()
        printed = capsys.readouterr()
        returncode = code if isinstance(code, int) else (0 if code is None else 1)
        return subprocess.CompletedProcess(["gatehouse", *arguments], returncode, printed.out, printed.err)

    return run


def test_the_console_script_runs_as_a_process(gatehouse: Gatehouse, settings: Settings) -> None:
    """The installed command, in a process of its own: it starts, acts, prints, and a bad input exits non-zero with
    one line (every other test runs the same `main` in process)."""
    env = {**os.environ, **_environment(settings)}

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core.cli", *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    added = run("users", "add", "frank", "--email", "frank@example.org", "--line-manager", "carol")
    assert added.returncode == 0 and added.stdout.startswith("added frank\nfrank chooses their password"), added.stderr
    refused = run("users", "leave", "nobody")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == ["gatehouse: There is no platform member called nobody."], (
        refused.stderr
    )
    with gatehouse.session() as session:
        assert get_user(session, "frank") is not None


def test_operator_adds_a_joiner_and_prints_their_one_time_link_then_a_new_one(  # type: ignore[no-untyped-def]
    gatehouse: Gatehouse, gatehouse_cli
) -> None:
    added = gatehouse_cli("users", "add", "frank", "--email", "frank@example.org")
    assert added.returncode == 0, added.stderr
    first, told, url = added.stdout.splitlines()
    assert first == "added frank"
    assert told.endswith("No email is set up (GATEHOUSE_SMTP_HOST): pass it on yourself."), told
    assert url.startswith("http://127.0.0.1:8501/?set-password=")
    token = url.rsplit("=", 1)[1]
    assert gatehouse.run(sign_in_link.link_holder, token) == "frank"

    again = gatehouse_cli("users", "link", "frank", GATEHOUSE_APP_URL="https://gatehouse.example.org/")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1].startswith("https://gatehouse.example.org/?set-password=")
    with pytest.raises(InvalidInput, match="replaced by a newer one"):
        gatehouse.run(sign_in_link.link_holder, token)
    oidc = gatehouse_cli("users", "add", "gina", "--email", "gina@example.org", GATEHOUSE_SIGN_IN="oidc")
    assert oidc.stdout == "added gina\nThey sign in through the identity provider, so no link is made.\n"
    refused = gatehouse_cli("users", "link", "nobody")
    assert refused.returncode == 1 and refused.stderr.strip() == "gatehouse: There is no platform member called nobody."


def test_operator_adds_a_joiner_grants_lists_and_revokes(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]
    added = gatehouse_cli("users", "add", "frank", "--email", "frank@example.org", "--line-manager", "carol")
    assert added.returncode == 0, added.stderr
    ends = utcnow().date() + timedelta(days=60)
    granted = gatehouse_cli(
        "access",
        "grant",
        "alpha-pricing-models",
        "frank",
        "alice",
        "--level",
        "read-only",
        "--path",
        "s3://alpha-pricing-models/reports/",  # as copied from the console: its path, as on the pages
        "--until",
        ends.isoformat(),
    )
    assert granted.returncode == 0, granted.stderr
    listed = gatehouse_cli("access", "list", "--source", "alpha-pricing-models")
    assert f"alpha-pricing-models\tfrank\tread-only\t/reports\tuntil {day(ends)}" in listed.stdout
    assert "alpha-pricing-models\talice\tread-only\t/reports" in listed.stdout
    assert gatehouse.aws.iam.get_role(RoleName="alpha_user_frank")
    policy = gatehouse.aws.iam.get_role_policy(RoleName="alpha_user_frank", PolicyName="s3-access")["PolicyDocument"]
    assert "arn:aws:s3:::alpha-pricing-models/reports/*" in json.dumps(policy)
    revoked = gatehouse_cli("access", "revoke", "alpha-pricing-models", "frank")
    assert revoked.returncode == 0, revoked.stderr
    assert "frank" not in gatehouse_cli("access", "list", "--source", "alpha-pricing-models").stdout
    with gatehouse.session() as session:
        actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.subject == "frank"))]
    assert actions == ["user-added", "sign-in-link-made", "access-granted", "access-revoked"]  # password mode: a link


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("access", "grant", "alpha-pricing-models", "nobody", "--level", "read-only"),
            "no platform member called nobody",
        ),
        (
            ("access", "grant", "alpha-pricing-models", "alice", "--level", "read-only", "--path", "reports/"),
            "must start with /",
        ),
        (
            ("access", "grant", "alpha-pricing-models", "alice", "--level", "read-only", "--path", "s3://other/x"),
            "is in other, not in alpha-pricing-models",
        ),
        (("access", "grant", "alpha-pricing-models", "erin", "--level", "admin"), "has left"),
        (
            ("access", "grant", "alpha-pricing-models", "alice", "--level", "read-only", "--until", "31/01/2099"),
            "YYYY-MM-DD",
        ),
        (  # a date as far as a date goes: the same limit as on the pages (issue 25)
            ("access", "grant", "alpha-pricing-models", "alice", "--level", "read-only", "--until", "9999-12-31"),
            "The end date 31 Dec 9999 is more than two years away",
        ),
        (("sources", "create", "Alpha_Bad", "--admin", "alice"), "must start with alpha-"),
        (("sources", "create", "alpha-new-thing", "--admin", "erin"), "has left"),
        (("users", "add", "bob", "--email", "bob@example.org"), "already a platform member called bob"),
        (("users", "leave", "nobody"), "no platform member called nobody"),
    ],
)
def test_bad_input_is_one_line_a_non_zero_exit_and_changes_nothing(
    gatehouse: Gatehouse,
    gatehouse_cli,
    arguments: tuple[str, ...],
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    with gatehouse.session() as session:
        before = len(session.exec(select(Grant)).all()), len(session.exec(select(AuditEvent)).all())
    result = gatehouse_cli(*arguments)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    with gatehouse.session() as session:
        after = len(session.exec(select(Grant)).all()), len(session.exec(select(AuditEvent)).all())
    assert after == before


def test_reconcile_dry_run_reports_drift_and_reconcile_repairs_it(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]
    wide_open = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    gatehouse.aws.iam.put_role_policy(
        RoleName="alpha_user_alice", PolicyName="s3-access", PolicyDocument=json.dumps(wide_open)
    )
    dry = gatehouse_cli("reconcile", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert (
        "alpha_user_alice: IAM has other actions (s3:*) on every resource (*) that Gatehouse did not grant"
        in dry.stdout
    )
    assert "nothing changed" in dry.stdout
    assert actions.find_drift(gatehouse, platform_operator("t"))  # the dry run left it as it was
    repaired = gatehouse_cli("reconcile")
    assert repaired.returncode == 0 and "repaired 1 role" in repaired.stdout
    assert "repaired alpha_user_alice: took away other actions (s3:*) on every resource (*)" in repaired.stdout
    assert "no drift" in gatehouse_cli("reconcile", "--dry-run").stdout


def test_a_leaver_loses_access_and_orphans_are_listed(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]
    result = gatehouse_cli("users", "leave", "bob")
    assert result.returncode == 0, result.stderr
    assert "now orphaned (no active admin): alpha-pricing-models, alpha-sales-analysis" in result.stdout
    policy = gatehouse.aws.iam.get_role_policy(RoleName="alpha_user_bob", PolicyName="s3-access")["PolicyDocument"]
    assert "alpha-pricing-models" not in json.dumps(policy)


def test_a_leaver_named_as_typed_loses_their_access_in_aws(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]
    """The username is taken by the one rule where it enters: plain capitals are folded (the role changed is bob's),
    spaces or invisible characters are refused in one sentence, and the message that says his access is revoked is
    true in AWS when it is printed."""
    for typed in (" bob", "b\u200bob"):
        refused = gatehouse_cli("users", "leave", typed)
        assert refused.returncode != 0 and "is not a valid username" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    result = gatehouse_cli("users", "leave", "Bob")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "bob has left; all their access is revoked in AWS."
    policy = gatehouse.aws.iam.get_role_policy(RoleName="alpha_user_bob", PolicyName="s3-access")["PolicyDocument"]
    assert "alpha-pricing-models" not in json.dumps(policy)
    granted = gatehouse_cli("access", "grant", "alpha-shared-workspace", "Alice", "--level", "read-only")
    assert granted.stdout.strip() == "granted read-only on alpha-shared-workspace to alice", granted.stderr


def test_sources_create_makes_a_hardened_webapp_bucket_with_the_app_read_only(
    gatehouse: Gatehouse,
    gatehouse_cli,  # type: ignore[no-untyped-def]
) -> None:
    result = gatehouse_cli(
        "sources", "create", "alpha-app-reports", "--kind", "webapp", "--admin", "alice", "--app", "reports-app"
    )
    assert result.returncode == 0, result.stderr
    assert gatehouse.aws.s3.get_bucket_versioning(Bucket="alpha-app-reports")["Status"] == "Enabled"
    listed = gatehouse_cli("access", "list", "--source", "alpha-app-reports").stdout
    assert "alpha-app-reports\talice\tadmin" in listed
    assert "alpha-app-reports\tapp:reports-app\tread-only" in listed
    policy = gatehouse.aws.iam.get_role_policy(RoleName="alpha_app_reports-app", PolicyName="s3-access")
    assert "s3:PutObject" not in json.dumps(policy["PolicyDocument"])


OLD_PLATFORM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "console",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListAllMyBuckets"],
            "Resource": "arn:aws:s3:::*",
        },
        {
            "Sid": "list",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": ["arn:aws:s3:::alpha-old-project", "arn:aws:s3:::alpha-pricing-models"],
        },
        {
            "Sid": "readonly",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectVersion"],
            "Resource": ["arn:aws:s3:::alpha-pricing-models/reports/*"],
        },
        {
            "Sid": "readwrite",
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:GetObjectVersion",
                "s3:PutObjectAcl",
                "s3:DeleteObjectVersion",
                "s3:RestoreObject",
            ],
            "Resource": ["arn:aws:s3:::alpha-old-project/*"],
        },
    ],
}


def test_import_iam_adopts_the_old_platforms_policies(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]
    iam = gatehouse.aws.iam
    iam.create_role(RoleName="alpha_user_grace", AssumeRolePolicyDocument=gatehouse.aws.trust_policy())
    iam.put_role_policy(
        RoleName="alpha_user_grace", PolicyName="s3-access", PolicyDocument=json.dumps(OLD_PLATFORM_POLICY)
    )
    joined = gatehouse_cli("users", "add", "grace", "--email", "grace@example.org")
    assert "left in place" in joined.stdout, joined.stdout + joined.stderr
    kept = iam.get_role_policy(RoleName="alpha_user_grace", PolicyName="s3-access")["PolicyDocument"]
    assert kept == OLD_PLATFORM_POLICY  # adding her did not take her access away
    dry = gatehouse_cli("import-iam", "--dry-run")
    assert "would import 2 grants" in dry.stdout, dry.stdout + dry.stderr
    result = gatehouse_cli("import-iam")
    assert result.returncode == 0, result.stderr
    assert "alpha-old-project: adopted as a warehouse source with no admin (orphaned)" in result.stdout
    listed = gatehouse_cli("access", "list", "--user", "grace").stdout
    assert "alpha-old-project\tgrace\tread-write\twhole bucket" in listed
    assert "alpha-pricing-models\tgrace\tread-only\t/reports" in listed
    live = iam.get_role_policy(RoleName="alpha_user_grace", PolicyName="s3-access")["PolicyDocument"]
    assert "s3:PutObjectAcl" not in json.dumps(live)  # rewritten in Gatehouse's format, with the same access
    assert "arn:aws:s3:::alpha-pricing-models/reports/*" in json.dumps(live)
    assert actions.find_drift(gatehouse, platform_operator("t")) == []
    with gatehouse.session() as session:
        assert get_user(session, "grace")
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "access-imported")).all()) == 2


def test_an_adopted_bucket_encrypted_with_a_customer_key_grants_that_key_through_s3(
    gatehouse: Gatehouse, gatehouse_cli
) -> None:  # type: ignore[no-untyped-def]
    """A bucket the old platform made with its own KMS key: reading needs kms:Decrypt and writing
    kms:GenerateDataKey on that key, only by way of S3 in the key's region (IAM.md)."""
    key = gatehouse.aws.client("kms").create_key(Description="the old project's key")["KeyMetadata"]
    s3 = gatehouse.aws.s3
    s3.create_bucket(Bucket="alpha-old-secure", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    encryption = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["KeyId"]}  # a key id, not its ARN
    s3.put_bucket_encryption(
        Bucket="alpha-old-secure",
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": encryption}]},
    )
    old = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "readwrite",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": ["arn:aws:s3:::alpha-old-secure/*"],
            }
        ],
    }
    gatehouse.aws.iam.create_role(RoleName="alpha_user_gwen", AssumeRolePolicyDocument=gatehouse.aws.trust_policy())
    gatehouse.aws.iam.put_role_policy(
        RoleName="alpha_user_gwen", PolicyName="s3-access", PolicyDocument=json.dumps(old)
    )
    gatehouse_cli("users", "add", "gwen", "--email", "gwen@example.org")
    result = gatehouse_cli("import-iam")
    assert result.returncode == 0, result.stdout + result.stderr
    with gatehouse.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == "alpha-old-secure")).one()
    assert source.kms_key_arn == key["Arn"]
    live = gatehouse.aws.read_role_policies("alpha_user_gwen").inline or {}
    by_sid = {s.get("Sid"): s for s in live["Statement"]}
    via_s3 = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    assert by_sid["KmsRead"]["Action"] == "kms:Decrypt" and by_sid["KmsRead"]["Resource"] == [key["Arn"]]
    assert by_sid["KmsWrite"]["Action"] == "kms:GenerateDataKey" and by_sid["KmsWrite"]["Condition"] == via_s3
    assert by_sid["KmsRead"]["Condition"] == via_s3


FORM_YAML = """\
description: Monthly orders by region, aggregated from the sales system.
origin: The sales team's reporting system
destination: alpha-shared-workspace/incoming
purpose: Analyse regional trends for the pricing review.
classification: OFFICIAL
personal_data: false
retention: Two years
declaration: true
"""


def test_upload_streams_files_after_a_form_and_refuses_where_the_user_cannot_write(
    gatehouse: Gatehouse,
    gatehouse_cli,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    form = tmp_path / "form.yaml"
    form.write_text(FORM_YAML)
    data = tmp_path / "orders.csv"
    data.write_bytes(b"month,orders\n2025-01,12\n" * 1000)
    result = gatehouse_cli(
        "upload", str(data), "s3://alpha-shared-workspace/incoming", "--form", str(form), "--as", "alice"
    )
    assert result.returncode == 0, result.stderr
    head = gatehouse.aws.s3.head_object(Bucket="alpha-shared-workspace", Key="incoming/orders.csv")
    assert head["ContentLength"] == data.stat().st_size and head["Metadata"]["gatehouse-movement-id"]
    refused = gatehouse_cli(
        "upload", str(data), "s3://alpha-sales-analysis/drafts", "--form", str(form), "--as", "alice"
    )
    assert refused.returncode != 0 and "read-only access" in refused.stderr
    form.write_text(FORM_YAML.replace("declaration: true", "declaration: false"))
    undeclared = gatehouse_cli(
        "upload", str(data), "s3://alpha-shared-workspace/x", "--form", str(form), "--as", "alice"
    )
    assert undeclared.returncode != 0 and "information governance" in undeclared.stderr


# Form files an operator might hand over by mistake: each must be one sentence on stderr, never a traceback.
MALFORMED_FORMS = {
    "a number as a key": b"1: oops\n",
    "a null key": b"null: oops\n",
    "a number key among the answers": FORM_YAML.encode() + b"2: extra\n",
    "a key with a line break": FORM_YAML.encode() + b'"colour\\nsize": red\n',
    "a list": b"- description\n- origin\n",
    "a scalar": b"just some text\n",
    "an empty file": b"",
    "invalid YAML": b"description: [unclosed\n",
    "a YAML tag that safe_load refuses": b"description: !!python/object:os.system {}\n",
    "not UTF-8": FORM_YAML.replace("Monthly", "Caf\u00e9").encode("latin-1"),
    "a NUL byte": b"description: \x00\n",
    "nesting deeper than the parser recurses": b"description: " + b"[" * 20_000 + b"]" * 20_000 + b"\n",
    "a mapping where text is expected": FORM_YAML.replace(
        "origin: The sales team's reporting system", "origin: {a: 1}"
    ).encode(),
    "a list where text is expected": FORM_YAML.replace("retention: Two years", "retention: [1, 2]").encode(),
    "a date where text is expected": FORM_YAML.replace("retention: Two years", "retention: 2030-01-31").encode(),
    "a number where yes or no is expected": FORM_YAML.replace("personal_data: false", "personal_data: 3").encode(),
    "a mapping as the DPIA reference": FORM_YAML.encode() + b"dpia_reference: {a: 1}\n",
}


@pytest.mark.parametrize("content", MALFORMED_FORMS.values(), ids=MALFORMED_FORMS.keys())
def test_a_malformed_form_file_is_one_line_a_non_zero_exit_and_changes_nothing(
    gatehouse: Gatehouse,
    gatehouse_cli,
    tmp_path: Path,
    content: bytes,  # type: ignore[no-untyped-def]
) -> None:
    form = tmp_path / "form.yaml"
    form.write_bytes(content)
    data = tmp_path / "orders.csv"
    data.write_bytes(b"month,orders\n2025-01,12\n")
    with gatehouse.session() as session:
        before = len(session.exec(select(DataMovement)).all()), len(session.exec(select(AuditEvent)).all())
    result = gatehouse_cli(
        "upload", str(data), "s3://alpha-shared-workspace/incoming", "--form", str(form), "--as", "alice"
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and str(form) in result.stderr
    with gatehouse.session() as session:
        after = len(session.exec(select(DataMovement)).all()), len(session.exec(select(AuditEvent)).all())
    assert after == before
    listed = gatehouse.aws.s3.list_objects_v2(Bucket="alpha-shared-workspace", Prefix="incoming/")
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.parametrize("cookie_key", ["", "a", "x" * 31])
def test_a_short_cookie_key_in_aws_mode_is_one_line_and_starts_nothing(
    gatehouse_cli,
    tmp_path: Path,
    cookie_key: str,  # type: ignore[no-untyped-def]
) -> None:
    database = tmp_path / "production.db"
    result = gatehouse_cli(
        "access",
        "list",
        GATEHOUSE_AWS_MODE="aws",
        GATEHOUSE_COOKIE_KEY=cookie_key,
        GATEHOUSE_DATABASE_URL=f"sqlite:///{database}",
        AWS_ENDPOINT_URL="http://127.0.0.1:1",  # were it to start, it would fail fast rather than reach AWS
        AWS_ACCESS_KEY_ID="unused",
        AWS_SECRET_ACCESS_KEY="unused",
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "GATEHOUSE_COOKIE_KEY" in result.stderr and "at least 32 characters" in result.stderr
    assert "secrets.token_urlsafe(32)" in result.stderr and "Traceback" not in result.stderr
    assert not database.exists()
