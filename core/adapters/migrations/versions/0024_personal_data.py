"""Personal data gets its own rules (issue #29): a source's classification and information asset owner; a request's
admin step before the owner's, its questions, an extension's grant; a movement form's sign-off; a review report's
signature. Requests waiting for the owner or for an answer are open: the one-open-request index counts them.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

OPEN_BEFORE = "status IN ('pending-admin', 'pending-line-manager', 'pending-platform')"
OPEN_NOW = "status IN ('pending-admin', 'pending-line-manager', 'pending-platform', 'pending-iao', 'pending-answer')"


def _status() -> sa.Enum:
    names = (
        "pending-admin",
        "pending-line-manager",
        "pending-platform",
        "pending-iao",
        "pending-answer",
        "approved",
        "refused",
        "withdrawn",
        "closed",
    )
    return sa.Enum(*names, name="requeststatus", native_enum=False, length=32)


def _open_index(where: str) -> None:
    op.create_index(
        "uq_access_requests_open",
        "access_requests",
        ["requester_id", "source_id"],
        unique=True,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    classification = sa.Enum(
        "standard", "personal", "special-category", name="classification", native_enum=False, length=32
    )
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classification", classification, nullable=False, server_default="standard"))
        batch_op.add_column(sa.Column("iao_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_data_sources_iao_id_users", "users", ["iao_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_data_sources_iao_id"), ["iao_id"], unique=False)
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.alter_column("classification", server_default=None, existing_type=classification)

    op.drop_index("uq_access_requests_open", table_name="access_requests")
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("granted_expires_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("admin_approved_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("admin_approved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("extends_grant_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_access_requests_admin_approved_by_id_users", "users", ["admin_approved_by_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_access_requests_extends_grant_id"), ["extends_grant_id"], unique=False)
    _open_index(OPEN_NOW)

    op.create_table(
        "request_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("returns_to", _status(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["asked_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["access_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_request_questions_request_id"), "request_questions", ["request_id"], unique=False)

    with op.batch_alter_table("data_movements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signoff_needed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("signed_off_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("signed_off_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("signoff_refused_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key("fk_data_movements_signed_off_by_id_users", "users", ["signed_off_by_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_data_movements_signoff_needed"), ["signoff_needed"], unique=False)
    with op.batch_alter_table("data_movements", schema=None) as batch_op:
        batch_op.alter_column("signoff_needed", server_default=None, existing_type=sa.Boolean())

    op.create_table(
        "review_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("seen", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["review_campaigns.id"]),
        sa.ForeignKeyConstraint(["signed_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["data_sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "source_id", name="uq_review_signature_source"),
    )
    op.create_index(op.f("ix_review_signatures_campaign_id"), "review_signatures", ["campaign_id"], unique=False)
    op.create_index(op.f("ix_review_signatures_source_id"), "review_signatures", ["source_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_review_signatures_source_id"), table_name="review_signatures")
    op.drop_index(op.f("ix_review_signatures_campaign_id"), table_name="review_signatures")
    op.drop_table("review_signatures")
    with op.batch_alter_table("data_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_movements_signoff_needed"))
        batch_op.drop_constraint("fk_data_movements_signed_off_by_id_users", type_="foreignkey")
        batch_op.drop_column("signoff_refused_reason")
        batch_op.drop_column("signed_off_at")
        batch_op.drop_column("signed_off_by_id")
        batch_op.drop_column("signoff_needed")
    op.drop_index(op.f("ix_request_questions_request_id"), table_name="request_questions")
    op.drop_table("request_questions")
    # what waited for the owner or an answer, or was closed as stale, is withdrawn: the old steps know no such states
    op.execute(
        "UPDATE access_requests SET status = 'withdrawn' WHERE status IN ('pending-iao', 'pending-answer', 'closed')"
    )
    op.drop_index("uq_access_requests_open", table_name="access_requests")
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_requests_extends_grant_id"))
        batch_op.drop_constraint("fk_access_requests_admin_approved_by_id_users", type_="foreignkey")
        batch_op.drop_column("extends_grant_id")
        batch_op.drop_column("admin_approved_at")
        batch_op.drop_column("admin_approved_by_id")
        batch_op.drop_column("granted_expires_on")
    _open_index(OPEN_BEFORE)
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_sources_iao_id"))
        batch_op.drop_constraint("fk_data_sources_iao_id_users", type_="foreignkey")
        batch_op.drop_column("iao_id")
        batch_op.drop_column("classification")
