"""Sign-in hardening (issue #24): a member bound to one identity at the identity provider (iss, sub), unique; the
request to join keeps the identity that asked; failed password sign-ins kept for the throttle (by client and by
account) instead of a lock-out counted on the account.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oidc_issuer", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.create_unique_constraint("uq_users_oidc_identity", ["oidc_issuer", "oidc_subject"])
        batch_op.drop_column("failed_sign_ins")
        batch_op.drop_column("locked_until")
    with op.batch_alter_table("join_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oidc_issuer", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=39), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_failures_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_failures_client"), ["client"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_failures_username"), ["username"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_username"))
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_client"))
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_at"))
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("join_requests", schema=None) as batch_op:
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("oidc_issuer")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.drop_constraint("uq_users_oidc_identity", type_="unique")
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("oidc_issuer")
