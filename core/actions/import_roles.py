"""`import-iam`: adopt the S3 access that existing `{env}_user_*` roles already have, so that moving a platform to
Gatehouse loses nobody's access. Buckets Gatehouse does not know yet are adopted as warehouse sources with no admin
(orphaned, for the platform team to hand over); grants Gatehouse already has are left as they are."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from core import audit
from core.access import changing_access, mark_changed, user_principal
from core.actor import acting
from core.adapters.aws import AwsError
from core.adapters.db import serialise
from core.adapters.models import DataSource, Grant, User, utcnow
from core.context import Gatehouse
from core.domain import SourceKind
from core.effects import applied
from core.policy_reader import import_s3_access
from core.queries import held_grants
from core.rules import Held, check_access_may_change, check_no_overlap, check_platform_admin, is_active


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0
    lines: list[str] = field(default_factory=list)


def _existing_policies(gatehouse: Gatehouse) -> dict[str, dict]:
    """username -> the s3-access document of each `{env}_user_*` role that has one."""
    prefix = f"{gatehouse.settings.env}_user_"
    found: dict[str, dict] = {}
    for role in gatehouse.aws.role_names(prefix):
        live = gatehouse.aws.read_role_policies(role)
        if live.inline is not None:
            found[role.removeprefix(prefix)] = live.inline
    return found


def _kms_key(gatehouse: Gatehouse, bucket: str, report: ImportReport) -> str | None:
    try:
        return gatehouse.aws.bucket_kms_key(bucket)
    except AwsError as error:
        report.lines.append(f"{bucket}: its encryption could not be read, so no KMS key is granted with it ({error})")
        return None


def import_roles(gatehouse: Gatehouse, actor: User, *, dry_run: bool = False) -> ImportReport:
    with gatehouse.session() as session:
        check_platform_admin(acting(session, actor)).enforce()
    report = ImportReport()
    policies = _existing_policies(gatehouse)
    changed: list[User] = []
    with gatehouse.session() as session:
        # One import at a time: a second run waits, then finds what the first adopted ("kept as it is"), where two
        # at once could adopt one bucket twice, or wait on each other's sources in opposite orders
        serialise(session, "import-iam")
        actor = acting(session, actor)  # as the database says while it writes, not as it was read above
        check_platform_admin(actor).enforce()
        for username, document in policies.items():
            user = session.exec(select(User).where(User.username == username)).first()
            if user is None or not is_active(user):
                report.skipped += 1
                report.lines.append(f"{username}: not an active platform member in Gatehouse; add them first")
                continue
            imported = import_s3_access([document])
            for reason in imported.skipped:
                report.skipped += 1
                report.lines.append(f"{username}: {reason}")
            adopted: dict[str, list[Held]] = {}  # bucket -> what this run adopted on it for this user
            kept_as_is: set[str] = set()  # buckets this user already has access to in Gatehouse
            for grant in imported.grants:
                if grant.bucket in kept_as_is:
                    continue
                holding = adopted.setdefault(grant.bucket, [])
                refused = check_no_overlap(holding, grant.paths, username, grant.bucket)
                if not refused.allowed:
                    report.skipped += 1
                    report.lines.append(
                        f"{username}: {grant.level.label.lower()} on {grant.bucket} {list(grant.paths)} not imported: "
                        f"{refused.reason}"
                    )
                    continue
                source = session.exec(select(DataSource).where(DataSource.name == grant.bucket)).first()
                if source is None:
                    report.lines.append(f"{grant.bucket}: adopted as a warehouse source with no admin (orphaned)")
                    source = DataSource(
                        name=grant.bucket,
                        kind=SourceKind.WAREHOUSE,
                        region=gatehouse.settings.region,
                        provisioned_at=utcnow(),
                        description="Adopted from existing IAM policies",
                        # encrypted with a customer key: every grant on it needs the key too
                        kms_key_arn=_kms_key(gatehouse, grant.bucket, report),
                    )
                    session.add(source)
                    session.flush()
                changing_access(session, source)  # its turn with grants made on the source meanwhile
                archived = check_access_may_change(source.name, source.archived_at)
                if not archived.allowed:
                    report.skipped += 1
                    report.lines.append(f"{username}: {grant.bucket} not imported: {archived.reason}")
                    continue
                if not holding and held_grants(session, source, user):
                    report.lines.append(f"{username}: {grant.bucket} already granted in Gatehouse; kept as it is")
                    kept_as_is.add(grant.bucket)
                    continue
                holding.append(Held(grant.level, grant.paths))
                session.add(
                    Grant(
                        source_id=source.id or 0,
                        user_id=user.id,
                        level=grant.level,
                        paths=grant.paths,
                        granted_by_id=actor.id,
                    )
                )
                report.imported += 1
                report.lines.append(
                    f"{username}: {grant.level.value} on {grant.bucket} {list(grant.paths) or ''}".rstrip()
                )
                audit.record(
                    session,
                    actor.username,
                    "access-imported",
                    f"{username}'s {grant.level.label.lower()} access to {grant.bucket} was adopted from IAM",
                    source_id=source.id,
                    subject=username,
                    after={"level": grant.level.value, "paths": list(grant.paths)},
                )
                changed.append(user)
        if dry_run:
            session.rollback()
            return report
        mark_changed(session, [user_principal(gatehouse.settings.env, u) for u in changed])
    # Gatehouse now writes each adopted role's s3-access policy in its own format, with the same access.
    synced = applied(session)
    report.lines += [f"{o.role_name}: recorded, not yet applied in AWS (retried): {o.error}" for o in synced if o.error]
    return report
