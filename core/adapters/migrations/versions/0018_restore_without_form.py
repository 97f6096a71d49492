"""A restore is a write in the same bucket under no data movement form (issue #25 §11): the version it writes is
credited to its restorer with no form.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("object_writes", schema=None) as batch_op:
        batch_op.alter_column("movement_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # The versions restored since have no form to point at: they are shown as written outside Gatehouse again.
    op.execute("DELETE FROM object_writes WHERE movement_id IS NULL")
    with op.batch_alter_table("object_writes", schema=None) as batch_op:
        batch_op.alter_column("movement_id", existing_type=sa.Integer(), nullable=False)
