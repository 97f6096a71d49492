"""A decider's message names the request it asks about, so the inbox shows where the request stands now (withdrawn,
approved, refused…) and a request that moves on tells its deciders again (issue #25 §3).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_notifications_request_id"), ["request_id"], unique=False)
        batch_op.create_foreign_key("fk_notifications_request_id", "access_requests", ["request_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("fk_notifications_request_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_notifications_request_id"))
        batch_op.drop_column("request_id")
