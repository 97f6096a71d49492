"""Access reviews cover teams' grants (issue #28): a review item's holder is a member or a team, one of the two.

Revision ID: 0023
Revises: 0021 (on main after the IAM branch's 0022: set down_revision to "0022" when both are merged)
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None

ONE_HOLDER = "(user_id IS NULL) <> (team_id IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_review_items_team_id_teams", "teams", ["team_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_review_items_team_id"), ["team_id"], unique=False)
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint("ck_review_item_one_holder", ONE_HOLDER)


def downgrade() -> None:
    op.execute("DELETE FROM review_items WHERE team_id IS NOT NULL")
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_constraint("ck_review_item_one_holder", type_="check")
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_review_items_team_id"))
        batch_op.drop_constraint("fk_review_items_team_id_teams", type_="foreignkey")
        batch_op.drop_column("team_id")
