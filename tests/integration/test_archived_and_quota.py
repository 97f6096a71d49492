"""On an archived source nothing changes but revoking (rules.check_access_may_change, one check used by every action
that would give or alter access there), and a member creates at most GATEHOUSE_MAX_SOURCES_PER_MEMBER sources an
hour; on SQLite and PostgreSQL, against moto's IAM."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from core import actions
from core.adapters.models import AccessRequest, AuditEvent, DataSource, Grant, User, utcnow
from core.adapters.review_models import ReviewItem
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, NotAllowed, RequestStatus
from core.queries import get_user
from core.rules.reviews import ReviewDecision
from tests.aws_helpers import as_user

SALES = "alpha-sales-analysis"  # bob: admin; alice: read only on /published
RO, RW = AccessLevel.READ_ONLY, AccessLevel.READ_WRITE
NEED = "Quarterly pricing review for the finance committee needs these reports."
ARCHIVED = f"{SALES} is archived: its access can only be revoked now, not granted or changed."


def member(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def trail(gatehouse: Gatehouse) -> int:
    with gatehouse.session() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def grants(gatehouse: Gatehouse, name: str) -> list[tuple[str, list[str]]]:
    with gatehouse.session() as session:
        rows = session.exec(
            select(Grant.level, Grant.paths)
            .join(User, col(User.id) == Grant.user_id)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(User.username == name, DataSource.name == SALES)
        ).all()
    return sorted((AccessLevel(level).value, list(paths)) for level, paths in rows)


def test_an_archived_source_refuses_every_change_of_access_but_revoking(gatehouse: Gatehouse) -> None:
    bob, dave, alice = member(gatehouse, "bob"), member(gatehouse, "dave"), member(gatehouse, "alice")
    actions.grant_access(gatehouse, bob, SALES, ["carol"], RW)
    actions.grant_access(gatehouse, bob, SALES, ["alice"], RW, "/drafts")
    started = actions.start_review(gatehouse, dave, utcnow().date() + timedelta(days=14), [SALES])
    waiting = (
        actions.request_access(gatehouse, member(gatehouse, "erin-less"), SALES, RO, None, NEED) if False else None
    )
    assert waiting is None
    with gatehouse.session() as session:
        carols = session.exec(
            select(Grant.id)
            .join(User, col(User.id) == Grant.user_id)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(User.username == "carol", DataSource.name == SALES)
        ).one()
        item = session.exec(
            select(ReviewItem.id)
            .join(User, col(User.id) == ReviewItem.user_id)
            .where(ReviewItem.campaign_id == started.campaign_id, User.username == "carol")
        ).one()
    actions.archive_source(gatehouse, bob, SALES)
    before, carol_held = trail(gatehouse), grants(gatehouse, "carol")

    refused = [
        lambda: actions.grant_access(gatehouse, bob, SALES, ["dave"], RO),
        lambda: actions.grant_access(gatehouse, dave, SALES, ["alice"], RW, "/published"),
        lambda: actions.change_access(gatehouse, bob, SALES, "carol", carols, AccessLevel.ADMIN),
        lambda: actions.change_access(gatehouse, dave, SALES, "carol", carols, RO, "/reports"),
        lambda: actions.request_access(gatehouse, dave, SALES, RO, None, NEED),
        lambda: actions.review_grant(gatehouse, bob, item, ReviewDecision.CHANGE, RO),
    ]
    for attempt in refused:
        with pytest.raises(InvalidInput) as error:
            attempt()
        assert str(error.value) == ARCHIVED

    assert trail(gatehouse) == before  # nothing recorded, nothing to apply
    assert grants(gatehouse, "carol") == carol_held
    with as_user(gatehouse, "carol") as role:
        assert not role.can("get", SALES, "published/sales_2025.csv")
    actions.revoke_access(gatehouse, bob, SALES, "alice", "/drafts")  # revoking still works
    assert grants(gatehouse, "alice") == [("read-only", ["/published"])]
    actions.revoke_access(gatehouse, alice, SALES, "alice")  # and giving up one's own
    assert grants(gatehouse, "alice") == []
    assert actions.review_grant(gatehouse, bob, item, ReviewDecision.REVOKE).decision is ReviewDecision.REVOKE
    assert grants(gatehouse, "carol") == []


def test_a_request_open_when_its_source_is_archived_cannot_be_approved(gatehouse: Gatehouse) -> None:
    bob, alice = member(gatehouse, "bob"), member(gatehouse, "alice")
    asked = actions.request_access(gatehouse, alice, SALES, RW, "/drafts", NEED)
    actions.archive_source(gatehouse, bob, SALES)  # refuses the open request
    with pytest.raises(NotAllowed, match="already refused"):
        actions.approve_request(gatehouse, bob, asked.id)
    with gatehouse.session() as session:
        stored = session.get(AccessRequest, asked.id)
        assert stored is not None and stored.status == RequestStatus.REFUSED
    assert grants(gatehouse, "alice") == [("read-only", ["/published"])]


def test_a_member_creates_at_most_the_hourly_quota_of_sources_and_the_platform_team_any(gatehouse: Gatehouse) -> None:
    gatehouse.settings.max_sources_per_member = 2
    alice, dave = member(gatehouse, "alice"), member(gatehouse, "dave")
    actions.create_source(gatehouse, alice, "alpha-quota-one")
    actions.create_source(gatehouse, alice, "alpha-quota-two")
    with pytest.raises(InvalidInput) as refused:
        actions.create_source(gatehouse, alice, "alpha-quota-three")
    assert str(refused.value) == (
        "You have created 2 data sources in the last hour, the most a member may: try again later, or ask the "
        "platform team."
    )
    for n in range(3):  # the platform team is not limited, nor counted against the members they create for
        actions.create_source(gatehouse, dave, f"alpha-team-{n}", admin="alice" if n == 0 else None)
    with gatehouse.session() as session:
        made = session.exec(select(DataSource.name).where(col(DataSource.name).startswith("alpha-quota-"))).all()
    assert sorted(made) == ["alpha-quota-one", "alpha-quota-two"]
