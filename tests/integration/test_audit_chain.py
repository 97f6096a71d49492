"""The audit trail as evidence nobody can quietly change: a hash chain that `gatehouse audit verify` walks (it names
the first event that breaks it), kept one line by concurrent writers; on PostgreSQL, the app's own role may only add
to and read the trail, and even the owner's TRUNCATE is refused."""

from __future__ import annotations

import re
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from core import audit
from core.adapters.db import alembic_config, make_engine, migrate
from core.adapters.models import AuditEvent
from core.config import Settings
from core.context import Gatehouse
from core.startup import start
from tests.integration.test_cli import gatehouse_cli  # noqa: F401  (fixture)

pytestmark = pytest.mark.both_databases  # the chain's lock and the app role's rights are each database's own


Cli = Callable[..., subprocess.CompletedProcess[str]]


def _ids(gatehouse: Gatehouse) -> list[int]:
    """The trail's event ids, oldest first, after a few events of its own (the demo seeds none)."""
    for number in range(5):
        with gatehouse.session() as session:
            audit.record(session, "dave", "chain-test", f"event {number}", source_id=None, number=number)
    with gatehouse.session() as session:
        return [i for i in session.exec(select(AuditEvent.id).order_by(col(AuditEvent.id))).all() if i is not None]


def _behind_the_trails_back(engine: Engine, *statements: str) -> None:
    """What the table's owner can do: switch the append-only triggers off, change the trail, switch them on."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
            for statement in statements:
                connection.execute(text(statement))
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
            for statement in statements:
                connection.execute(text(statement))


def test_verify_says_the_chain_holds_then_names_the_event_changed_behind_its_back(
    gatehouse: Gatehouse,
    gatehouse_cli: Cli,  # noqa: F811
) -> None:
    ids = _ids(gatehouse)
    held = gatehouse_cli("audit", "verify")
    assert held.returncode == 0 and held.stderr == ""
    with gatehouse.session() as session:
        head = session.get(AuditEvent, ids[-1])
        assert head is not None
        shown = f"the audit trail's hash chain holds: {len(ids):,} events; its head is {ids[-1]}:{head.hash}\n"
    assert held.stdout == shown

    altered = ids[len(ids) // 2]
    _behind_the_trails_back(
        gatehouse.engine, f"UPDATE audit_events SET summary = 'nothing happened' WHERE id = {altered}"
    )
    broken = gatehouse_cli("audit", "verify")
    assert broken.returncode == 1 and broken.stdout == ""
    assert broken.stderr.splitlines() == [
        f"gatehouse: the audit trail's hash chain breaks at event {altered}: it, or one before it, was changed "
        "outside Gatehouse."
    ]


def test_an_event_removed_breaks_the_chain_at_the_next(gatehouse: Gatehouse) -> None:
    ids = _ids(gatehouse)
    _behind_the_trails_back(gatehouse.engine, f"DELETE FROM audit_events WHERE id = {ids[1]}")
    assert gatehouse.run(audit.verify).broken_at == ids[2]


def test_an_event_rehashed_by_a_forger_breaks_the_chain_at_the_next(gatehouse: Gatehouse) -> None:
    """Whoever changes an event and computes its hash again still leaves the next event chained to the old one."""
    ids = _ids(gatehouse)
    with gatehouse.session() as session:
        event = session.get(AuditEvent, ids[0])
        assert event is not None
        event.summary = "nothing happened"
        forged = audit.chained(audit.GENESIS, event)
        session.expunge(event)
    _behind_the_trails_back(
        gatehouse.engine, f"UPDATE audit_events SET summary = 'nothing happened', hash = '{forged}' WHERE id = {ids[0]}"
    )
    assert gatehouse.run(audit.verify).broken_at == ids[1]


def test_a_trail_rewritten_whole_by_its_owner_is_caught_by_an_anchor_kept_outside(
    gatehouse: Gatehouse,
    gatehouse_cli: Cli,  # noqa: F811
) -> None:
    """The owner role can change an event and hash every event after it again: the chain holds, but the anchor that
    an earlier verify printed (and the scheduler's log kept) no longer matches."""
    ids = _ids(gatehouse)
    anchor = gatehouse_cli("audit", "verify").stdout.rsplit(" ", 1)[-1].strip()
    assert gatehouse_cli("audit", "verify", "--anchor", anchor).returncode == 0
    previous = audit.GENESIS
    with gatehouse.session() as session:  # the forger's rewrite: every hash from the altered event on
        rewritten = []
        for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all():
            if event.id == ids[1]:
                event.summary = "nothing happened"
            previous = audit.chained(previous, event)
            rewritten.append((event.id, event.summary, previous))
        session.expunge_all()
    _behind_the_trails_back(
        gatehouse.engine,
        *(
            f"UPDATE audit_events SET summary = '{summary}', hash = '{digest}' WHERE id = {event_id}"
            for event_id, summary, digest in rewritten
            if event_id >= ids[1]
        ),
    )
    assert gatehouse.run(audit.verify).broken_at is None  # the chain alone cannot tell
    caught = gatehouse_cli("audit", "verify", "--anchor", anchor)
    assert caught.returncode == 1
    assert f"breaks at event {ids[-1]}" in caught.stderr
    refused = gatehouse_cli("audit", "verify", "--anchor", "twelve")
    assert refused.returncode == 1 and "An anchor is an event's id and hash" in refused.stderr


def test_concurrent_writers_keep_one_chain(gatehouse: Gatehouse) -> None:
    before = len(_ids(gatehouse))
    writers, each = 6, 15
    start_together = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            start_together.wait()
            for event in range(each):
                with gatehouse.session() as session:
                    audit.record(session, f"writer{number}", "chain-test", f"event {event} of writer {number}")
                    if event % 3 == 0:  # two events in one transaction chain onto each other
                        audit.record(session, f"writer{number}", "chain-test", f"and one more after {event}")
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    check = gatehouse.run(audit.verify)
    assert check.broken_at is None
    assert check.events == before + writers * (each + 5)


def test_the_migration_chains_the_events_from_before_it(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014-1")
    with engine.begin() as connection:
        for number in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_events (at, actor, action, summary, details) "
                    "VALUES (:at, 'dave', 'old-event', :summary, :details)"
                ),
                {"at": f"2026-01-0{number + 1} 10:00:00.123456+00:00", "summary": f"old {number}", "details": "{}"},
            )
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_events WHERE hash IS NULL")).scalar() == 0
    with Session(engine) as session:
        check = audit.verify(session)
        assert (check.events, check.broken_at) == (3, None)
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == 3
    engine.dispose()


# --- PostgreSQL: the app's role may only add to the trail ------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def readme_grants() -> list[str]:
    """The statements README.md asks the owner to run once the tables exist (its SQL block that takes UPDATE,
    DELETE and TRUNCATE on the trail away from the app), one a string, without their comments."""
    blocks = re.findall(r"```sql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    [block] = [b for b in blocks if "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events" in b]
    text = re.sub(r"--[^\n]*", "", block)
    return [statement.strip() for statement in text.split(";") if statement.strip()]


@pytest.fixture
def app_role(postgres_url: str) -> Iterator[str]:
    """A role of its own, with the grants README.md gives the app (run as README.md writes them); its URL on the
    test's database."""
    name = f"gatehouse_app_{uuid.uuid4().hex[:8]}"
    owner = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.execute(text(f"CREATE ROLE {name} LOGIN"))
        for grant in readme_grants():
            connection.execute(text(grant.replace("gatehouse_app", name)))
    yield postgres_url.replace("postgres@", f"{name}@", 1)
    with owner.connect() as connection:
        connection.execute(text(f"DROP OWNED BY {name}"))
        connection.execute(text(f"DROP ROLE {name}"))
    owner.dispose()


@pytest.mark.postgres
def test_the_apps_role_can_add_to_the_trail_and_nothing_else(
    postgres_url: str, app_role: str, moto_reset: str, tmp_path: Path
) -> None:
    port = int(moto_reset.rsplit(":", 1)[1])
    settings = Settings(
        database_url=app_role, migration_database_url=postgres_url, local_aws_port=port, data_dir=tmp_path
    )
    gatehouse = start(settings)  # migrations as the owner; the demo seeded, and its events added, as the app
    try:
        with gatehouse.engine.connect() as connection:
            assert connection.execute(text("SELECT current_user")).scalar() == app_role.split("@")[0].rsplit("/")[-1]
        with gatehouse.session() as session:
            audit.record(session, "dave", "chain-test", "the app's role adds to the trail")
        for statement in (
            "TRUNCATE audit_events",
            "DELETE FROM audit_events",
            "UPDATE audit_events SET summary = 'nothing happened'",
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
            "ALTER TABLE audit_events DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_events_no_change ON audit_events",
        ):
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner"), gatehouse.engine.begin() as c:
                c.execute(text(statement))
        assert gatehouse.run(audit.verify).broken_at is None
    finally:
        gatehouse.engine.dispose()


@pytest.mark.postgres
def test_the_owners_truncate_is_refused_by_the_trigger(postgres_url: str) -> None:
    owner = create_engine(postgres_url)
    with owner.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_events (at, actor, action, summary, details) VALUES (now(), 'a', 'b', 'c', '{}')")
        )
    with pytest.raises(DBAPIError, match="append-only"), owner.begin() as connection:
        connection.execute(text("TRUNCATE audit_events"))
    with owner.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() == 1
    owner.dispose()
