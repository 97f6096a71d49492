"""A team's grants are customer-managed policies of the team's, attached to its members' roles (issue #28): their sync
state is a row of role_sync with the team's id; a member's row says which teams' statements were folded into their
own documents (no attachment left on their role).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("role_sync", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("policy_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("folded_teams", sa.String(length=4000), nullable=True))
        batch_op.create_index(batch_op.f("ix_role_sync_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM role_sync WHERE team_id IS NOT NULL")
    with op.batch_alter_table("role_sync", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_sync_team_id"))
        batch_op.drop_column("folded_teams")
        batch_op.drop_column("policy_count")
        batch_op.drop_column("team_id")
