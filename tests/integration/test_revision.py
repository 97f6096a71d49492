"""The write revision (core.db): every transaction that writes moves it on, as it commits, on SQLite and PostgreSQL;
reading, or a write rolled back, leaves it. Pages key their cached reads on it, so this is what makes a decision in one
process show in every other at the next rerun."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select, update

from core.db import current_revision, make_engine
from core.models import DataSource, Notification, User
from core.startup import Gatehouse


def number(gatehouse: Gatehouse) -> int:
    revision = current_revision(gatehouse.engine)
    assert revision is not None
    return revision[1]


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
        assert seen is not None and after == (seen[0], seen[1] + 1)
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
