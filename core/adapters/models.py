"""The database tables. The database is the desired state; AWS is made to match it.

Times are aware UTC datetimes; SQLModel stores them as UTC on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import PlainValidator
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Dialect,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from core.domain import (
    AccessLevel,
    Classification,
    MovementKind,
    RequestStatus,
    SourceKind,
    SyncState,
    UserStatus,
)
from core.paths import Paths


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enum(enum: type[StrEnum], default: Any = ..., nullable: bool = False, index: bool = False) -> Any:
    """Stored as its value in a VARCHAR: portable across SQLite and PostgreSQL, and readable in SQL. Its default is
    the column's too, so that an INSERT written in SQL (a bulk seed, INSERT … SELECT) that leaves it out gets it, as
    a row added through the model does."""
    column = SAEnum(enum, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])
    given = {} if default is ... or default is None else {"default": default}
    return Field(default=default, sa_column=Column(column, nullable=nullable, index=index, **given))


def _json(nullable: bool = False) -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=nullable))


class PathsJSON(TypeDecorator[Paths]):
    """A path list stored as a JSON list, read back as the `Paths` it was (checked when it entered, not again)."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value: list[str] | None, dialect: Dialect) -> Paths | None:
        return None if value is None else Paths(value)


StoredPaths = Annotated[Paths, PlainValidator(lambda value: value if isinstance(value, Paths) else Paths(value))]


def _paths(nullable: bool = False) -> Any:
    return Field(default=None if nullable else Paths.WHOLE, sa_column=Column(PathsJSON(), nullable=nullable))


class User(SQLModel, table=True):
    __tablename__ = "users"
    # One identity at the identity provider per member, and one member per identity (OIDC sign-in).
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=39, unique=True, index=True)
    email: str = Field(max_length=254)
    display_name: str = Field(default="", max_length=120)
    line_manager_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    is_platform_admin: bool = False
    is_external: bool = False
    status: UserStatus = _enum(UserStatus, default=UserStatus.ACTIVE, index=True)
    left_at: datetime | None = None
    password_hash: str | None = Field(default=None, max_length=100)
    # The identity provider's (iss, sub) this member is bound to: set at their first sign-in through it (or from
    # the request to join the platform team accepted), and from then on the only way the provider names them.
    oidc_issuer: str | None = Field(default=None, max_length=512)
    oidc_subject: str | None = Field(default=None, max_length=255)
    last_sign_in_at: datetime | None = None
    # A one-time link that sets their password (password sign-in): only the sha256 of its token, until it is used,
    # replaced by a newer one, or expires.
    sign_in_link_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    sign_in_link_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # The identity provider (SCIM, issue #27): whether it made or last changed this member, the id it knows them by
    # (externalId), and when it deleted them (the member is kept, as a leaver, for the history; SCIM answers 404).
    scim_managed: bool = False
    external_id: str | None = Field(default=None, max_length=255, index=True)
    scim_deleted_at: datetime | None = None
    # The identity provider's userName when it is an address (Entra ID's UPN), lower case: the sign-in claim carries
    # it, so it names this member at sign-in as their email does (auth.find_member); their username is made from it.
    sign_in_name: str | None = Field(default=None, max_length=254, index=True)

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE


class Team(SQLModel, table=True):
    """A team, as the identity provider's group of the same name (SCIM Groups): who is in it."""

    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True, index=True)
    external_id: str | None = Field(default=None, max_length=255, index=True)
    scim_managed: bool = False  # the identity provider made it (else the platform team did)
    created_at: datetime = Field(default_factory=utcnow)


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_members"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)


class App(SQLModel, table=True):
    """A deployed app (or pipeline) with its own IAM role; webapp sources give it read-only access."""

    __tablename__ = "apps"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=63, unique=True, index=True)
    description: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class DataSource(SQLModel, table=True):
    """One S3 bucket known to Gatehouse."""

    __tablename__ = "data_sources"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=63, unique=True, index=True)  # the bucket name
    kind: SourceKind = _enum(SourceKind, index=True)
    hidden: bool = Field(default=False, index=True)  # data engineering's buckets: never shown to standard users
    region: str = Field(max_length=32)
    description: str = Field(default="", max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    archived_at: datetime | None = Field(default=None, index=True)
    archived_by_id: int | None = Field(default=None, foreign_key="users.id")
    # The bucket is made in AWS after the decision is recorded: NULL until it exists and is hardened.
    provisioned_at: datetime | None = Field(default=None, index=True)
    provision_error: str | None = Field(default=None, sa_column=Column(Text))
    # An adopted bucket encrypted with a customer KMS key: every grant on it needs that key too (IAM.md).
    kms_key_arn: str | None = Field(default=None, max_length=2048)
    # Personal data (issue #29): what the source holds, and for personal data its information asset owner (IAO), who
    # approves access after an admin, signs off data leaving it and signs its review reports.
    classification: Classification = _enum(Classification, default=Classification.STANDARD)
    iao_id: int | None = Field(default=None, foreign_key="users.id", index=True)


# A grant has exactly one holder (migration 0021).
ONE_HOLDER = (
    "(CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN app_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN team_id IS NULL THEN 0 ELSE 1 END) = 1"
)


class Grant(SQLModel, table=True):
    """Access of one holder (a member, a team or an app) to one source, at a level on paths: the desired state that
    IAM is made to match. A member (or a team) may hold several on one source, of different levels on paths that never
    overlap (the rule is core/rules/grants.py's); an app holds one. A team's grants reach every active member (issue
    #28): a member's access is their own and their teams'."""

    __tablename__ = "grants"
    __table_args__ = (
        Index("ix_grants_source_user", "source_id", "user_id"),
        UniqueConstraint("source_id", "app_id", name="uq_grant_source_app"),
        CheckConstraint(ONE_HOLDER, name="ck_grant_one_principal"),
        Index("ix_grants_source_level_user", "source_id", "level", "user_id"),
        Index("ix_grants_source_team", "source_id", "team_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="data_sources.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    app_id: int | None = Field(default=None, foreign_key="apps.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    level: AccessLevel = _enum(AccessLevel)
    paths: StoredPaths = _paths()  # none = whole bucket
    expires_on: date | None = Field(default=None, index=True)
    granted_by_id: int | None = Field(default=None, foreign_key="users.id")
    request_id: int | None = Field(default=None, foreign_key="access_requests.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    expiry_warned_at: datetime | None = None  # the holder and admins were told the end is near


class RoleSync(SQLModel, table=True):
    """Whether one IAM role's live S3 policies match the database, or one team's policies (`team_id`, `role_name`
    its policies' stem, `gatehouse-team-<id>`); a failed AWS call is recorded here."""

    __tablename__ = "role_sync"

    id: int | None = Field(default=None, primary_key=True)
    role_name: str = Field(max_length=64, unique=True, index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    app_id: int | None = Field(default=None, foreign_key="apps.id", index=True)
    # A team's policies: no foreign key, so that a deleted team's row stays and its sync deletes its policies.
    team_id: int | None = Field(default=None, index=True)
    policy_count: int = 0  # a team's: how many policies its grants make, as the members' roles were marked for
    folded_teams: str | None = Field(default=None, max_length=4000)  # a member's: team ids folded in, "1,7" (last sync)
    state: SyncState = _enum(SyncState, default=SyncState.PENDING, index=True)
    policy_hash: str | None = Field(default=None, max_length=64)  # of the documents last written
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    attempts: int = 0
    changed_at: datetime = Field(default_factory=utcnow)
    applied_at: datetime | None = None


_OPEN_REQUEST = (
    "status IN ('pending-admin', 'pending-line-manager', 'pending-platform', 'pending-iao', 'pending-answer')"
)


class AccessRequest(SQLModel, table=True):
    __tablename__ = "access_requests"
    __table_args__ = (
        Index("ix_access_requests_source_status", "source_id", "status"),
        # one open request a person a source, whatever races (migration 0013; rules.OPEN)
        Index(
            "uq_access_requests_open",
            "requester_id",
            "source_id",
            unique=True,
            postgresql_where=text(_OPEN_REQUEST),
            sqlite_where=text(_OPEN_REQUEST),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="users.id", index=True)
    source_id: int = Field(foreign_key="data_sources.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)  # asked for a team of theirs
    level: AccessLevel = _enum(AccessLevel)
    paths: StoredPaths = _paths()
    business_need: str = Field(sa_column=Column(Text, nullable=False))
    expires_on: date | None = None
    status: RequestStatus = _enum(RequestStatus, default=RequestStatus.PENDING_ADMIN, index=True)
    line_manager_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    no_line_manager: bool = False  # orphaned source and no line manager: straight to the platform team, flagged
    confirmed_by_id: int | None = Field(default=None, foreign_key="users.id")
    confirmed_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, sa_column=Column(Text))
    granted_level: AccessLevel | None = _enum(AccessLevel, default=None, nullable=True)
    granted_paths: StoredPaths | None = _paths(nullable=True)
    # the end date the admin approved, while the request waits for the information asset owner (issue #29)
    granted_expires_on: date | None = None
    # Personal data (issue #29): the admin who approved first, when the information asset owner approves next.
    admin_approved_by_id: int | None = Field(default=None, foreign_key="users.id")
    admin_approved_at: datetime | None = None
    # An extension: the grant whose end date this request asks to move (the same level and paths, a new end date).
    # No foreign key (grants already point at their request): the id stays on record once the grant is gone.
    extends_grant_id: int | None = Field(default=None, index=True)
    version: int = 1  # bumped on every transition: two deciders racing cannot both win
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class RequestQuestion(SQLModel, table=True):
    """A question a decider asked the requester instead of deciding (issue #29), and the answer: the request waits
    (pending-answer) and then returns to where it stood (`returns_to`) and to the asker."""

    __tablename__ = "request_questions"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_requests.id", index=True)
    asked_by_id: int = Field(foreign_key="users.id")
    question: str = Field(sa_column=Column(Text, nullable=False))
    asked_at: datetime = Field(default_factory=utcnow)
    returns_to: RequestStatus = _enum(RequestStatus)
    answer: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime | None = None


class SourceRequest(SQLModel, table=True):
    """A request to the platform team for a webapp data source for an app."""

    __tablename__ = "source_requests"

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="users.id", index=True)
    bucket_name: str = Field(max_length=63)
    app_name: str = Field(max_length=63)
    business_need: str = Field(sa_column=Column(Text, nullable=False))
    status: RequestStatus = _enum(RequestStatus, default=RequestStatus.PENDING_ADMIN, index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, sa_column=Column(Text))
    source_id: int | None = Field(default=None, foreign_key="data_sources.id")
    created_at: datetime = Field(default_factory=utcnow)


class DataMovement(SQLModel, table=True):
    """A completed data movement form, linked to the objects it moved (each object carries its id in metadata)."""

    __tablename__ = "data_movements"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: MovementKind = _enum(MovementKind)
    source_id: int | None = Field(default=None, foreign_key="data_sources.id", index=True)
    target_source_id: int | None = Field(default=None, foreign_key="data_sources.id")
    description: str = Field(sa_column=Column(Text, nullable=False))  # what the data is
    origin: str = Field(max_length=500)  # where it comes from
    destination: str = Field(max_length=500)  # where it goes
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    classification: str = Field(max_length=40)
    personal_data: bool = False
    dpia_reference: str | None = Field(default=None, max_length=100)
    retention: str = Field(max_length=200)
    declaration: bool = False
    objects: list[dict[str, Any]] = _json()  # [{"bucket", "key", "size", "sha256"}]
    total_bytes: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)
    completed_at: datetime | None = None
    # Data leaving a personal-data source (issue #29) waits for its information asset owner's sign-off of this form:
    # signed (by whom, when; the data may then leave for GATEHOUSE_SIGNED_DOWNLOAD_HOURS) or refused (and why).
    signoff_needed: bool = Field(default=False, index=True)
    signed_off_by_id: int | None = Field(default=None, foreign_key="users.id")
    signed_off_at: datetime | None = None
    signoff_refused_reason: str | None = Field(default=None, sa_column=Column(Text))


class AuditEvent(SQLModel, table=True):
    """Append-only: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64, index=True)  # a username, or "system" / "cli:<os user>"
    action: str = Field(max_length=64, index=True)
    source_id: int | None = Field(default=None, foreign_key="data_sources.id", index=True)
    subject: str | None = Field(default=None, max_length=64, index=True)  # the user or app acted upon
    request_id: int | None = Field(default=None)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # sha256 of the previous event's hash and this event's fields (core/audit.py): the trail is a hash chain
    hash: str | None = Field(default=None, max_length=64)


class ObjectWrite(SQLModel, table=True):
    """A version of an object that Gatehouse itself wrote (upload, copy or move under a form; a restore under none),
    by the VersionId S3 answered the write with: who wrote a version is known from here alone, never from the
    object's own metadata, which anyone with write access can set (Browse -> Versions)."""

    __tablename__ = "object_writes"
    __table_args__ = (UniqueConstraint("bucket", "key", "version_id", name="uq_object_writes_version"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=63)
    key: str = Field(max_length=1024)
    version_id: str = Field(max_length=1024)
    user_id: int = Field(foreign_key="users.id")
    movement_id: int | None = Field(default=None, foreign_key="data_movements.id", index=True)  # none: a restore
    written_at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=40)
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    read_at: datetime | None = Field(default=None, index=True)
    emailed_at: datetime | None = Field(default=None, index=True)
    email_error: str | None = Field(default=None, sa_column=Column(String(500)))
    # The request a decider's message asks about: the inbox shows where that request stands now (migration 0015).
    request_id: int | None = Field(default=None, foreign_key="access_requests.id", index=True)


class Revision(SQLModel, table=True):
    """One row, moved on by every transaction that writes (adapters.db), so a page's reads can be cached until the next
    write in any process. `trail` counts every writing transaction; `n` only those that change more than the audit
    trail and sign-in bookkeeping (a sign-in, the commonest write, leaves `n` and so every page's cached reads but the
    trail's). `epoch` tells one database from another (a cache key must not match a different one)."""

    __tablename__ = "revision"

    id: int = Field(default=1, primary_key=True)
    epoch: str = Field(max_length=32)
    n: int = Field(default=0, sa_type=BigInteger)
    trail: int = Field(default=0, sa_type=BigInteger)
