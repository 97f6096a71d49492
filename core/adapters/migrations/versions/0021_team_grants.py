"""Teams hold access (issue #28): a grant's holder may be a team (every active member holds it through the team), and
a member may ask for access for a team of theirs.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

ONE_HOLDER = (
    "(CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN app_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN team_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_grants_team_id_teams", "teams", ["team_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_grants_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_grants_source_team", ["source_id", "team_id"], unique=False)
        batch_op.drop_constraint("ck_grant_one_principal", type_="check")
        batch_op.create_check_constraint("ck_grant_one_principal", ONE_HOLDER)
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_access_requests_team_id_teams", "teams", ["team_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_access_requests_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_requests_team_id"))
        batch_op.drop_constraint("fk_access_requests_team_id_teams", type_="foreignkey")
        batch_op.drop_column("team_id")
    op.execute("DELETE FROM grants WHERE team_id IS NOT NULL")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_constraint("ck_grant_one_principal", type_="check")
        batch_op.create_check_constraint("ck_grant_one_principal", "(user_id IS NULL) <> (app_id IS NULL)")
        batch_op.drop_index("ix_grants_source_team")
        batch_op.drop_index(batch_op.f("ix_grants_team_id"))
        batch_op.drop_constraint("fk_grants_team_id_teams", type_="foreignkey")
        batch_op.drop_column("team_id")
