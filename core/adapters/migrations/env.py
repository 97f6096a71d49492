"""Alembic runs migrations on the connection Gatehouse hands it (adapters.db.migrate), or on
GATEHOUSE_MIGRATION_DATABASE_URL (else GATEHOUSE_DATABASE_URL)."""

from alembic import context
from sqlmodel import SQLModel

import core.adapters.models
import core.adapters.review_models
import core.adapters.sign_in_models  # noqa: F401
from core.adapters.db import make_engine
from core.config import Settings

target_metadata = SQLModel.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        with make_engine(Settings().migration_db_url).begin() as connection:
            _run_on(connection)
    else:
        _run_on(connection)


def _run_on(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
