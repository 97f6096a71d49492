"""Shared fixtures: real databases (SQLite and PostgreSQL), moto's server on loopback, a started Gatehouse.

With CI=true, a test that needs PostgreSQL or Chromium fails instead of skipping when they are missing.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import create_engine, text

from core.adapters.db import make_engine, migrate
from core.config import Settings
from core.context import Gatehouse
from core.startup import start

POSTGRES_ADMIN_URL = os.environ.get("GATEHOUSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def missing(what: str) -> None:
    """Skip on a laptop that lacks a real part; fail in CI, where a skipped test would not count."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: this must not be skipped)")
    pytest.skip(what)


def stop(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """End a server a test started: politely, then for good."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- AWS emulation ------------------------------------------------------------------------------------


@contextmanager
def emulation_of_its_own() -> Iterator[str]:
    """A moto server on a free port; its endpoint. An emulation serves one database (core.adapters.local_aws)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The worker's emulation: tests reset it (moto_reset), so that each test's database finds it empty."""
    with emulation_of_its_own() as endpoint:
        yield endpoint


@pytest.fixture
def moto_reset(moto_endpoint: str) -> str:
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10)
    return moto_endpoint


# --- databases ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database; each test gets a fresh copy of it (CREATE DATABASE … TEMPLATE)."""
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means: no PostgreSQL here
        missing(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({type(error).__name__}); start it with "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    name = f"gatehouse_tmpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gatehouse_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once a worker; each test gets a copy of it, as each gets a PostgreSQL database
    made from a migrated template."""
    path = tmp_path_factory.mktemp("sqlite-template") / "gatehouse.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # its last connection closed: the write-ahead log is folded into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "gatehouse.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("postgres_url"))


# --- Gatehouse ----------------------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str, moto_reset: str, tmp_path: Path) -> Settings:
    port = int(moto_reset.rsplit(":", 1)[1])
    return Settings(database_url=database_url, aws_mode="local", local_aws_port=port, data_dir=tmp_path)


@pytest.fixture
def gatehouse(settings: Settings) -> Iterator[Gatehouse]:
    """Gatehouse started on the demo data, against a fresh database and a reset emulation."""
    started = start(settings)
    yield started
    started.engine.dispose()


@pytest.fixture
def bare_gatehouse(database_url: str, moto_reset: str, tmp_path: Path) -> Iterator[Gatehouse]:
    """Gatehouse started with no demo data."""
    port = int(moto_reset.rsplit(":", 1)[1])
    started = start(
        Settings(database_url=database_url, aws_mode="local", local_aws_port=port, data_dir=tmp_path, seed_demo=False)
    )
    yield started
    started.engine.dispose()
