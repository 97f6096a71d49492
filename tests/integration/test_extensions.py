"""Asking to extend access that ends (issue #29): a request for the same grant with a new end date and why, routed as
any request; approved, the grant's end date moves in place and keeps its history. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from core import actions
from core.actions.extend_access import grant_extension
from core.adapters.models import AccessRequest, AuditEvent, DataSource, Grant, Notification, RequestStatus, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, Classification, InvalidFields, InvalidInput, NotFound
from core.queries import get_user
from core.reads.extensions import ending_grants

pytestmark = pytest.mark.both_databases  # the open-request index, dates compared in queries

SALES = "alpha-sales-analysis"  # alice: read only on /published; bob: admin
NEED = "The pricing review runs on until the summer, with the same extracts."


def alices_grant(gatehouse: Gatehouse, ends_in_days: int | None) -> int:
    with gatehouse.session() as session:
        alice = get_user(session, "alice")
        grant = session.exec(
            select(Grant)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(Grant.user_id == alice.id, DataSource.name == SALES)
        ).one()
        grant.expires_on = None if ends_in_days is None else utcnow().date() + timedelta(days=ends_in_days)
        session.add(grant)
        return grant.id or 0


def grant_source(session) -> int:  # type: ignore[no-untyped-def]
    return session.exec(select(DataSource.id).where(DataSource.name == SALES)).one()


def test_alice_asks_to_extend_and_the_approval_moves_her_grants_end(gatehouse: Gatehouse) -> None:
    grant_id = alices_grant(gatehouse, 5)
    with gatehouse.session() as session:
        alice, bob, carol = (get_user(session, n) for n in ("alice", "bob", "carol"))
        [ending] = [e for e in ending_grants(session, alice) if e.source == SALES]
    assert (ending.grant_id, ending.asked) == (grant_id, False)
    today = utcnow().date()
    with pytest.raises(InvalidFields) as refused:
        actions.ask_to_extend(gatehouse, alice, grant_id, today + timedelta(days=3), "more")
    assert set(refused.value.problems) == {"until", "need"}
    assert "already lasts until" in refused.value.problems["until"]
    with pytest.raises(NotFound):
        actions.ask_to_extend(gatehouse, carol, grant_id, today + timedelta(days=90), NEED)

    until = today + timedelta(days=90)
    asked = actions.ask_to_extend(gatehouse, alice, grant_id, until, NEED)
    assert asked.status is RequestStatus.PENDING_ADMIN
    with gatehouse.session() as session:
        request = session.get(AccessRequest, asked.id)
        assert request is not None and request.extends_grant_id == grant_id
        grant = session.get(Grant, grant_id)
        assert grant is not None
        assert (request.level, request.paths, request.expires_on) == (grant.level, grant.paths, until)
        told = session.exec(select(Notification).where(Notification.user_id == bob.id)).all()
        assert any("asks to extend" in n.subject and n.request_id == asked.id for n in told)
        assert [e.asked for e in ending_grants(session, alice) if e.source == SALES] == [True]
    with pytest.raises(InvalidInput, match="You already asked for access to alpha-sales-analysis"):
        actions.ask_to_extend(gatehouse, alice, grant_id, until, NEED)

    with pytest.raises(InvalidInput, match="An extension moves the end date only"):  # nothing but the end date
        actions.approve_request(gatehouse, bob, asked.id, level=AccessLevel.READ_ONLY, paths="/published/2025")
    actions.approve_request(gatehouse, bob, asked.id)
    with gatehouse.session() as session:
        held = session.exec(select(Grant).where(Grant.user_id == alice.id, Grant.source_id == grant_source(session)))
        assert [g.id for g in held] == [grant_id]  # no new grant beside it: the same one, its end moved
        assert session.get(AccessRequest, asked.id).status is RequestStatus.APPROVED  # type: ignore[union-attr]
        grant = session.get(Grant, grant_id)
        assert grant is not None and grant.expires_on == until  # the same grant, a new end date
        changed = session.exec(select(AuditEvent).where(AuditEvent.action == "access-changed")).all()
    assert changed[-1].details["after"]["expires_on"] == str(until)
    assert changed[-1].details["before"]["expires_on"] == str(today + timedelta(days=5))


def test_what_cannot_be_extended(gatehouse: Gatehouse) -> None:
    grant_id = alices_grant(gatehouse, None)
    with gatehouse.session() as session:
        alice = get_user(session, "alice")
        carol_id = get_user(session, "carol").id
    today = utcnow().date()
    with pytest.raises(InvalidFields, match="does not end: there is nothing to extend"):
        actions.ask_to_extend(gatehouse, alice, grant_id, today + timedelta(days=30), NEED)

    alices_grant(gatehouse, 5)
    with gatehouse.session() as session:
        session.exec(
            update(DataSource)
            .where(col(DataSource.name) == SALES)
            .values(classification=Classification.PERSONAL, iao_id=carol_id)
        )
    with pytest.raises(InvalidFields, match="ends at most 365 days away"):
        actions.ask_to_extend(gatehouse, alice, grant_id, today + timedelta(days=400), NEED)
    asked = actions.ask_to_extend(gatehouse, alice, grant_id, today + timedelta(days=200), NEED)
    # personal data: the admin's approval sends the extension to carol, the information asset owner; hers moves it
    with gatehouse.session() as session:
        bob = get_user(session, "bob")
    assert actions.approve_request(gatehouse, bob, asked.id).next_step
    with gatehouse.session() as session:
        assert session.get(Grant, grant_id).expires_on == today + timedelta(days=5)  # type: ignore[union-attr]
        carol = get_user(session, "carol")
    actions.approve_request(gatehouse, carol, asked.id, expires_on=today + timedelta(days=150))
    with gatehouse.session() as session:
        assert session.get(Grant, grant_id).expires_on == today + timedelta(days=150)  # type: ignore[union-attr]
    asked = actions.ask_to_extend(gatehouse, alice, grant_id, today + timedelta(days=200), NEED)

    with gatehouse.session() as session:  # the grant ended before the approval: one sentence, nothing changed
        session.exec(update(Grant).where(col(Grant.id) == grant_id).values(expires_on=today - timedelta(days=1)))
        session.delete(session.get(Grant, grant_id))
    with gatehouse.session() as session:
        request = session.get(AccessRequest, asked.id)
        source = session.exec(select(DataSource).where(DataSource.name == SALES)).one()
        bob = get_user(session, "bob")
        assert request is not None
        with pytest.raises(InvalidInput, match="has ended since: alpha-sales-analysis needs a new request"):
            grant_extension(session, gatehouse, bob, source, request, today + timedelta(days=200))
