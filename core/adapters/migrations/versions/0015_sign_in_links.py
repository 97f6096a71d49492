"""A joiner's way in when members sign in with a password (issue #25): a one-time link that sets their password,
kept only as the sha256 of its token, with the moment it expires. A new link replaces the old (one a member).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sign_in_link_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("sign_in_link_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_sign_in_link_hash"), ["sign_in_link_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_sign_in_link_hash"))
        batch_op.drop_column("sign_in_link_expires_at")
        batch_op.drop_column("sign_in_link_hash")
