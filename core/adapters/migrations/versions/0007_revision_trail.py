"""The revision's second count: `trail` moves on at every writing transaction, `n` only at those that change more
than the audit trail and sign-in bookkeeping, so a sign-in elsewhere does not empty every page's cache
(core.db, pages/ui.py read).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("revision", sa.Column("trail", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("revision") as batch:
        batch.drop_column("trail")
