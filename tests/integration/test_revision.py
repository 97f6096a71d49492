"""The write revision (adapters.db): every transaction that writes moves it on, as it commits, on SQLite and PostgreSQL;
reading, or a write rolled back, leaves it. Pages key their cached reads on it, so this is what makes a decision in one
process show in every other at the next rerun. A write of only the audit trail and sign-in bookkeeping (a sign-in)
moves the trail's number alone: every page's cached reads but the trail's stay."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, insert, select, update

from core import auth
from core.adapters.db import current_revision, make_engine
from core.adapters.models import AuditEvent, DataSource, Notification, User
from core.audit import record
from core.config import Settings
from core.context import Gatehouse

pytestmark = pytest.mark.both_databases  # each database keeps the write revision its own way


def number(gatehouse: Gatehouse) -> int:
    """What every page's cached reads are keyed on."""
    revision = current_revision(gatehouse.engine)
    assert revision is not None
    return revision[1]


def trail(gatehouse: Gatehouse) -> int:
    """What the audit trail's cached reads are keyed on."""
    revision = current_revision(gatehouse.engine)
    assert revision is not None
    return revision[2]


def test_a_write_moves_the_revision_on_and_a_read_does_not(gatehouse: Gatehouse) -> None:
    before = number(gatehouse)
    with gatehouse.session() as session:
        session.exec(select(User)).all()
    assert number(gatehouse) == before
    with gatehouse.session() as session:
        alice = session.exec(select(User).where(User.username == "alice")).one()
        alice.display_name = "Alice Changed"
    assert number(gatehouse) == before + 1
    with gatehouse.session() as session:  # a bulk statement, no object loaded
        session.exec(update(DataSource).where(col(DataSource.name) == "alpha-pricing-models").values(description="x"))
    assert number(gatehouse) == before + 2
    with gatehouse.session() as session:
        session.add(Notification(user_id=alice.id, kind="test", subject="s", body="b"))
    assert number(gatehouse) == before + 3


def test_a_write_rolled_back_leaves_the_revision(gatehouse: Gatehouse) -> None:
    before = number(gatehouse)
    with pytest.raises(RuntimeError), gatehouse.session() as session:
        alice = session.exec(select(User).where(User.username == "alice")).one()
        alice.display_name = "Never Saved"
        session.flush()
        raise RuntimeError("the use case failed")
    assert number(gatehouse) == before


def test_each_commit_of_a_long_use_case_moves_it_on(gatehouse: Gatehouse) -> None:
    before = number(gatehouse)
    with gatehouse.session() as session:
        alice = session.exec(select(User).where(User.username == "alice")).one()
        alice.display_name = "Step One"
        session.commit()  # a decision recorded before AWS is called, say
        assert number(gatehouse) == before + 1
        alice.display_name = "Step Two"
    assert number(gatehouse) == before + 2


def test_another_process_sees_the_revision_move(gatehouse: Gatehouse) -> None:
    """A second engine on the same database stands for a second Gatehouse process."""
    other = make_engine(gatehouse.settings.db_url)
    try:
        seen = current_revision(other)
        with Session(gatehouse.engine) as session:  # any ORM session counts, not only the use cases'
            alice = session.exec(select(User).where(User.username == "alice")).one()
            alice.display_name = "Seen Elsewhere"
            session.commit()
        after = current_revision(other)
        assert seen is not None and after == (seen[0], seen[1] + 1, seen[2] + 1)
    finally:
        other.dispose()


def test_a_savepoint_rolled_back_does_not_hide_the_writes_before_it(gatehouse: Gatehouse) -> None:
    before = number(gatehouse)
    with gatehouse.session() as session:
        alice = session.exec(select(User).where(User.username == "alice")).one()
        alice.display_name = "Kept"
        session.flush()
        savepoint = session.begin_nested()
        alice.display_name = "Dropped"
        session.flush()
        savepoint.rollback()
    assert number(gatehouse) == before + 1
    with gatehouse.session() as session:
        assert session.exec(select(User.display_name).where(User.username == "alice")).one() == "Kept"


def test_a_write_in_plain_sql_moves_it_on_and_a_select_does_not(gatehouse: Gatehouse) -> None:
    before = number(gatehouse)
    with gatehouse.session() as session:
        session.execute(text("SELECT COUNT(*) FROM users"))
    assert number(gatehouse) == before
    with gatehouse.session() as session:
        session.execute(text("UPDATE users SET display_name = 'By Hand' WHERE username = 'alice'"))
    assert number(gatehouse) == before + 1


def test_a_sign_in_moves_only_the_trail(gatehouse: Gatehouse) -> None:
    before, trail_before = number(gatehouse), trail(gatehouse)
    with gatehouse.session() as session:
        auth.record_sign_in(session, "alice")  # an audit event and alice's last sign-in
    assert (number(gatehouse), trail(gatehouse)) == (before, trail_before + 1)
    with gatehouse.session() as session:  # failed sign-ins until the throttle holds bob back, on record
        for _ in range(2):
            auth.password_sign_in(session, Settings(max_failed_sign_ins=1), "10.0.0.9", "bob", "wrong")
    assert (number(gatehouse), trail(gatehouse)) == (before, trail_before + 2)
    with gatehouse.session() as session:  # what a page shows and the trail together: both move
        alice = session.exec(select(User).where(User.username == "alice")).one()
        alice.display_name = "Alice Renamed"
        record(session, "alice", "renamed", "alice renamed herself", subject="alice")
    assert (number(gatehouse), trail(gatehouse)) == (before + 1, trail_before + 3)
    with gatehouse.session() as session:  # an audit event by a bulk statement, no object
        session.exec(insert(AuditEvent).values(actor="system", action="bulk", summary="one by statement", details={}))
    assert (number(gatehouse), trail(gatehouse)) == (before + 1, trail_before + 4)


def test_bookkeeping_with_another_change_to_the_same_user_moves_both(gatehouse: Gatehouse) -> None:
    before, trail_before = number(gatehouse), trail(gatehouse)
    with gatehouse.session() as session:
        auth.record_sign_in(session, "alice")
        session.flush()  # the bookkeeping is flushed first, the change that pages show after it
        alice = session.exec(select(User).where(User.username == "alice")).one()
        alice.email = "alice.new@example.org"
    assert (number(gatehouse), trail(gatehouse)) == (before + 1, trail_before + 1)


def test_a_revision_read_survives_the_server_dropping_its_connection(gatehouse: Gatehouse) -> None:
    """Every rerun reads the revision without a ping first: a connection the server has dropped (a restart, an idle
    timeout, a failover) is found by the read, which is made again on a fresh one; the page never sees it."""
    if gatehouse.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    before = number(gatehouse)
    with gatehouse.session() as session:
        mine = session.exec(select(User.id)).first()  # this session's own backend is left alone
        assert mine is not None
        dropped = session.connection().execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        assert any(row[0] for row in dropped), "the revision's connection was open, and is dropped now"
    assert number(gatehouse) == before  # read again on a fresh connection
    with gatehouse.session() as session:
        alice = session.exec(select(User).where(User.username == "alice")).one()
        alice.display_name = "Alice After The Drop"
    assert number(gatehouse) == before + 1
