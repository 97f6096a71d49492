"""Team rules that are checked on what was read and then written, raced on PostgreSQL (issue #28): the last named
admin of a source leaving while they make a team its admin. The two take their turns on the source: either the team
is made admin first and the source is not orphaned when they leave, or they leave first (the source orphaned, its
requests sent on) and the grant is refused in one sentence. Never a team admin of a source said to be orphaned, nor
an orphan nobody was told of. The helpers are tests/integration/racing.py's."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlmodel import col, select

from core import actions
from core.actions.provision_team import create_team, delete_team
from core.adapters.models import AccessRequest, Grant
from core.context import Gatehouse
from core.domain import AccessLevel, RequestStatus
from core.queries import admins_of, get_source
from tests.integration.racing import NEED, assert_one_sentence, at_once, on_postgres, user

pytestmark = pytest.mark.postgres

PRICING = "alpha-pricing-models"  # bob: its only named admin
ROUNDS = 4


@pytest.fixture
def gatehouse(postgres_url: str, moto_reset: str, tmp_path: Path) -> Iterator[Gatehouse]:
    yield from on_postgres(postgres_url, moto_reset, tmp_path)


def test_the_last_named_admin_leaving_while_making_a_team_admin_never_leaves_a_false_orphan(
    gatehouse: Gatehouse,
) -> None:
    dave = user(gatehouse, "dave")
    create_team(gatehouse, dave, "prisons", [user(gatehouse, "alice").id or 0])
    named = "bob"
    for round_ in range(ROUNDS):
        # before the round: `named` is the source's only admin, the team holds nothing, carol's request waits for them
        carol = user(gatehouse, "carol")
        asked = actions.request_access(gatehouse, carol, PRICING, AccessLevel.READ_ONLY, None, NEED)
        assert asked.status is RequestStatus.PENDING_ADMIN
        admin = user(gatehouse, named)
        outcomes = at_once(
            [
                partial(actions.grant_team_access, gatehouse, admin, PRICING, "prisons", AccessLevel.ADMIN),
                partial(actions.mark_left, gatehouse, dave, named),
            ]
        )
        granted, left = outcomes
        assert left is None, f"round {round_}: {outcomes}"  # the platform team's leaver is always marked
        with gatehouse.session() as session:
            source = get_source(session, dave, PRICING)
            team_admin = session.exec(select(Grant).where(col(Grant.team_id).is_not(None))).first() is not None
            request = session.get(AccessRequest, asked.id)
            assert request is not None
            if granted is None:
                assert team_admin and admins_of(session, source) == ["alice"], f"round {round_}"
                assert request.status is RequestStatus.PENDING_ADMIN, "the team's members decide it"
            else:
                assert_one_sentence(granted)
                assert not team_admin and admins_of(session, source) == [], f"round {round_}"
                assert request.status is not RequestStatus.PENDING_ADMIN, "an orphan's request goes on"
        # the next round: a new named admin, the only one again
        named = f"admin{round_}"
        actions.add_user(gatehouse, dave, named, f"{named}@example.org")
        actions.grant_access(gatehouse, dave, PRICING, [named], AccessLevel.ADMIN)
        if team_admin:
            actions.revoke_team_access(gatehouse, dave, PRICING, "prisons")
        actions.withdraw_request(gatehouse, carol, asked.id)


def test_a_team_deleted_while_it_is_granted_access_leaves_no_grant_and_no_raw_error(gatehouse: Gatehouse) -> None:
    dave, bob = user(gatehouse, "dave"), user(gatehouse, "bob")
    alice = user(gatehouse, "alice").id or 0
    for round_ in range(ROUNDS):
        team = create_team(gatehouse, dave, f"prisons{round_}", [alice])
        actions.grant_team_access(gatehouse, bob, "alpha-sales-analysis", team.name, AccessLevel.READ_ONLY)
        outcomes = at_once(
            [
                partial(actions.grant_team_access, gatehouse, bob, PRICING, team.name, AccessLevel.READ_ONLY),
                partial(delete_team, gatehouse, dave, team.id),
            ]
        )
        granted, deleted = outcomes
        assert deleted is None, f"round {round_}: {outcomes}"
        if granted is not None:
            assert_one_sentence(granted)
        with gatehouse.session() as session:
            assert session.exec(select(Grant).where(col(Grant.team_id).is_not(None))).all() == [], f"round {round_}"
