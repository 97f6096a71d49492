"""Access reviews (issue #17): campaigns, and one item a grant a campaign covers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LEVEL = sa.Enum("read-only", "read-write", "admin", name="accesslevel", native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "review_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reminded_days", sa.Integer(), nullable=True),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_campaigns_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_campaigns_state"), ["state"], unique=False)
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("level", LEVEL, nullable=False),
        sa.Column("paths", sa.JSON(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("aws_outcome", sa.Text(), nullable=True),
        sa.Column("holder_answer", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["review_campaigns.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["data_sources.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["granted_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "grant_id", name="uq_review_item_grant"),
    )
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_items_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_items_source_id"), ["source_id"], unique=False)
        batch_op.create_index("ix_review_items_campaign_source", ["campaign_id", "source_id"], unique=False)
        batch_op.create_index("ix_review_items_user_decision", ["user_id", "decision"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index("ix_review_items_user_decision")
        batch_op.drop_index("ix_review_items_campaign_source")
        batch_op.drop_index(batch_op.f("ix_review_items_source_id"))
        batch_op.drop_index(batch_op.f("ix_review_items_campaign_id"))
    op.drop_table("review_items")
    with op.batch_alter_table("review_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_campaigns_state"))
        batch_op.drop_index(batch_op.f("ix_review_campaigns_due_on"))
    op.drop_table("review_campaigns")
