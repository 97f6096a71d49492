"""The engine, made once from the settings; migrations run at start; sessions for the use cases."""

from __future__ import annotations

import functools
import hashlib
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, TextClause, event, inspect, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import ORMExecuteState, SessionTransaction
from sqlmodel import Session, create_engine, select

from core.adapters import review_models, sign_in_models  # noqa: F401  (registers their tables on SQLModel.metadata)
from core.adapters.models import Revision
from core.domain import InvalidInput

MIGRATIONS = Path(__file__).parent / "migrations"
# Two processes starting together on one PostgreSQL must not both migrate: an advisory lock serialises them.
_MIGRATION_LOCK = 0x6A7E
_SEED_LOCK = 0x6A7F
_AUDIT_CHAIN_LOCK = 0x6A80


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, owner_url: str | None = None) -> None:
    """Bring the schema to the newest migration (`alembic upgrade head`): through `owner_url` when given (production:
    the role that owns the tables, while the app's own role may only add to the audit trail), else the app's engine."""
    if owner_url:
        owner = make_engine(owner_url)
        try:
            migrate(owner)
        finally:
            owner.dispose()
        return
    with engine.connect() as connection:  # the usual start: nothing to do (Alembic's run would load every script)
        if MigrationContext.configure(connection).get_current_revision() == _head():
            return
    config = alembic_config()
    with migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@functools.cache
def _head() -> str | None:
    """The newest migration, read from the scripts once a process."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """A connection to migrate on, in one transaction. PostgreSQL: one process at a time (several starting together
    migrate once). SQLite: with foreign keys off, which Alembic's batch mode needs (it rebuilds a table by copy, drop
    and rename, and dropping a table that other rows refer to fails with them on: every database with members in it
    at 0011 failed to reach 0012), and checked before the commit, so a migration cannot leave a dangling reference."""
    on_sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if on_sqlite:  # outside any transaction, where SQLite takes notice of it
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if not on_sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                yield connection
                if on_sqlite and (dangling := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"a migration left rows that refer to nothing: {dangling[:5]}")
        finally:
            if on_sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def refresh_statistics(engine: Engine) -> None:
    """The planner's statistics for SQLite, sampled (a second at platform scale): without them SQLite picks an index
    by its name's order, not by what it holds (the access reviews' "since when" read the 100,000 grant events
    through the action's index, 40 ms, instead of a page of holders' through the subject's). PostgreSQL's
    autovacuum keeps its own."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA analysis_limit=1000")
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


def lock_for_seeding(session: Session) -> None:
    """Two processes starting together on one empty PostgreSQL must not both seed it: the second waits here until
    the first commits, then finds the database no longer empty. (SQLite serialises writers by itself.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})


def lock_audit_chain(session: Session) -> str | None:
    """The audit trail's last hash, read once this transaction alone may add to the trail's hash chain (until it
    ends), so two writers never chain to the same event. PostgreSQL: a transaction-scoped advisory lock, then the
    read (a statement of its own: one statement's snapshot predates the lock it waited for). SQLite: its one writer's
    lock, taken by a write that changes nothing (a read first would let another writer commit between the read and
    the insert). Through the connection: the write revision takes no notice, and the ORM adds nothing to the time."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK_CHAIN)
    else:
        connection.execute(_TAKE_SQLITE_WRITE_LOCK)
    return connection.execute(_LAST_AUDIT_HASH).scalar()


_LOCK_CHAIN = text(f"SELECT pg_advisory_xact_lock({_AUDIT_CHAIN_LOCK})")
# SQLite's one writer's lock, taken by a write that changes nothing (as BEGIN IMMEDIATE would): every wait for it
_TAKE_SQLITE_WRITE_LOCK = text("UPDATE revision SET n = n WHERE 0")
_LAST_AUDIT_HASH = text("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1")


def serialise(session: Session, *key: object) -> None:
    """Wait until no other transaction holds `key` (e.g. "source", 12), then hold it until this one ends, so that a
    rule checked on what is read after this call still holds when the change is written, however many requests race
    (two grants of one person on one source, two admins revoking each other). Call it before reading what the rule
    reads. PostgreSQL: a transaction-scoped advisory lock on the key's hash. SQLite lets one transaction write at a
    time, whatever the key: taking the write lock now (an UPDATE that changes nothing, as BEGIN IMMEDIATE would)
    makes the reads that follow current and keeps them so until this transaction ends."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest, signed=True)})
    else:
        connection.execute(_TAKE_SQLITE_WRITE_LOCK)


def insert_missing(session: Session, model: type, **values: object) -> None:
    """Insert the row unless one with the same unique key is there already, or is being inserted by another
    transaction right now (which then wins): never a unique violation for the one that comes second."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())


def _unique_violation(error: IntegrityError) -> bool:
    code = getattr(error.orig, "sqlstate", None)  # psycopg
    return code == "23505" or (code is None and "UNIQUE constraint failed" in str(error.orig))


@contextmanager
def taken_means(sentence: str) -> Iterator[None]:
    """A row a unique index refuses (someone else wrote the same a moment ago, in another transaction) becomes the
    one sentence the loser reads, instead of a traceback. Flush inside the block, so that the index answers here."""
    try:
        yield
    except IntegrityError as error:
        if not _unique_violation(error):
            raise
        raise InvalidInput(sentence) from None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back when it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# --- the write revision ---------------------------------------------------------------------------------------
# Every transaction that writes through a Session moves the one `revision` row on as it commits, in the same
# transaction: whoever reads the new numbers also sees the writes, in this process or any other on the database.
# Pages cache their reads under the numbers read at the start of a rerun (pages/ui/cached.py), so a write anywhere is
# seen at the next rerun everywhere. Two numbers: `trail` moves at every writing transaction, `n` only at one that
# changes more than the audit trail and the sign-in bookkeeping below. A sign-in (the commonest write on a busy
# platform: an audit event and the user's last sign-in) so leaves every page's cached reads but the audit trail's.
# A bump without a change (a dirty object that did not change) only costs a cache miss.
_WROTE = "gatehouse_wrote"  # session.info: "state" once anything but the trail was written, else "trail"
# The sign-in throttle's failures are bookkeeping no page shows, like the trail (core.auth)
_TRAIL_TABLES = frozenset({"audit_events", "sign_in_failures"})
# Columns no page shows: changing only these is bookkeeping, like the trail (core.auth)
_BOOKKEEPING = {"users": frozenset({"last_sign_in_at"}), "scim_tokens": frozenset({"last_used_at"})}
_BUMP_STATE = update(Revision).where(Revision.id == 1).values(n=Revision.n + 1, trail=Revision.trail + 1)
_BUMP_TRAIL = update(Revision).where(Revision.id == 1).values(trail=Revision.trail + 1)
_READ_REVISION = select(Revision.epoch, Revision.n, Revision.trail).where(Revision.id == 1)


def _wrote(session: Session, what: str) -> None:
    if session.info.get(_WROTE) != "state":
        session.info[_WROTE] = what


def _kind_of_change(session: Session) -> str | None:
    """What a flush of the session's objects writes: "state", "trail" or None (nothing)."""
    kind = None
    for obj in (*session.new, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table not in _TRAIL_TABLES:
            return "state"
        kind = "trail"
    for obj in session.dirty:
        table = getattr(obj, "__tablename__", None)
        if table in _TRAIL_TABLES:
            kind = "trail"
            continue
        changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
        if not changed:
            continue  # marked dirty, nothing changed
        if not changed <= _BOOKKEEPING.get(table or "", frozenset()):
            return "state"
        kind = "trail"
    return kind


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: object) -> None:
    # new, dirty and deleted still hold what this flush wrote
    kind = _kind_of_change(session)
    if kind is not None:
        _wrote(session, kind)


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(getattr(statement, "table", None), "name", None)
        _wrote(state.session, "trail" if table in _TRAIL_TABLES else "state")
    elif isinstance(statement, TextClause) and statement.text.lstrip()[:6].upper() != "SELECT":
        _wrote(state.session, "state")  # plain SQL: what it changed is not known, so everything


@event.listens_for(Session, "before_commit")
def _bump_revision(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction's own commit bumps (and holds the row lock only then)
    session.flush()  # what is still pending is written now, and classified once, by _flushed
    kind = session.info.get(_WROTE)
    if kind is not None:
        session.execute(_BUMP_STATE if kind == "state" else _BUMP_TRAIL)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction committed (bumped) or rolled back; not a savepoint
        session.info.pop(_WROTE, None)


def current_revision(engine: Engine) -> tuple[str, int, int] | None:
    """(the database's epoch, writing transactions that changed more than the trail, all writing transactions):
    equal only if nothing of that kind was written since. None where the database has no revision row (a schema made
    without the migrations): nothing is cached then.

    Read at every rerun of every page. On PostgreSQL through a pool of its own (`_revision_reader`): in autocommit, one
    round trip where BEGIN … ROLLBACK would take three, and no ping before it (the main pool's pre-ping would be a
    second); a connection the server dropped is found by the read itself, and read again once on a fresh one. SQLite
    has no round trips, and its autocommit switch costs more than it saves."""
    reader = _revision_reader(engine)
    for attempt in (1, 2):
        try:
            with reader.connect() as connection:
                row = connection.execute(_READ_REVISION).first()
            break
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise
    return (row[0], row[1], row[2]) if row else None


_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_READERS_LOCK = threading.Lock()


def _revision_reader(engine: Engine) -> Engine:
    """The engine the revision is read through: on PostgreSQL a small autocommit pool without pre-ping beside the
    engine's own (made once an engine, disposed with it); on SQLite the engine itself."""
    if engine.dialect.name != "postgresql":
        return engine
    with _READERS_LOCK:
        reader = _READERS.get(engine)
        if reader is None:
            reader = _READERS[engine] = create_engine(
                engine.url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=8, pool_pre_ping=False
            )
            weakref.finalize(engine, reader.dispose)
            event.listen(engine, "engine_disposed", lambda _engine: reader.dispose())
    return reader
