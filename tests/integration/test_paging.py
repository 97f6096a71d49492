"""Lists that grow with the platform are searched and paged in the database, on SQLite and PostgreSQL: what a heavy
user or a heavy admin sees page by page is the whole list, once, in a stable order."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core import actions, queries
from core.adapters.models import DataSource, Grant, User
from core.context import Gatehouse
from core.domain import AccessLevel, NotAllowed, NotFound
from core.queries import get_user
from core.reads import catalog

pytestmark = pytest.mark.both_databases  # searching and paging are SQL that each database plans itself


def add_sources(gatehouse: Gatehouse, holder: str, count: int) -> None:
    with gatehouse.session() as session:
        user = get_user(session, holder)
        for n in range(count):
            source = DataSource(name=f"alpha-heavy-{n:02d}", kind="warehouse", region="eu-west-1")
            session.add(source)
            session.flush()
            session.add(Grant(source_id=source.id, user_id=user.id, level=AccessLevel.READ_ONLY, paths=[]))


def test_a_heavy_users_sources_come_page_by_page_and_by_search(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        before = catalog.usable_page(session, get_user(session, "alice"), limit=None).total
    add_sources(gatehouse, "alice", 30)
    with gatehouse.session() as session:
        alice = get_user(session, "alice")
        pages = [catalog.usable_page(session, alice, offset=o, limit=10) for o in range(0, 40, 10)]
        found = catalog.usable_page(session, alice, search="HEAVY-1", limit=10)
    assert {p.total for p in pages} == {before + 30}
    names = [s.name for p in pages for s in p.items]
    assert len(names) == len(set(names)) == before + 30  # every source once, none twice
    assert [s.name for s in found.items] == [f"alpha-heavy-1{n}" for n in range(10)] and found.total == 10


def test_an_access_list_pages_admins_first_and_finds_by_name(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        bob = get_user(session, "bob")
        source = session.exec(select(DataSource).where(DataSource.name == "alpha-pricing-models")).one()
        for n in range(23):
            user = User(username=f"reader-{n:02d}", email=f"reader{n}@example.org")
            session.add(user)
            session.flush()
            session.add(Grant(source_id=source.id, user_id=user.id, level=AccessLevel.READ_ONLY, paths=["/reports"]))
    with gatehouse.session() as session:
        first = catalog.access_list(session, bob, source, offset=0, limit=10)
        rest = [catalog.access_list(session, bob, source, offset=o, limit=10) for o in (10, 20)]
        found = catalog.access_list(session, bob, source, search="reader-1", limit=10)
    assert first.items[0].principal == "bob" and first.items[0].level is AccessLevel.ADMIN
    everyone = [e.principal for page in (first, *rest) for e in page.items]
    assert len(everyone) == len(set(everyone)) == first.total
    readers = [p for p in everyone if p.startswith("reader-")]
    assert readers == sorted(readers) and len(readers) == 23
    assert found.total == 10 and all(e.principal.startswith("reader-1") for e in found.items)


def test_someone_who_does_not_manage_a_source_cannot_page_its_access_list(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        alice = get_user(session, "alice")
        source = session.exec(select(DataSource).where(DataSource.name == "alpha-pricing-models")).one()
        with pytest.raises(NotAllowed):
            catalog.access_list(session, alice, source, search="bob", limit=10)


def test_an_admin_the_platform_team_made_for_a_hidden_source_manages_it_by_name(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        dave = get_user(session, "dave")
    actions.grant_access(gatehouse, dave, "alpha-de-raw-intake", ["bob"], AccessLevel.ADMIN)
    with gatehouse.session() as session:
        bob, alice = get_user(session, "bob"), get_user(session, "alice")
        assert "alpha-de-raw-intake" in catalog.administered_source_names(session, bob).items
        holders = {e.principal for e in catalog.access_list(session, bob, "alpha-de-raw-intake").items}
        assert holders == {"bob", "dave"}
        with pytest.raises(NotFound, match="no data source called alpha-de-raw-intake"):
            queries.get_source(session, alice, "alpha-de-raw-intake")  # still hidden from everyone else
    actions.grant_access(gatehouse, bob, "alpha-de-raw-intake", ["alice"], AccessLevel.READ_ONLY)
    actions.revoke_access(gatehouse, bob, "alpha-de-raw-intake", "alice")
