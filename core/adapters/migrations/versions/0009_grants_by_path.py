"""A member may hold several grants on one source, of different levels on paths that do not overlap (read one folder,
write another): one grant a person a source is no longer a constraint. The rule that their paths never overlap is
core/rules.py's (`place_grant`, `check_no_overlap`); a person's grants on a source are found by the new index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_constraint("uq_grant_source_user", type_="unique")
        batch_op.create_index("ix_grants_source_user", ["source_id", "user_id"], unique=False)


def downgrade() -> None:
    # Only where each member holds one grant a source: several would not fit the old constraint.
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index("ix_grants_source_user")
        batch_op.create_unique_constraint("uq_grant_source_user", ["source_id", "user_id"])
