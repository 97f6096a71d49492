"""Shared fixtures: real databases (SQLite and PostgreSQL), moto's server on loopback, a started Gatehouse.

The demo platform is started once a worker and database kind (demo_platform): a test's `gatehouse` starts on a copy of
that database with the emulation put back to the state that start left it in, so start() finds it applied and has
little to do, as at a restart in production. A test marked `first_start` (tests/integration/test_foundation.py) gets
the start from an empty database and a reset emulation.

With CI=true, a test that needs PostgreSQL or Chromium fails instead of skipping when they are missing.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import socket
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from moto.core.base_backend import BackendDict, backend_lock
from moto.core.model_instances import reset_model_data
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


# --- passwords ----------------------------------------------------------------------------------------------

PRODUCTION_GENSALT = bcrypt.gensalt
TEST_BCRYPT_COST = 4  # bcrypt's least: real bcrypt hashes and checks, in a millisecond instead of a third of a second


def quick_gensalt(rounds: int = TEST_BCRYPT_COST, prefix: bytes = b"2b") -> bytes:
    return PRODUCTION_GENSALT(rounds, prefix)


@pytest.fixture(scope="session", autouse=True)
def quick_passwords() -> Iterator[None]:
    """Passwords hashed in the tests' processes at bcrypt's least cost: the demo accounts' (made once a worker, then
    checked at every sign-in of AppTest and of the browser tests' apps, which start on the demo's copy), those the
    tests set, and the one an unknown name is checked against. A hash carries its cost, so checking it costs what
    making it did: a sign-in took a third of a second, half a second and more on a loaded machine. A test still
    proves production's cost (tests/unit/test_password_cost.py), and `streamlit run` seeding a database of its own
    (test_two_processes) hashes at production's."""
    bcrypt.gensalt = quick_gensalt
    try:
        yield
    finally:
        bcrypt.gensalt = PRODUCTION_GENSALT


# --- order ---------------------------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first (in the order they are collected within each kind), so that with the workers taking
    the next test as each finishes one (dev.py: `--dist load --maxschedchunk 1`), the last minutes run short tests on
    every core instead of one browser test on one: those in Chromium (each starts `streamlit run`), then those with
    SeaweedFS, then AppTest's pages, then the rest."""

    def kind(item: pytest.Item) -> int:
        if item.get_closest_marker("browser"):
            return 0
        if item.get_closest_marker("seaweed"):
            return 1
        return 2 if "tests/app/" in item.nodeid else 3

    items.sort(key=kind)  # stable: within a kind, as collected; the same order on every worker


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


def reset_emulation(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)


@pytest.fixture
def moto_reset(moto_endpoint: str) -> str:
    reset_emulation(moto_endpoint)
    return moto_endpoint


@dataclass(frozen=True)
class EmulationState:
    """What the worker's moto server holds (its buckets, objects, roles and policies), kept aside to be put back.

    The server runs in this process (ThreadedMotoServer), so its backends are this process's: pickled, they are the
    whole state (S3 objects through moto's own pickling hooks, FakeKey.__getstate__), and unpickling a copy in place
    is what /moto-api/reset does, with content. Kept as bytes, not objects: a reset closes the buffers of every S3
    object moto has made, so a copy kept as objects would lose its content at the next test's reset."""

    backends: tuple[tuple[BackendDict[Any], bytes], ...]

    @classmethod
    def now(cls) -> EmulationState:
        with backend_lock:
            return cls(tuple((b, pickle.dumps((dict(b), vars(b)))) for b in BackendDict._instances))

    def put_back(self) -> None:
        with backend_lock:
            BackendDict.reset()
            reset_model_data()
            for backend, state in self.backends:
                accounts, attributes = pickle.loads(state)
                vars(backend).update(attributes)  # S3's also says which account has which bucket name
                for account, regions in accounts.items():
                    dict.__setitem__(backend, account, regions)
                BackendDict._instances.append(backend)


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
    with postgres_copy(postgres_template) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once a worker; each test gets a copy of it, as each gets a PostgreSQL database
    made from a migrated template."""
    path = tmp_path_factory.mktemp("sqlite-template") / "gatehouse.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # its last connection closed: the write-ahead log is folded into the file
    return path


BOTH_DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_databases: runs on SQLite and on PostgreSQL, for SQL the two may answer differently"
    )
    config.addinivalue_line("markers", "first_start: `gatehouse` starts from an empty database, not the demo's copy")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test on a database runs on SQLite, and on PostgreSQL too where the two may answer differently: a test (or a
    module) marked `both_databases` is about SQL one of them could read otherwise (migrations, locks and concurrent
    writers, unique and partial indexes, dates compared in queries, searching and paging, the write revision, start-up
    seeding). Elsewhere the database only keeps what the test is about (IAM documents, S3, pages, messages), and
    SQLite keeps it as PostgreSQL does: running those twice doubled their time and tested nothing more."""
    if "database_kind" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize("database_kind", BOTH_DATABASES if both else ["sqlite"], indirect=True)


@pytest.fixture
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: migrated, or, for a test whose `gatehouse` starts on the demo, the started demo's copy."""
    demo = None
    if "demo_platform" in request.fixturenames and not request.node.get_closest_marker("first_start"):
        demo = request.getfixturevalue("demo_platform")
    if database_kind == "sqlite":
        path = tmp_path / "gatehouse.db"
        template = demo.sqlite(request) if demo else request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, path)
        if demo:
            request.node.stash[STARTED_DEMO] = demo.emulations["sqlite"]
        yield f"sqlite:///{path}"
        return
    if not demo:
        yield str(request.getfixturevalue("postgres_url"))
        return
    with postgres_copy(demo.postgres(request)) as url:
        request.node.stash[STARTED_DEMO] = demo.emulations["postgresql"]
        yield url


@contextmanager
def postgres_copy(template: str) -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gatehouse_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        DROPS.submit(drop_database, name)


def drop_database(name: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception as error:  # a database left behind costs disk, not a test: say so and go on
        print(f"could not drop the test database {name}: {error}")
    finally:
        admin.dispose()


# A test's PostgreSQL database is dropped while the worker goes on to its next test (0.1 to 1 s a drop on a loaded
# server, as it waits for a checkpoint): one at a time, all of them before the worker ends (postgres_drops).
DROPS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-database")


@pytest.fixture(scope="session", autouse=True)
def postgres_drops() -> Iterator[None]:
    yield
    DROPS.shutdown(wait=True)


# --- Gatehouse ----------------------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str, moto_reset: str, tmp_path: Path) -> Settings:
    port = int(moto_reset.rsplit(":", 1)[1])
    return Settings(database_url=database_url, aws_mode="local", local_aws_port=port, data_dir=tmp_path)


class DemoPlatform:
    """The demo started once a worker and database kind: its database (a SQLite file, a PostgreSQL template) and the
    emulation's state just after that start. Made at first need, from an empty database and a reset emulation."""

    def __init__(self, moto_endpoint: str, folder: Path) -> None:
        self.moto_endpoint = moto_endpoint
        self.folder = folder
        self.emulations: dict[str, EmulationState] = {}
        self.databases: dict[str, str] = {}

    def sqlite(self, request: pytest.FixtureRequest) -> Path:
        if "sqlite" not in self.databases:
            path = self.folder / "demo.db"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            self.start_once("sqlite", f"sqlite:///{path}")
            self.databases["sqlite"] = str(path)  # its engine disposed: the write-ahead log is folded into the file
        return Path(self.databases["sqlite"])

    def postgres(self, request: pytest.FixtureRequest) -> str:
        if "postgresql" not in self.databases:
            name = f"gatehouse_demo_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                template = request.getfixturevalue("postgres_template")
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            admin.dispose()
            self.databases["postgresql"] = name  # dropped at the session's end; a template once its engine is gone
            self.start_once("postgresql", POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        return self.databases["postgresql"]

    def start_once(self, kind: str, url: str) -> None:
        reset_emulation(self.moto_endpoint)
        port = int(self.moto_endpoint.rsplit(":", 1)[1])
        started = start(Settings(database_url=url, aws_mode="local", local_aws_port=port, data_dir=self.folder))
        started.engine.dispose()
        self.emulations[kind] = EmulationState.now()


STARTED_DEMO = pytest.StashKey[EmulationState]()  # on a test whose database is a copy of the started demo


@pytest.fixture(scope="session")
def demo_platform(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPlatform]:
    platform = DemoPlatform(moto_endpoint, tmp_path_factory.mktemp("demo-platform"))
    yield platform
    if "postgresql" in platform.databases:
        name = platform.databases["postgresql"]
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def gatehouse(demo_platform: DemoPlatform, settings: Settings, request: pytest.FixtureRequest) -> Iterator[Gatehouse]:
    """Gatehouse started on the demo data, against a fresh database and its own emulation: the demo started once
    (demo_platform), copied, with the emulation as that start left it; start() runs on it as at a restart. A module
    that brings its own database (one that is not the demo's copy) gets a start from empty, as before."""
    emulation = request.node.stash.get(STARTED_DEMO, None)
    if emulation is not None:
        emulation.put_back()
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
