"""A source's customer KMS key, when its bucket is encrypted with one: grants then carry kms:Decrypt and
kms:GenerateDataKey on that key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kms_key_arn", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.drop_column("kms_key_arn")
