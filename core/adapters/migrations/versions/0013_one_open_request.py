"""One open request a person a source, and one open request to join an identity (issuer and subject): partial unique indexes, so that two
requests made at the same moment (a double click, two tabs) cannot both be stored. The rules said so already; the
database now holds them under concurrent transactions too (issue #24). Open duplicates left by earlier races are
closed first, the earliest of each kept.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OPEN_REQUEST = "status IN ('pending-admin', 'pending-line-manager', 'pending-platform')"
OPEN_JOIN = "closed_at IS NULL"


def upgrade() -> None:
    op.execute(
        "UPDATE access_requests SET status = 'withdrawn', version = version + 1, "
        "decision_reason = 'Closed as a duplicate of an earlier open request for the same source.' "
        f"WHERE {OPEN_REQUEST} AND EXISTS (SELECT 1 FROM access_requests AS earlier "
        "WHERE earlier.requester_id = access_requests.requester_id AND earlier.source_id = access_requests.source_id "
        f"AND earlier.{OPEN_REQUEST} "
        "AND earlier.id < access_requests.id)"
    )
    op.execute(
        "UPDATE join_requests SET closed_at = created_at, outcome = 'duplicate' "
        f"WHERE {OPEN_JOIN} AND EXISTS (SELECT 1 FROM join_requests AS earlier "
        "WHERE earlier.oidc_issuer = join_requests.oidc_issuer AND earlier.oidc_subject = join_requests.oidc_subject "
        "AND earlier.closed_at IS NULL "
        "AND earlier.id < join_requests.id)"
    )
    op.create_index(
        "uq_access_requests_open",
        "access_requests",
        ["requester_id", "source_id"],
        unique=True,
        postgresql_where=sa.text(OPEN_REQUEST),
        sqlite_where=sa.text(OPEN_REQUEST),
    )
    op.create_index(
        "uq_join_requests_open",
        "join_requests",
        ["oidc_issuer", "oidc_subject"],  # an identity is its issuer and subject: one name may be asked by two
        unique=True,
        postgresql_where=sa.text(OPEN_JOIN),
        sqlite_where=sa.text(OPEN_JOIN),
    )


def downgrade() -> None:
    op.drop_index("uq_join_requests_open", table_name="join_requests")
    op.drop_index("uq_access_requests_open", table_name="access_requests")
