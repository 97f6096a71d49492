"""A leaver's grants stay on record but are shown as revoked (when they left, and who marked them so) in every read of
grants: Admin → Who has access, Platform → Users, My data, reviews and their report, and the CLI's `access list`."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from core import actions
from core.adapters.models import AccessRequest, AuditEvent, Grant, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, RequestStatus, moment
from core.notify import inbox
from core.queries import get_user
from core.reads import catalog, platform, queues, reviews
from tests.integration.test_cli import gatehouse_cli  # noqa: F401  (fixture)

SALES = "alpha-sales-analysis"  # bob: admin; alice: read only on /published


def _users(gatehouse: Gatehouse, *names: str) -> list[User]:
    with gatehouse.session() as session:
        return [get_user(session, name) for name in names]


def _leave(gatehouse: Gatehouse, who: str = "bob") -> str:
    """dave marks them as having left; returns how their grants must read from now on."""
    (dave,) = _users(gatehouse, "dave")
    actions.mark_left(gatehouse, dave, who)
    (leaver,) = _users(gatehouse, who)
    assert leaver.left_at is not None
    return f"Revoked on {moment(leaver.left_at)}: marked as having left by dave"


def test_who_has_access_shows_a_leavers_grants_as_revoked_by_whom_and_when(gatehouse: Gatehouse) -> None:
    (dave,) = _users(gatehouse, "dave")
    before = gatehouse.run(catalog.access_list, dave, "alpha-sales-analysis").items
    assert all(e.ended is None for e in before)
    assert "bob" in {e.principal for e in before}
    revoked = _leave(gatehouse)
    entries = {e.principal: e for e in gatehouse.run(catalog.access_list, dave, "alpha-sales-analysis").items}
    bob = entries["bob"]
    assert bob.ended is not None and bob.ended.sentence() == revoked
    assert bob.ended.marked_by == "dave"
    assert bob.applied  # the revocation is what AWS has taken, not the grant
    assert all(e.ended is None for name, e in entries.items() if name != "bob")
    assert gatehouse.run(catalog.usable_page, _users(gatehouse, "bob")[0]).total == 0


def test_platform_users_say_when_and_by_whom_someone_left(gatehouse: Gatehouse) -> None:
    revoked = _leave(gatehouse)
    (dave,) = _users(gatehouse, "dave")
    rows = {u.username: u for u in gatehouse.run(platform.users, dave).items}
    assert rows["bob"].ended is not None and rows["bob"].ended.sentence() == revoked
    assert rows["alice"].ended is None
    assert rows["erin"].ended is not None and rows["erin"].ended.marked_by is None  # the demo recorded no event


def test_access_list_on_the_cli_marks_each_of_a_leavers_grants_revoked(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    live = gatehouse_cli("access", "list", "--user", "bob")
    assert live.returncode == 0 and live.stdout and "Revoked" not in live.stdout
    revoked = _leave(gatehouse)
    listed = gatehouse_cli("access", "list", "--user", "bob")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    with gatehouse.session() as session:
        kept = session.exec(select(Grant).join(User, User.id == Grant.user_id).where(User.username == "bob")).all()
    assert len(lines) == len(kept) > 0  # kept on record, each one shown
    assert all(line.endswith("\t" + revoked) for line in lines)
    others = gatehouse_cli("access", "list", "--source", "alpha-sales-analysis").stdout.splitlines()
    assert [line for line in others if "\tbob\t" in line] and all(
        line.endswith(revoked) == ("\tbob\t" in line) for line in others
    )


def test_a_review_shows_a_leavers_grant_as_revoked_not_to_review_and_its_report_says_so(gatehouse: Gatehouse) -> None:
    dave, bob = _users(gatehouse, "dave", "bob")
    campaign = actions.start_review(gatehouse, dave, utcnow().date() + timedelta(days=14), [SALES]).campaign_id
    before = gatehouse.run(reviews.to_review, bob, SALES).items
    assert [r.pending for r in before if r.holder == "alice"] == [True]
    waiting = gatehouse.run(reviews.progress, bob, SALES)
    revoked = _leave(gatehouse, "alice")
    after = gatehouse.run(reviews.progress, bob, SALES)  # nothing is left to review of a leaver's grant
    assert (after.total, after.reviewed) == (waiting.total, waiting.reviewed + 1)
    listed = gatehouse.run(reviews.to_review, bob, SALES).items
    alice = [r for r in listed if r.holder == "alice"]
    assert [(r.pending, r.ended and r.ended.sentence()) for r in alice] == [(False, revoked)]
    assert all(r.ended is None for r in listed if r.holder != "alice")
    report = gatehouse.run(reviews.report, dave, campaign).items
    assert {row["holder"]: row["holder_left"] for row in report}["alice"] == revoked
    assert all(row["holder_left"] == "" for row in report if row["holder"] != "alice")
    exported = "".join(gatehouse.run(reviews.report_csv, dave, campaign))
    assert exported.splitlines()[0].endswith(",holder_left") and revoked in exported


NEED = "The quarterly pricing review needs the models and their reports."


def _asked(gatehouse: Gatehouse, source: str) -> int:
    (alice,) = _users(gatehouse, "alice")
    return actions.request_access(gatehouse, alice, source, AccessLevel.READ_ONLY, "/reports", NEED).id


def _request(gatehouse: Gatehouse, request_id: int) -> AccessRequest:
    with gatehouse.session() as session:
        request = session.get(AccessRequest, request_id)
        assert request is not None
        return request


def _inbox(gatehouse: Gatehouse, name: str) -> list[str]:
    (user,) = _users(gatehouse, name)
    return [f"{n.subject} | {n.body}" for n in gatehouse.run(inbox, user).items]


def test_a_request_that_waited_for_a_sources_last_admin_goes_to_the_line_manager_when_they_leave(
    gatehouse: Gatehouse,
) -> None:
    asked = _asked(gatehouse, "alpha-pricing-models")  # bob is its only admin
    _leave(gatehouse, "bob")
    request = _request(gatehouse, asked)
    (carol,) = _users(gatehouse, "carol")
    assert request.status == RequestStatus.PENDING_LINE_MANAGER and request.line_manager_id == carol.id
    assert [r.id for r in gatehouse.run(queues.awaiting_confirmation, carol).items] == [asked]
    assert any("bob, who was to decide it, has left" in m for m in _inbox(gatehouse, "carol"))
    assert any("it now waits for your line manager, carol, to confirm it" in m for m in _inbox(gatehouse, "alice"))
    with gatehouse.session() as session:
        moved = session.exec(select(AuditEvent).where(AuditEvent.action == "request-moved-on")).all()
    assert [e.request_id for e in moved] == [asked]


def test_a_request_that_waited_for_a_line_manager_goes_to_the_platform_team_when_they_leave(
    gatehouse: Gatehouse,
) -> None:
    asked = _asked(gatehouse, "alpha-legacy-orphan")  # its admin has left: alice's line manager, carol, confirms
    assert _request(gatehouse, asked).status == RequestStatus.PENDING_LINE_MANAGER
    _leave(gatehouse, "carol")
    assert _request(gatehouse, asked).status == RequestStatus.PENDING_PLATFORM
    (dave,) = _users(gatehouse, "dave")
    assert asked in [r.id for r in gatehouse.run(queues.platform_queue, dave).items]
    assert any("it now waits for the platform team" in m for m in _inbox(gatehouse, "alice"))
    actions.approve_request(gatehouse, dave, asked)  # and it can be granted from there
    assert _request(gatehouse, asked).status == RequestStatus.APPROVED
