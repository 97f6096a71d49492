"""Teams hold access and own sources (issue #28): a team's grant reaches every active member, joining gives it at once
and leaving takes it away; a team that administers a source makes its active members (never an external one) its
admins, so the source is not orphaned while one is left; nobody decides a request made for a team they are in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from core import actions
from core.actions.provision_team import change_members, create_team, delete_team
from core.actor import platform_operator
from core.adapters.models import AccessRequest, AuditEvent, Grant, Notification, RoleSync, SyncState, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, NotAllowed, NotFound, RequestStatus, day
from core.queries import admins_of, get_source, get_user, is_active_admin, source_access
from core.reads import approval, catalog, people, platform, queues, reviews, teams

pytestmark = pytest.mark.both_databases

PRICING = "alpha-pricing-models"  # bob: its only admin
NEED = "The prisons team models prison population costs for the quarterly review."


def _user(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def _team(gatehouse: Gatehouse, *members: str, name: str = "prisons") -> None:
    dave = _user(gatehouse, "dave")
    ids = [_user(gatehouse, m).id or 0 for m in members]
    create_team(gatehouse, dave, name, ids)


def _reads(gatehouse: Gatehouse, who: str, source: str = PRICING) -> bool:
    with gatehouse.session() as session:
        try:
            source_access(session, get_user(session, who), source)
        except NotAllowed:
            return False
    return True


def _inbox(gatehouse: Gatehouse, who: str) -> list[str]:
    with gatehouse.session() as session:
        user = get_user(session, who)
        return list(session.exec(select(Notification.subject).where(Notification.user_id == user.id)))


def test_a_teams_grant_reaches_its_members_and_joining_or_leaving_changes_it_at_once(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice", "carol")
    bob, dave = _user(gatehouse, "bob"), _user(gatehouse, "dave")
    assert not _reads(gatehouse, "alice")
    outcome = actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY, "/reports")
    assert outcome.recorded == ["prisons"] and not outcome.failed
    assert _reads(gatehouse, "alice") and _reads(gatehouse, "carol")
    with gatehouse.session() as session:
        held = source_access(session, get_user(session, "alice"), PRICING).held
        assert [(h.level, list(h.paths)) for h in held] == [(AccessLevel.READ_ONLY, ["/reports"])]
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "access-granted")).all()[-1]
        assert event.subject == "team:prisons" and "the prisons team" in event.summary
        applied = session.exec(select(RoleSync).where(RoleSync.role_name.endswith("_user_alice"))).one()  # type: ignore[attr-defined]
        assert applied.state == SyncState.APPLIED
    assert any("through the prisons team" in s for s in _inbox(gatehouse, "alice"))
    assert any("through the prisons team" in s for s in _inbox(gatehouse, "carol"))

    change_members(gatehouse, dave, "prisons", remove=["carol"])
    assert not _reads(gatehouse, "carol"), "a member who left the team no longer reads through it"
    assert _reads(gatehouse, "alice")
    change_members(gatehouse, dave, "prisons", add=["carol"])
    assert _reads(gatehouse, "carol"), "a member who joins reads at once"

    rows = gatehouse.run(catalog.list_access, dave, team="prisons")
    assert [(r.source, r.principal, r.level) for r in rows] == [(PRICING, "team:prisons", AccessLevel.READ_ONLY)]
    actions.revoke_team_access(gatehouse, bob, PRICING, "prisons")
    assert not _reads(gatehouse, "alice") and not _reads(gatehouse, "carol")
    assert any("prisons team's access" in s for s in _inbox(gatehouse, "alice"))


def test_a_teams_paths_never_overlap_and_a_member_keeps_what_they_hold_themselves(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice")
    bob = _user(gatehouse, "bob")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY, "/reports")
    with pytest.raises(InvalidInput, match=r"^The prisons team already has read only access to /reports, which includ"):
        actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_WRITE, "/reports/2026")
    actions.grant_access(gatehouse, bob, PRICING, ["alice"], AccessLevel.READ_WRITE, "/reports/2026")  # hers: apart
    actions.revoke_team_access(gatehouse, bob, PRICING, "prisons")
    with gatehouse.session() as session:
        held = source_access(session, get_user(session, "alice"), PRICING).held
        assert [(h.level, list(h.paths)) for h in held] == [(AccessLevel.READ_WRITE, ["/reports/2026"])]
    with pytest.raises(NotFound, match=r"^There is no team called alice \(alice is a platform member, not a team\)"):
        actions.grant_team_access(gatehouse, bob, PRICING, "alice", AccessLevel.READ_ONLY)


def test_a_team_that_administers_a_source_makes_its_active_members_admins_never_an_external(
    gatehouse: Gatehouse,
) -> None:
    actions.add_user(gatehouse, _user(gatehouse, "dave"), "xena", "xena@partner.example", external=True)
    _team(gatehouse, "alice", "xena")
    bob = _user(gatehouse, "bob")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.ADMIN)
    with gatehouse.session() as session:
        source = get_source(session, bob, PRICING)
        assert admins_of(session, source) == ["alice", "bob"]
        assert not is_active_admin(session, get_user(session, "xena"), source)
    alice = _user(gatehouse, "alice")
    actions.grant_access(gatehouse, alice, PRICING, ["carol"], AccessLevel.READ_ONLY)  # she manages its access now
    # bob, its last named admin, may give up admin: the team's members are left
    actions.revoke_access(gatehouse, bob, PRICING, "bob")
    with gatehouse.session() as session:
        assert admins_of(session, get_source(session, alice, PRICING)) == ["alice"]
    # and the team's admin grant cannot go now: its members are the only admins
    with pytest.raises(InvalidInput, match=f"^The members of the prisons team are the only admins of {PRICING}"):
        actions.revoke_team_access(gatehouse, alice, PRICING, "prisons")
    with pytest.raises(InvalidInput, match=f"^The members of the prisons team are the only admins of {PRICING}"):
        with gatehouse.session() as session:
            grant = session.exec(select(Grant).where(col(Grant.team_id).is_not(None))).one()
        actions.change_team_access(gatehouse, alice, PRICING, "prisons", grant.id or 0, AccessLevel.READ_ONLY)


def test_a_source_whose_team_administers_it_is_not_orphaned_when_its_named_admin_leaves(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice")
    bob, dave = _user(gatehouse, "bob"), _user(gatehouse, "dave")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.ADMIN)
    departure = actions.mark_left(gatehouse, dave, "bob")
    assert PRICING not in departure.orphaned_sources
    carol = _user(gatehouse, "carol")
    asked = actions.request_access(gatehouse, carol, PRICING, AccessLevel.READ_ONLY, None, NEED)
    assert asked.status is RequestStatus.PENDING_ADMIN
    alice = _user(gatehouse, "alice")
    assert [v.id for v in gatehouse.run(queues.admin_queue, alice).items] == [asked.id]
    actions.approve_request(gatehouse, alice, asked.id or 0)
    assert _reads(gatehouse, "carol")


def test_nobody_decides_a_request_for_a_team_they_are_in(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice", "carol")
    bob, alice, carol = _user(gatehouse, "bob"), _user(gatehouse, "alice"), _user(gatehouse, "carol")
    actions.grant_access(gatehouse, bob, PRICING, ["carol"], AccessLevel.ADMIN)  # carol: an admin, and in the team
    with pytest.raises(InvalidInput, match=r"^You are not in the prisons team"):
        actions.request_access(gatehouse, bob, PRICING, AccessLevel.READ_ONLY, "/reports", NEED, team="prisons")
    asked = actions.request_access(gatehouse, alice, PRICING, AccessLevel.READ_ONLY, "/reports", NEED, team="prisons")
    assert asked.status is RequestStatus.PENDING_ADMIN and asked.team == "prisons"
    assert asked.waits_for == "an admin of the source: bob", "carol, an admin in the team, does not decide it"
    assert any("asks for access" in s for s in _inbox(gatehouse, "bob"))
    assert not any("asks for access" in s for s in _inbox(gatehouse, "carol")), "carol is not asked: her team's"
    assert not gatehouse.run(queues.admin_queue, carol).items
    with pytest.raises(NotAllowed, match="nor one for a team they are in"):
        actions.approve_request(gatehouse, carol, asked.id or 0)
    actions.approve_request(gatehouse, bob, asked.id or 0)
    with gatehouse.session() as session:
        request = session.get(AccessRequest, asked.id)
        assert request is not None and request.status is RequestStatus.APPROVED
        grant = session.exec(select(Grant).where(Grant.request_id == asked.id)).one()
        assert grant.team_id is not None and grant.user_id is None
    assert _reads(gatehouse, "carol") and _reads(gatehouse, "alice")
    assert any("through the prisons team" in s for s in _inbox(gatehouse, "carol"))


def test_the_reads_show_a_teams_grants_and_whom_they_reach(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice", "carol")
    _team(gatehouse, name="empty")
    bob, alice, dave = _user(gatehouse, "bob"), _user(gatehouse, "alice"), _user(gatehouse, "dave")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY, "/reports")
    entries = gatehouse.run(catalog.access_list, bob, PRICING).items
    team = next(e for e in entries if e.team)
    assert (team.principal, team.level, list(team.paths)) == ("team:prisons", AccessLevel.READ_ONLY, ["/reports"])
    assert team.members == ("alice", "carol") and team.member_count == 2 and team.applied
    mine = gatehouse.run(catalog.usable_page, alice).items
    through = [u for u in mine if u.name == PRICING]
    assert [(u.through, u.level) for u in through] == [("prisons", AccessLevel.READ_ONLY)]
    assert PRICING not in {o.name for o in gatehouse.run(catalog.other_sources, alice).items}
    choices = gatehouse.run(teams.team_choices, bob).items
    assert [(c.name, c.members) for c in choices] == [("empty", 0), ("prisons", 2)]
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.ADMIN, "/models")
    # a second grant is a new version of the team's policies, not a write to each member's role: it is in AWS
    entries = gatehouse.run(catalog.access_list, bob, PRICING).items
    assert [(list(e.paths), e.applied) for e in entries if e.team] == [(["/models"], True), (["/reports"], True)]
    assert [(u.through, u.applied) for u in gatehouse.run(catalog.usable_page, alice).items if u.through] == [
        ("prisons", True),
        ("prisons", True),
    ]
    rows = {t.name: t for t in gatehouse.run(platform.teams, dave)}
    assert rows["prisons"].members == ("alice", "carol") and rows["prisons"].administers == (PRICING,)
    assert [(g.source, g.level) for g in rows["prisons"].grants] == [
        (PRICING, AccessLevel.READ_ONLY),
        (PRICING, AccessLevel.ADMIN),
    ]
    assert gatehouse.run(catalog.administered_source_names, alice).items == [PRICING]
    assert gatehouse.run(people.signed_in, "alice").roles.source_admin


def test_a_teams_grant_expires_and_ends_when_its_source_is_archived(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice")
    bob = _user(gatehouse, "bob")
    soon = utcnow().date() + timedelta(days=2)
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY, "/reports", soon)
    warned = actions.expire(gatehouse)
    assert warned.warned == [f"the prisons team on {PRICING}, ends {day(soon)}"]
    assert any("prisons team's access" in s for s in _inbox(gatehouse, "alice"))
    expired = actions.expire(gatehouse, today=soon + timedelta(days=1))
    assert expired.expired == [f"the prisons team on {PRICING}"] and not _reads(gatehouse, "alice")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY)
    actions.archive_source(gatehouse, bob, PRICING)
    assert any(s == f"{PRICING} was archived" for s in _inbox(gatehouse, "alice"))


def test_leaving_ends_access_through_teams_and_orphans_only_what_no_one_is_left_to_administer(
    gatehouse: Gatehouse,
) -> None:
    _team(gatehouse, "alice")
    bob, dave = _user(gatehouse, "bob"), _user(gatehouse, "dave")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.ADMIN)
    with gatehouse.session() as session:
        preview = actions.leaving(session, dave, "alice")
    assert PRICING in preview.sources and preview.orphaned == []  # bob is left
    actions.revoke_access(gatehouse, bob, PRICING, "bob")  # the team is its only admin now
    with gatehouse.session() as session:
        assert actions.leaving(session, dave, "alice").orphaned == [PRICING]
    departure = actions.mark_left(gatehouse, dave, "alice")
    assert departure.orphaned_sources == [PRICING]
    assert not _reads(gatehouse, "alice")


def test_a_team_deleted_holds_nothing_and_its_open_request_is_refused(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice", "carol")
    bob, alice, dave = _user(gatehouse, "bob"), _user(gatehouse, "alice"), _user(gatehouse, "dave")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY, "/reports")
    asked = actions.request_access(gatehouse, alice, PRICING, AccessLevel.READ_ONLY, "/models", NEED, team="prisons")
    with gatehouse.session() as session:
        team_id = session.exec(select(Grant.team_id).where(col(Grant.team_id).is_not(None))).one()
    delete_team(gatehouse, dave, team_id or 0)
    assert not _reads(gatehouse, "alice") and not _reads(gatehouse, "carol")
    with gatehouse.session() as session:
        request = session.get(AccessRequest, asked.id)
        assert request is not None and request.status is RequestStatus.REFUSED and request.team_id is None
        assert not session.exec(select(Grant).where(col(Grant.team_id).is_not(None))).all()
        revoked = session.exec(select(AuditEvent).where(AuditEvent.subject == "team:prisons")).all()[-1]
        assert revoked.action == "access-revoked"
    assert "The prisons team was deleted" in _inbox(gatehouse, "carol")


def test_an_access_review_reviews_a_teams_grant_as_one_item_never_by_its_members(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice", "carol")
    bob, carol, dave = (_user(gatehouse, n) for n in ("bob", "carol", "dave"))
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_WRITE, "/reports")
    actions.grant_access(gatehouse, bob, PRICING, ["carol"], AccessLevel.ADMIN, "/models")  # an admin, in the team
    started = actions.start_review(gatehouse, dave, utcnow().date() + timedelta(days=20), [PRICING])
    assert started.grants == 3  # bob's, carol's own, and the team's: one item
    rows = gatehouse.run(reviews.to_review, bob, PRICING).items
    team = next(r for r in rows if r.team)
    assert (team.holder, team.members, team.level) == ("team:prisons", ("alice", "carol"), AccessLevel.READ_WRITE)
    assert team.granted_by == "bob"
    assert not [r for r in gatehouse.run(reviews.to_review, carol, PRICING).items if r.team], "not her team's"
    with pytest.raises(NotAllowed, match="nor their team's"):
        actions.review_grant(gatehouse, carol, team.item_id, "keep")
    assert not any("Do you still need" in s for s in _inbox(gatehouse, "alice")), "a team's item asks no member"
    reviewed = actions.review_grant(gatehouse, bob, team.item_id, "change", AccessLevel.READ_ONLY, "/reports")
    assert reviewed.holder == "the prisons team"
    with gatehouse.session() as session:
        held = source_access(session, get_user(session, "alice"), PRICING).held
        assert [(h.level, list(h.paths)) for h in held] == [(AccessLevel.READ_ONLY, ["/reports"])]
    report = gatehouse.run(reviews.report, dave, started.campaign_id).items
    assert {(r["holder"], r["decision"]) for r in report if r["holder"] == "team:prisons"} == {
        ("team:prisons", "Lowered")
    }


def test_the_approval_preview_and_the_revoke_preview_speak_of_the_teams_policy(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice")
    bob, alice = _user(gatehouse, "bob"), _user(gatehouse, "alice")
    asked = actions.request_access(gatehouse, alice, PRICING, AccessLevel.READ_ONLY, "/reports", NEED, team="prisons")
    effect = gatehouse.run(
        approval.approval_effect, gatehouse.settings, bob, asked.id, AccessLevel.READ_ONLY, "/reports", None
    )
    assert effect.changes and all(c.startswith("the prisons team's policy gains") for c in effect.changes)
    actions.approve_request(gatehouse, bob, asked.id)
    with gatehouse.session() as session:
        grant = session.exec(select(Grant).where(col(Grant.team_id).is_not(None))).one()
    taken = gatehouse.run(approval.revoke_effect, gatehouse.settings, bob, PRICING, grant.id or 0)
    assert taken and all(t.startswith("the prisons team's policy loses") for t in taken)


def test_the_last_admin_member_taken_out_of_the_team_orphans_the_source_and_its_requests_go_on(
    gatehouse: Gatehouse,
) -> None:
    _team(gatehouse, "alice")
    bob, dave, carol = _user(gatehouse, "bob"), _user(gatehouse, "dave"), _user(gatehouse, "carol")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.ADMIN)
    actions.revoke_access(gatehouse, bob, PRICING, "bob")  # the team is its only admin
    asked = actions.request_access(gatehouse, carol, PRICING, AccessLevel.READ_ONLY, None, NEED)
    assert asked.status is RequestStatus.PENDING_ADMIN
    change_members(gatehouse, dave, "prisons", remove=["alice"])
    with gatehouse.session() as session:
        request = session.get(AccessRequest, asked.id)
        assert request is not None and request.status is not RequestStatus.PENDING_ADMIN
        assert admins_of(session, get_source(session, dave, PRICING)) == []
    assert any("now waits for" in s for s in _inbox(gatehouse, "carol"))


def test_a_teams_grant_nobody_reviewed_is_revoked_at_the_due_date_and_its_members_told(gatehouse: Gatehouse) -> None:
    gatehouse.settings.review_unreviewed = "revoke"
    _team(gatehouse, "alice")
    bob, dave = _user(gatehouse, "bob"), _user(gatehouse, "dave")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY, "/reports")
    today = utcnow().date()
    actions.start_review(gatehouse, dave, today + timedelta(days=14), [PRICING])
    ran = actions.run_reviews(gatehouse, platform_operator("scheduler"), today=today + timedelta(days=15))
    assert ran.revoked == 1 and any(n.startswith("bob on") for n in ran.not_revoked)  # bob: its only admin
    assert not _reads(gatehouse, "alice")
    assert any("prisons team's access" in s for s in _inbox(gatehouse, "alice"))


def test_a_teams_grant_changed_in_place_reaches_its_members_and_never_overlaps_its_others(gatehouse: Gatehouse) -> None:
    _team(gatehouse, "alice")
    bob = _user(gatehouse, "bob")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY, "/reports")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY, "/models")
    with gatehouse.session() as session:
        reports = session.exec(select(Grant).where(col(Grant.team_id).is_not(None)).order_by(col(Grant.id))).first()
    assert reports is not None
    with pytest.raises(InvalidInput, match=r"^The prisons team also has read only access to /models"):
        actions.change_team_access(gatehouse, bob, PRICING, "prisons", reports.id or 0, AccessLevel.READ_WRITE, "")
    actions.change_team_access(gatehouse, bob, PRICING, "prisons", reports.id or 0, AccessLevel.READ_WRITE, "/reports")
    with gatehouse.session() as session:
        held = source_access(session, get_user(session, "alice"), PRICING).held
        assert sorted((h.level, list(h.paths)) for h in held) == [
            (AccessLevel.READ_ONLY, ["/models"]),
            (AccessLevel.READ_WRITE, ["/reports"]),
        ]
        changed = session.exec(select(AuditEvent).where(AuditEvent.action == "access-changed")).all()[-1]
        assert changed.subject == "team:prisons" and "the prisons team's access" in changed.summary
    assert f"The prisons team's access to {PRICING} changed" in _inbox(gatehouse, "alice")


def test_the_previews_of_a_members_own_grant_keep_what_their_team_holds_beside_it(gatehouse: Gatehouse) -> None:
    """Approving alice's own read of /models, or revoking it, changes her own grants only: what she reads through her
    team on the same source (/reports) stays, and the preview says so by not naming it."""
    _team(gatehouse, "alice")
    bob, alice = _user(gatehouse, "bob"), _user(gatehouse, "alice")
    actions.grant_team_access(gatehouse, bob, PRICING, "prisons", AccessLevel.READ_ONLY, "/reports")
    asked = actions.request_access(gatehouse, alice, PRICING, AccessLevel.READ_ONLY, "/models", NEED)
    said = gatehouse.run(
        approval.approval_effect, gatehouse.settings, bob, asked.id or 0, AccessLevel.READ_ONLY, "/models", None
    )
    assert said.changes and all("reports" not in line for line in said.changes), said.changes
    assert any("gains read on alpha-pricing-models/models" in line for line in said.changes), said.changes
    actions.approve_request(gatehouse, bob, asked.id or 0)
    own = next(e for e in gatehouse.run(catalog.access_list, bob, PRICING).items if e.principal == "alice")
    taken = gatehouse.run(approval.revoke_effect, gatehouse.settings, bob, PRICING, own.grant_id)
    assert taken and all("reports" not in line for line in taken), taken
    assert any("loses read on alpha-pricing-models/models" in line for line in taken), taken
