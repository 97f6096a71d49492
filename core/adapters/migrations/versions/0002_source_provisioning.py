"""Record whether each source's bucket exists and is hardened in AWS, so a failed creation is retried.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provisioned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("provision_error", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_data_sources_provisioned_at"), ["provisioned_at"], unique=False)
    # Sources that existed before this migration were created with their bucket.
    op.execute("UPDATE data_sources SET provisioned_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_sources_provisioned_at"))
        batch_op.drop_column("provision_error")
        batch_op.drop_column("provisioned_at")
