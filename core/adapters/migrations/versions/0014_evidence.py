"""Evidence a writer cannot forge nor an owner erase (issue #24 §4): the versions Gatehouse wrote, by the VersionId
S3 answered; the audit trail as a hash chain (the events already there chained in id order); and, on PostgreSQL, a
statement trigger refusing TRUNCATE of the trail.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from core.adapters.models import AuditEvent
from core.audit import GENESIS, chained

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BATCH = 1000
REFUSE = "SELECT RAISE(ABORT, 'the audit trail is append-only')"


def upgrade() -> None:
    op.create_table(
        "object_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("version_id", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("movement_id", sa.Integer(), nullable=False),
        sa.Column("written_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["movement_id"], ["data_movements.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bucket", "key", "version_id", name="uq_object_writes_version"),
    )
    with op.batch_alter_table("object_writes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_object_writes_movement_id"), ["movement_id"], unique=False)
    # Not through batch_alter_table: on SQLite that would copy the table and lose its triggers.
    op.add_column("audit_events", sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
    _chain_existing_events()
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        op.execute(f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN {REFUSE}; END")


def _chain_existing_events() -> None:
    """The events from before this migration, chained in id order as core/audit.py chains new ones."""
    connection = op.get_bind()
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    previous, after = GENESIS, 0
    while True:
        rows = connection.execute(sa.select(table).where(table.c.id > after).order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        hashes = []
        for row in rows:
            previous = chained(previous, AuditEvent(**row._mapping))
            hashes.append({"event_id": row.id, "chained": previous})
        connection.execute(
            table.update().where(table.c.id == sa.bindparam("event_id")).values(hash=sa.bindparam("chained")), hashes
        )
        after = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
    op.drop_column("audit_events", "hash")
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN {REFUSE}; END")
    with op.batch_alter_table("object_writes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_object_writes_movement_id"))
    op.drop_table("object_writes")
