"""Every rule that is checked on what was read and then written, raced on PostgreSQL (issue #24): real sessions in
threads released together by a barrier, through one engine's pool as the app's processes run them. Each race
leaves exactly what the rule allows (one grant, one admin kept, one open request, one decision, one member, one
source, no more sources than the quota), the loser reads one sentence, and IAM follows the winner: reconcile finds
no drift and no role is left pending.

The helpers are tests/integration/racing.py's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from itertools import combinations
from pathlib import Path

import pytest
from sqlmodel import col, select

from core import actions
from core.actor import platform_operator
from core.adapters.models import AccessRequest, App, AuditEvent, DataSource, Grant, RoleSync, User, utcnow
from core.adapters.review_models import ReviewItem
from core.adapters.sign_in_models import JoinRequest
from core.context import Gatehouse
from core.domain import AccessLevel, SourceKind, SyncState, path_covers
from core.policy import BucketGrant, compile_role_policies
from core.queries import open_request
from core.rules.reviews import ReviewDecision
from tests.integration.racing import NEED, assert_one_sentence, at_once, count, on_postgres, user

pytestmark = pytest.mark.postgres

PRICING = "alpha-pricing-models"  # bob: its only admin; alice: no access
RO, RW, ADMIN = AccessLevel.READ_ONLY, AccessLevel.READ_WRITE, AccessLevel.ADMIN
ROUNDS = 3
FRANK = {  # an identity at the provider, no member yet
    "iss": "https://idp.example.org",
    "sub": "frank-0001",
    "preferred_username": "frank",
    "email": "frank@example.org",
}


@pytest.fixture
def gatehouse(postgres_url: str, moto_reset: str, tmp_path: Path) -> Iterator[Gatehouse]:
    yield from on_postgres(postgres_url, moto_reset, tmp_path)


def iam_follows_the_database(gatehouse: Gatehouse) -> None:
    """Every role written as the database says now: nothing pending, and reconcile's dry run finds no drift."""
    with gatehouse.session() as session:
        pending = session.exec(select(RoleSync.role_name).where(RoleSync.state != SyncState.APPLIED)).all()
    assert pending == []
    assert actions.find_drift(gatehouse, user(gatehouse, "dave")) == []


def grants_of(gatehouse: Gatehouse, name: str, source: str) -> list[tuple[AccessLevel, tuple[str, ...]]]:
    with gatehouse.session() as session:
        rows = session.exec(
            select(Grant.level, Grant.paths)
            .join(User, col(User.id) == Grant.user_id)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(User.username == name, DataSource.name == source)
        ).all()
    return sorted((AccessLevel(level), tuple(paths)) for level, paths in rows)


def losers(outcomes: list[BaseException | None]) -> list[BaseException]:
    errors = [error for error in outcomes if error is not None]
    for error in errors:
        assert_one_sentence(error)
    return errors


def test_twelve_grants_of_one_person_on_one_source_at_once_leave_one_grant(gatehouse: Gatehouse) -> None:
    bob = user(gatehouse, "bob")
    outcomes = at_once([partial(actions.grant_access, gatehouse, bob, PRICING, ["alice"], RO) for _ in range(12)])

    assert losers(outcomes) == []  # each grant replaces the same grant placed a moment before
    assert grants_of(gatehouse, "alice", PRICING) == [(RO, ())]
    assert count(gatehouse, AuditEvent, AuditEvent.action.in_(["access-granted", "access-changed"])) >= 12
    iam_follows_the_database(gatehouse)


def test_grants_of_overlapping_paths_at_once_never_leave_paths_that_overlap(gatehouse: Gatehouse) -> None:
    bob = user(gatehouse, "bob")
    asked = [(RO, "/reports"), (RW, "/reports/2026"), (RO, None), (RW, "/reports"), (RO, "/reports/2026/q1")] * 2
    outcomes = at_once(
        [partial(actions.grant_access, gatehouse, bob, PRICING, ["alice"], level, paths) for level, paths in asked]
    )

    losers(outcomes)
    held = grants_of(gatehouse, "alice", PRICING)
    assert held, outcomes
    places = [path for _, paths in held for path in (paths or ("",))]
    for one, other in combinations(places, 2):
        assert not (path_covers(one, other) or path_covers(other, one)), held
    iam_follows_the_database(gatehouse)


def test_two_admins_revoking_each_other_at_once_leave_the_source_one_admin(gatehouse: Gatehouse) -> None:
    for round_ in range(ROUNDS):
        admin = "bob" if grants_of(gatehouse, "bob", PRICING) == [(ADMIN, ())] else "carol"
        other = "carol" if admin == "bob" else "bob"
        actions.grant_access(gatehouse, user(gatehouse, admin), PRICING, [other], ADMIN)
        bob, carol = user(gatehouse, "bob"), user(gatehouse, "carol")

        outcomes = at_once(
            [
                partial(actions.revoke_access, gatehouse, bob, PRICING, "carol"),
                partial(actions.revoke_access, gatehouse, carol, PRICING, "bob"),
            ]
        )

        assert len(losers(outcomes)) == 1, f"round {round_}: {outcomes}"
        kept = [name for name in ("bob", "carol") if grants_of(gatehouse, name, PRICING) == [(ADMIN, ())]]
        assert len(kept) == 1, f"round {round_}: {kept}"
        iam_follows_the_database(gatehouse)


def test_asking_twice_at_once_for_one_source_stores_one_open_request(gatehouse: Gatehouse) -> None:
    dave = user(gatehouse, "dave")
    for round_ in range(ROUNDS):
        name = f"asker-{round_}"
        actions.add_user(gatehouse, dave, name, f"{name}@example.org", line_manager="carol")
        asker = user(gatehouse, name)
        ask = partial(actions.request_access, gatehouse, asker, PRICING, RO, None, NEED)

        outcomes = at_once([ask, ask, ask])

        [*refused] = losers(outcomes)
        assert len(refused) == 2 and all("already asked" in str(e) for e in refused), outcomes
        assert count(gatehouse, AccessRequest, AccessRequest.requester_id == asker.id, open_request()) == 1
        assert count(gatehouse, AuditEvent, AuditEvent.action == "request-made", AuditEvent.subject == name) == 1


def test_a_request_approved_by_two_admins_at_once_grants_once(gatehouse: Gatehouse) -> None:
    bob = user(gatehouse, "bob")
    actions.grant_access(gatehouse, bob, PRICING, ["carol"], ADMIN)
    carol, alice = user(gatehouse, "carol"), user(gatehouse, "alice")
    asked = actions.request_access(gatehouse, alice, PRICING, RW, "/models", NEED)

    outcomes = at_once(
        [
            partial(actions.approve_request, gatehouse, bob, asked.id),
            partial(actions.approve_request, gatehouse, carol, asked.id, RO),
        ]
    )

    assert len(losers(outcomes)) == 1, outcomes
    assert grants_of(gatehouse, "alice", PRICING) in ([(RW, ("/models",))], [(RO, ("/models",))])
    assert count(gatehouse, AuditEvent, AuditEvent.action == "request-approved") == 1
    iam_follows_the_database(gatehouse)


def test_a_review_item_decided_by_two_reviewers_at_once_is_decided_once(gatehouse: Gatehouse) -> None:
    bob, dave = user(gatehouse, "bob"), user(gatehouse, "dave")
    actions.grant_access(gatehouse, bob, PRICING, ["carol"], ADMIN)
    actions.grant_access(gatehouse, bob, PRICING, ["alice"], RW, "/models")
    carol = user(gatehouse, "carol")
    actions.start_review(gatehouse, dave, utcnow().date() + timedelta(days=14), [PRICING])
    with gatehouse.session() as session:
        item = session.exec(
            select(ReviewItem.id).join(User, col(User.id) == ReviewItem.user_id).where(User.username == "alice")
        ).one()

    outcomes = at_once(
        [
            partial(actions.review_grant, gatehouse, bob, item, ReviewDecision.REVOKE, reason="The project ended."),
            partial(actions.review_grant, gatehouse, carol, item, ReviewDecision.CHANGE, RO, "/models"),
        ]
    )

    assert len(losers(outcomes)) == 1, outcomes
    with gatehouse.session() as session:
        decided = session.get(ReviewItem, item)
        assert decided is not None
        decision = ReviewDecision(decided.decision)
    assert decision in (ReviewDecision.REVOKE, ReviewDecision.CHANGE)
    assert grants_of(gatehouse, "alice", PRICING) == ([] if decision is ReviewDecision.REVOKE else [(RO, ("/models",))])
    assert count(gatehouse, AuditEvent, col(AuditEvent.action).in_(["review-revoke", "review-change"])) == 1
    assert count(gatehouse, AuditEvent, AuditEvent.action == "access-revoked", AuditEvent.subject == "alice") == (
        1 if decision is ReviewDecision.REVOKE else 0
    )
    iam_follows_the_database(gatehouse)


def test_asking_to_join_twice_at_once_stores_one_open_request(gatehouse: Gatehouse) -> None:
    claims = FRANK

    outcomes = at_once([partial(actions.ask_to_join, gatehouse, claims) for _ in range(4)])

    assert outcomes == [None] * 4
    assert count(gatehouse, JoinRequest, JoinRequest.identity == "frank", col(JoinRequest.closed_at).is_(None)) == 1
    assert count(gatehouse, AuditEvent, AuditEvent.action == "join-requested") == 1


def test_a_request_to_join_accepted_twice_at_once_adds_one_member(gatehouse: Gatehouse) -> None:
    actions.ask_to_join(gatehouse, FRANK)
    dave, operator = user(gatehouse, "dave"), platform_operator("ops")

    outcomes = at_once(
        [
            partial(actions.add_user, gatehouse, dave, "frank", "frank@example.org"),
            partial(actions.add_user, gatehouse, operator, "Frank", "frank@example.org", line_manager="carol"),
        ]
    )

    [refused] = losers(outcomes)
    assert str(refused) == "There is already a platform member called frank."
    assert count(gatehouse, User, User.username == "frank") == 1
    with gatehouse.session() as session:
        closed = session.exec(select(JoinRequest.outcome, JoinRequest.member_id)).all()
    assert closed == [("added", user(gatehouse, "frank").id)]
    assert count(gatehouse, AuditEvent, AuditEvent.action == "user-added", AuditEvent.subject == "frank") == 1
    iam_follows_the_database(gatehouse)


def test_a_request_to_join_added_and_dismissed_at_once_is_closed_once(gatehouse: Gatehouse) -> None:
    actions.ask_to_join(gatehouse, FRANK)
    dave = user(gatehouse, "dave")
    with gatehouse.session() as session:
        request_id = session.exec(select(JoinRequest.id)).one()

    outcomes = at_once(
        [
            partial(actions.add_user, gatehouse, dave, "frank", "frank@example.org"),
            partial(actions.dismiss_join_request, gatehouse, platform_operator("ops"), request_id),
        ]
    )

    losers(outcomes)
    with gatehouse.session() as session:
        [(outcome, member)] = session.exec(select(JoinRequest.outcome, JoinRequest.member_id)).all()
    assert (outcome, member is None) in (("added", False), ("dismissed", True))
    closed = count(gatehouse, AuditEvent, AuditEvent.action == "join-request-dismissed")
    assert closed == (1 if outcome == "dismissed" else 0)


def test_one_name_created_twice_at_once_is_one_source(gatehouse: Gatehouse) -> None:
    alice, carol = user(gatehouse, "alice"), user(gatehouse, "carol")
    name = "alpha-race-for-a-name"

    outcomes = at_once(
        [
            partial(actions.create_source, gatehouse, alice, name),
            partial(actions.create_source, gatehouse, carol, name),
        ]
    )

    [refused] = losers(outcomes)
    assert name in str(refused)
    assert count(gatehouse, DataSource, DataSource.name == name) == 1
    admins = [who for who in ("alice", "carol") if grants_of(gatehouse, who, name) == [(ADMIN, ())]]
    assert len(admins) == 1
    assert count(gatehouse, AuditEvent, AuditEvent.action == "source-created") == 1
    iam_follows_the_database(gatehouse)


def test_a_burst_of_creations_stops_at_the_hourly_quota(gatehouse: Gatehouse) -> None:
    gatehouse.settings.max_sources_per_member = 3
    alice = user(gatehouse, "alice")

    outcomes = at_once(
        [partial(actions.create_source, gatehouse, alice, f"alpha-burst-{n}", SourceKind.WAREHOUSE) for n in range(8)]
    )

    refused = losers(outcomes)
    assert len(refused) == 5
    assert all("in the last hour" in str(error) for error in refused)
    with gatehouse.session() as session:
        made = session.exec(select(DataSource.name).where(col(DataSource.name).startswith("alpha-burst-"))).all()
    assert len(made) == 3
    iam_follows_the_database(gatehouse)


def test_archiving_while_granting_records_no_grant_after_the_archive(gatehouse: Gatehouse) -> None:
    bob, dave = user(gatehouse, "bob"), user(gatehouse, "dave")
    for round_ in range(ROUNDS):
        name = f"alpha-archive-race-{round_}"
        actions.create_source(gatehouse, dave, name, admin="bob")
        outcomes = at_once(
            [
                partial(actions.grant_access, gatehouse, bob, name, ["alice"], RW),
                partial(actions.archive_source, gatehouse, bob, name),
            ]
        )

        for error in losers(outcomes):
            assert "archived" in str(error)
        with gatehouse.session() as session:
            order = session.exec(
                select(AuditEvent.action)
                .join(DataSource, col(DataSource.id) == AuditEvent.source_id)
                .where(DataSource.name == name, AuditEvent.action != "source-created")
                .order_by(col(AuditEvent.id))
            ).all()
        assert order in (["source-archived"], ["access-granted", "source-archived"]), f"round {round_}: {order}"
        iam_follows_the_database(gatehouse)  # alice's role has no statement on the archived source


def test_an_end_date_moved_while_expiry_runs_either_extends_the_grant_or_ends_it(gatehouse: Gatehouse) -> None:
    bob = user(gatehouse, "bob")
    for round_ in range(ROUNDS):
        actions.grant_access(gatehouse, bob, PRICING, ["alice"], RO, None, utcnow().date() + timedelta(days=3))
        with gatehouse.session() as session:
            grant = session.exec(
                select(Grant)
                .join(DataSource, col(DataSource.id) == Grant.source_id)
                .where(Grant.user_id == user(gatehouse, "alice").id, DataSource.name == PRICING)
            ).one()
            grant.expires_on = utcnow().date() - timedelta(days=1)  # its end date passed while nobody ran expire
            session.add(grant)
        later = utcnow().date() + timedelta(days=30)
        expired = (AuditEvent.action == "access-expired", AuditEvent.subject == "alice")
        before = count(gatehouse, AuditEvent, *expired)  # this round's alone: an earlier round's change may have won

        outcomes = at_once(
            [
                partial(actions.change_access, gatehouse, bob, PRICING, "alice", grant.id or 0, RO, None, later),
                partial(actions.expire, gatehouse),
            ]
        )

        refused = losers(outcomes)
        held = grants_of(gatehouse, "alice", PRICING)
        ended = count(gatehouse, AuditEvent, *expired) - before
        assert (held, ended, len(refused)) in (([(RO, ())], 0, 0), ([], 1, 1)), f"round {round_}"
        iam_follows_the_database(gatehouse)


def test_webapp_sources_for_one_new_app_at_once_make_the_app_once(gatehouse: Gatehouse) -> None:
    dave = user(gatehouse, "dave")
    for round_ in range(ROUNDS):
        app = f"new-app-{round_}"
        create = partial(actions.create_source, gatehouse, dave, kind=SourceKind.WEBAPP, app_name=app)

        outcomes = at_once([partial(create, f"alpha-{app}-data-{n}") for n in range(4)])

        assert outcomes == [None] * 4, f"round {round_}"
        assert count(gatehouse, App, App.name == app) == 1
        iam_follows_the_database(gatehouse)


def test_a_leaver_marked_while_an_admin_grants_them_access_holds_no_grant_made_after_leaving(
    gatehouse: Gatehouse,
) -> None:
    """The grant and the departure take their turns on the person: either the grant is refused (they have left), or
    it was made before they left and ended with everything else they held. Never a grant recorded after leaving."""
    bob, dave = user(gatehouse, "bob"), user(gatehouse, "dave")
    for round_ in range(ROUNDS):
        name = f"leaver{round_}"
        actions.add_user(gatehouse, dave, name, f"{name}@example.org")
        outcomes = at_once(
            [
                partial(actions.grant_access, gatehouse, bob, PRICING, [name], RO),
                partial(actions.mark_left, gatehouse, dave, name),
            ]
        )
        losers(outcomes)
        with gatehouse.session() as session:
            leaver = session.exec(select(User).where(User.username == name)).one()
            made = session.exec(select(Grant.created_at).where(Grant.user_id == leaver.id)).all()
        assert leaver.left_at is not None, outcomes
        assert all(at <= leaver.left_at for at in made), (made, leaver.left_at)
    iam_follows_the_database(gatehouse)


def test_two_imports_of_iam_at_once_adopt_each_grant_and_each_bucket_once(gatehouse: Gatehouse) -> None:
    """Two `import-iam` runs at once: each old role's access is adopted once, each unknown bucket becomes one source,
    and neither run fails or waits for ever on the other."""
    dave = user(gatehouse, "dave")
    for round in range(ROUNDS):
        old = {f"alpha-old-{round}-one": ("/a",), f"alpha-old-{round}-two": ()}
        people = [f"grace{round}", f"heidi{round}"]
        for name in people:
            actions.add_user(gatehouse, dave, name, f"{name}@example.org")
            documents = compile_role_policies(
                [BucketGrant(bucket, RO, paths) for bucket, paths in sorted(old.items(), reverse="heidi" in name)]
            ).documents
            gatehouse.aws.iam.put_role_policy(
                RoleName=f"alpha_user_{name}", PolicyName="s3-access", PolicyDocument=json.dumps(documents[0])
            )
        outcomes = at_once([partial(actions.import_roles, gatehouse, dave) for _ in range(2)])
        assert outcomes == [None, None]
        for bucket, paths in old.items():
            assert count(gatehouse, DataSource, DataSource.name == bucket) == 1
            for name in people:
                assert grants_of(gatehouse, name, bucket) == [(RO, paths)]
    iam_follows_the_database(gatehouse)
