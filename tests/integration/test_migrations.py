"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL, and run down and up."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel, func, select

import core.adapters.models  # noqa: F401
from core.adapters.db import alembic_config, make_engine, migrate, migrating
from core.adapters.models import Grant
from core.context import Gatehouse
from core.queries import get_user

pytestmark = pytest.mark.both_databases  # the migrations run per dialect (SQLite's batch rebuilds, partial indexes)


def test_migrations_match_the_models_and_are_reversible(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        command.upgrade(config, "head")
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
    engine.dispose()


def test_open_duplicates_left_by_earlier_races_are_closed_before_the_unique_indexes(database_url: str) -> None:
    """Migration 0013 makes one open request a person a source, and one open request to join an identity, unique: what
    earlier races left twice is closed first, the earliest kept open."""
    engine = make_engine(database_url)
    config = alembic_config()
    with migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")  # (PostgreSQL's test database is a migrated copy)
        command.downgrade(config, "0012")
        connection.execute(
            text(
                "INSERT INTO users (username, email, display_name, is_platform_admin, is_external, status, "
                "created_at) VALUES ('ann', 'ann@example.org', 'ann', false, false, 'active', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO data_sources (name, kind, hidden, region, description, created_at) "
                "VALUES ('alpha-s', 'warehouse', false, 'eu-west-1', '', '2026-01-01')"
            )
        )
        for status in ("pending-admin", "pending-admin", "pending-platform", "refused"):
            connection.execute(
                text(
                    "INSERT INTO access_requests (requester_id, source_id, level, paths, business_need, status, "
                    "no_line_manager, version, created_at, updated_at) VALUES (1, 1, 'read-only', '[]', 'x', :status, "
                    "false, 1, '2026-01-01', '2026-01-01')"
                ),
                {"status": status},
            )
        for _ in range(2):
            connection.execute(
                text(
                    "INSERT INTO join_requests (identity, email, display_name, oidc_issuer, oidc_subject, created_at) "
                    "VALUES ('frank', '', '', 'https://idp.example.org', 'frank-1', '2026-01-01')"
                )
            )
        command.upgrade(config, "head")
    with engine.connect() as connection:
        requests = connection.execute(text("SELECT status FROM access_requests ORDER BY id")).scalars().all()
        joins = connection.execute(text("SELECT outcome FROM join_requests ORDER BY id")).scalars().all()
    engine.dispose()
    assert requests == ["pending-admin", "withdrawn", "withdrawn", "refused"]
    assert joins == [None, "duplicate"]


def test_a_database_in_use_before_this_rounds_migrations_reaches_the_newest(gatehouse: Gatehouse) -> None:
    """A database that people used at 0011 (members referred to by grants, requests, events) upgrades in place: on
    SQLite, the migrations that rebuild a table its rows are referred to from ran into the foreign keys."""
    config = alembic_config()
    with gatehouse.session() as session:
        before = session.exec(select(func.count()).select_from(Grant)).one()
    with migrating(gatehouse.engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    migrate(gatehouse.engine)
    with gatehouse.session() as session:
        assert session.exec(select(func.count()).select_from(Grant)).one() == before > 0
        assert get_user(session, "alice").email == "alice@example.org"
