"""The write revision: one row every writing transaction bumps, so reads can be cached until the next write, in any
process on the database (core.db.current_revision, pages/ui.py read).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "epoch": uuid.uuid4().hex, "n": 0}])


def downgrade() -> None:
    op.drop_table("revision")
