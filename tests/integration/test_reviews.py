"""Access reviews (issue #17) on SQLite and PostgreSQL against moto's IAM: dave starts a campaign, bob keeps, lowers
and revokes, alice says she no longer needs one grant, the due date passes with bob's own grant unreviewed, and the
report says all of it; IAM follows every change. Then: revoke mode, the schedule's own campaign, reminders, a second
run (and two at once) doing nothing twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from core import actions
from core.actor import platform_operator
from core.adapters.models import AuditEvent, Notification, User, utcnow
from core.adapters.review_models import ReviewCampaign, ReviewItem
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidFields, InvalidInput, NotAllowed, day
from core.queries import get_user
from core.reads import reviews
from core.rules.reviews import CampaignState, ReviewDecision
from tests.aws_helpers import as_user
from tests.integration.test_cli import gatehouse_cli  # noqa: F401  (fixture)

SALES = "alpha-sales-analysis"  # bob: admin; alice: read only on /published
RO, RW = AccessLevel.READ_ONLY, AccessLevel.READ_WRITE
OPERATOR = platform_operator("scheduler")


def member(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def prepared(gatehouse: Gatehouse) -> int:
    """alice also writes /drafts, carol writes the whole source, dave reads /published; dave starts a review of it."""
    bob = member(gatehouse, "bob")
    actions.grant_access(gatehouse, bob, SALES, ["alice"], RW, "/drafts")
    actions.grant_access(gatehouse, bob, SALES, ["carol"], RW)
    actions.grant_access(gatehouse, bob, SALES, ["dave"], RO, "/published")
    started = actions.start_review(gatehouse, member(gatehouse, "dave"), utcnow().date() + timedelta(days=14), [SALES])
    assert (started.grants, started.holders, started.sources) == (5, 4, 1)
    return started.campaign_id


def rows(gatehouse: Gatehouse, who: str, **kwargs: object) -> dict[tuple[str, tuple[str, ...]], reviews.ReviewRow]:
    page = gatehouse.run(reviews.to_review, member(gatehouse, who), SALES, **kwargs)
    return {(r.holder, r.paths): r for r in page.items}


def test_a_campaign_from_start_to_report(gatehouse: Gatehouse) -> None:
    campaign = prepared(gatehouse)
    bob, alice = member(gatehouse, "bob"), member(gatehouse, "alice")
    listed = rows(gatehouse, "bob")
    assert set(listed) == {
        ("alice", ("/published",)),
        ("alice", ("/drafts",)),
        ("carol", ()),
        ("dave", ("/published",)),
    }
    assert listed[("carol", ())].granted_by == "bob" and listed[("carol", ())].since is not None
    assert gatehouse.run(reviews.progress, bob, SALES).text == "0 of 4 reviewed"
    with gatehouse.session() as session:  # every holder asked, the reviewer told
        asked = session.exec(
            select(Notification.user_id).where(col(Notification.kind).in_(("review", "review-question")))
        ).all()
    assert {member(gatehouse, n).id for n in ("alice", "bob", "carol", "dave")} <= set(asked)

    actions.review_grant(gatehouse, bob, listed[("dave", ("/published",))].item_id, "keep")
    lowered = actions.review_grant(gatehouse, bob, listed[("carol", ())].item_id, "change", RO, None)
    assert lowered.aws_pending is None
    with pytest.raises(InvalidInput, match=r"^A review only lowers access: this is read/write access"):
        actions.review_grant(gatehouse, bob, listed[("alice", ("/drafts",))].item_id, "change", AccessLevel.ADMIN)
    with pytest.raises(InvalidInput, match=r"^A review only takes paths away: choose paths within /drafts"):
        actions.review_grant(gatehouse, bob, listed[("alice", ("/drafts",))].item_id, "change", RO, "/other")
    with pytest.raises(InvalidFields) as both:  # as every change: what is wrong in both fields is said at once
        drafts = listed[("alice", ("/drafts",))].item_id
        actions.review_grant(gatehouse, bob, drafts, "change", RO, "s3://another-bucket/x", utcnow().date())
    assert set(both.value.problems) == {"paths", "until"}
    with pytest.raises(
        InvalidInput, match=r"^The reason is 1,001 characters long: keep it to 1,000 characters at most\.$"
    ):
        actions.review_grant(gatehouse, bob, listed[("alice", ("/drafts",))].item_id, "revoke", reason="x" * 1001)
    actions.review_grant(gatehouse, bob, listed[("alice", ("/drafts",))].item_id, "revoke", reason="Project ended.")
    with pytest.raises(InvalidInput, match=r"already reviewed \(kept\)"):
        actions.review_grant(gatehouse, bob, listed[("dave", ("/published",))].item_id, "revoke")

    questions = gatehouse.run(reviews.my_questions, alice)
    assert [(q.source, q.paths) for q in questions.items] == [(SALES, ("/published",))]
    actions.answer_review(gatehouse, alice, questions.items[0].item_id, still_needed=False)
    assert gatehouse.run(reviews.progress, bob, SALES).text == "4 of 4 reviewed"

    own = gatehouse.run(reviews.to_review, member(gatehouse, "carol"), SALES)  # carol administers no part of it
    assert own.total == 0
    with gatehouse.session() as session:
        bobs = session.exec(select(ReviewItem).where(ReviewItem.user_id == bob.id)).one()
    with pytest.raises(NotAllowed, match=r"^Nobody reviews their own access"):
        actions.review_grant(gatehouse, bob, bobs.id or 0, "keep")

    gatehouse.aws.put_object(SALES, "published/a.csv", b"a\n")
    with as_user(gatehouse, "carol") as role:  # lowered: reads, no longer writes
        assert role.can("get", SALES, "published/a.csv") and not role.can("put", SALES, "x/new.csv")
    with as_user(gatehouse, "alice") as role:  # both of hers ended
        assert not role.can("get", SALES, "published/a.csv") and not role.can("put", SALES, "drafts/new.csv")
    with as_user(gatehouse, "dave") as role:
        assert role.can("get", SALES, "published/a.csv")

    due = utcnow().date() + timedelta(days=15)
    ran = actions.run_reviews(gatehouse, OPERATOR, today=due)
    assert ran.flagged == 1 and ran.started is None
    again = actions.run_reviews(gatehouse, OPERATOR, today=due)
    assert again.flagged == 0 and not again.reminded

    dave = member(gatehouse, "dave")
    listed_campaigns = gatehouse.run(reviews.campaigns, dave)
    assert [(c.id, c.state, c.progress.text) for c in listed_campaigns.items] == [
        (campaign, CampaignState.OVERDUE, "4 of 5 reviewed · 1 overdue")
    ]
    report = {(r["holder"], r["paths"]): r for r in gatehouse.run(reviews.report, dave, campaign).items}
    assert report[("dave", "/published")]["decision"] == "Kept"
    assert report[("carol", "whole bucket")]["decision"] == "Lowered"
    assert report[("carol", "whole bucket")]["level_after"] == "Read only"
    assert report[("carol", "whole bucket")]["aws"] == "applied in AWS"
    assert report[("alice", "/drafts")]["decision"] == "Revoked" and report[("alice", "/drafts")]["reason"] == (
        "Project ended."
    )
    assert report[("alice", "/published")]["holder_answer"] == "no longer needed"
    assert report[("alice", "/published")]["decided_by"] == "alice"
    assert report[("bob", "whole bucket")]["decision"] == "Overdue: not reviewed in time"
    csv_text = "".join(gatehouse.run(reviews.report_csv, dave, campaign))
    assert csv_text.splitlines()[0].startswith("campaign,source,holder") and len(csv_text.splitlines()) == 6
    with gatehouse.session() as session:
        actions_seen = set(session.exec(select(AuditEvent.action).where(col(AuditEvent.action).like("review-%"))))
    assert {"review-started", "review-keep", "review-change", "review-revoke", "review-answered", "review-due"} <= (
        actions_seen
    )


def test_the_review_tab_lists_the_sources_to_review_and_counts_what_it_shows(gatehouse: Gatehouse) -> None:
    """The picker offers the sources a reviewer has someone else's grants to review on, and no other; with "only those
    still to review", the page's total is what is left, and each page's progress is the whole review's."""
    prepared(gatehouse)
    dave, bob, carol = member(gatehouse, "dave"), member(gatehouse, "bob"), member(gatehouse, "carol")
    assert gatehouse.run(reviews.review_sources, bob) == [SALES]
    assert gatehouse.run(reviews.review_sources, carol) == []  # she holds a grant there, administers none
    # On Platform: the sources nobody else can review (SALES: bob's own admin grant, which only he administers)
    assert gatehouse.run(reviews.review_sources, dave, as_platform=True) == [SALES]
    assert gatehouse.run(reviews.review_sources, bob, as_platform=True) == []  # not of the platform team
    first = gatehouse.run(reviews.to_review, bob, SALES)
    actions.review_grant(gatehouse, bob, first.items[0].item_id, "keep")
    pending = gatehouse.run(reviews.to_review, bob, SALES, pending_only=True)
    everything = gatehouse.run(reviews.to_review, bob, None, limit=2)  # all his sources, two a page
    assert pending.total == 3 and len(pending.items) == 3 and all(r.pending for r in pending.items)
    assert (everything.total, len(everything.items)) == (4, 2)
    assert pending.progress == everything.progress == reviews.Progress(total=4, reviewed=1, flagged=0)


def test_the_platform_team_reviews_orphaned_sources_and_the_only_admins_grant(gatehouse: Gatehouse) -> None:
    dave, bob = member(gatehouse, "dave"), member(gatehouse, "bob")
    actions.grant_access(gatehouse, dave, "alpha-legacy-orphan", ["alice"], RO)
    actions.start_review(gatehouse, dave, utcnow().date() + timedelta(days=7))
    orphan = gatehouse.run(reviews.to_review, dave, "alpha-legacy-orphan", as_platform=True)
    assert [r.holder for r in orphan.items] == ["alice"]
    assert gatehouse.run(reviews.to_review, bob, "alpha-legacy-orphan").total == 0
    only_admin = gatehouse.run(reviews.to_review, dave, SALES, as_platform=True)
    assert [r.holder for r in only_admin.items] == ["bob"]  # nobody else could review bob's admin grant
    alices = gatehouse.run(reviews.to_review, bob, SALES).items[0]
    with pytest.raises(NotAllowed, match=r"^alpha-sales-analysis has active admins: they review its access"):
        actions.review_grant(gatehouse, dave, alices.item_id, "keep")
    actions.review_grant(gatehouse, dave, orphan.items[0].item_id, "change", RO, None, utcnow().date() + timedelta(3))
    assert actions.keep_the_rest(gatehouse, dave, as_platform=True) >= 1
    assert gatehouse.run(reviews.progress, dave, as_platform=True).text.startswith(
        f"{gatehouse.run(reviews.progress, dave, as_platform=True).total} of"
    )


def test_revoke_mode_ends_what_nobody_reviewed_and_the_schedule_starts_its_own(gatehouse: Gatehouse) -> None:
    gatehouse.settings.review_unreviewed = "revoke"
    prepared(gatehouse)
    today = utcnow().date()
    seven = actions.run_reviews(gatehouse, OPERATOR, today=today + timedelta(days=7))
    due = day(today + timedelta(days=14))
    assert seven.reminded == [f"access review due {due}: 7 days before"]
    assert actions.run_reviews(gatehouse, OPERATOR, today=today + timedelta(days=8)).reminded == []
    one = actions.run_reviews(gatehouse, OPERATOR, today=today + timedelta(days=13))
    assert one.reminded == [f"access review due {due}: 1 day before"]

    ran = actions.run_reviews(gatehouse, OPERATOR, today=today + timedelta(days=15))
    assert ran.revoked == 4 and ran.flagged == 1  # bob, the only admin, keeps his grant: flagged with the reason
    assert any("only admin" in why for why in ran.not_revoked)
    with as_user(gatehouse, "carol") as role:
        assert not role.can("get", SALES, "published/a.csv")
    with gatehouse.session() as session:
        told = session.exec(
            select(func.count()).where(Notification.subject == f"Your access to {SALES} has ended")
        ).one()
    assert told == 4

    later = actions.run_reviews(gatehouse, OPERATOR, today=today + timedelta(days=200))
    assert later.started is not None and later.started.sources >= 1  # nobody reviewed the others for 180 days


@pytest.mark.both_databases  # concurrent runs
def test_two_runs_at_once_handle_a_due_date_once(gatehouse: Gatehouse) -> None:
    prepared(gatehouse)
    due = utcnow().date() + timedelta(days=15)
    results: list[actions.ReviewRun] = []
    runs = [
        threading.Thread(target=lambda: results.append(actions.run_reviews(gatehouse, OPERATOR, today=due)))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert sum(r.flagged for r in results) == 5
    with gatehouse.session() as session:
        states = session.exec(select(ReviewCampaign.state)).all()
        due_events = session.exec(select(func.count()).where(AuditEvent.action == "review-due")).one()
    assert states == ["overdue"] and due_events == 1
    assert ReviewDecision.FLAGGED.label.startswith("Overdue")


def test_the_cli_starts_runs_and_reports(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    due = utcnow().date() + timedelta(days=10)
    started = gatehouse_cli("reviews", "start", "--due", due.isoformat(), "--source", SALES)
    assert started.returncode == 0, started.stderr
    assert started.stdout == f"started access review 1: 2 grants of 2 people on 1 source, due {day(due)}\n"
    refused = gatehouse_cli("reviews", "start", "--due", "2020-01-01")
    assert refused.returncode == 1 and refused.stderr.startswith("gatehouse: The due date 1 Jan 2020 is not after")
    ran = gatehouse_cli("reviews", "run")
    assert ran.returncode == 0 and ran.stdout.endswith("0 flagged, 0 revoked\n"), ran.stderr
    report = gatehouse_cli("reviews", "report", "1", "--format", "csv")
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert lines[0].startswith("campaign,source,holder,external,level,paths") and len(lines) == 3
    assert any(",alice,no,Read only,/published," in line and "Not reviewed yet" in line for line in lines)
    missing = gatehouse_cli("reviews", "report", "9")
    assert missing.returncode == 1 and missing.stderr == "gatehouse: There is no access review numbered 9.\n"


def test_a_due_date_run_that_read_an_item_before_a_reviewer_decided_it_leaves_the_reviewers_decision(
    gatehouse: Gatehouse,
) -> None:
    """The due date's run reads the undecided items, then settles each: a reviewer who kept one in between keeps
    their decision, where the run used to write "ended" over it."""
    from core.actions.run_reviews import _settle

    prepared(gatehouse)
    bob = member(gatehouse, "bob")
    kept = rows(gatehouse, "bob")[("carol", ())].item_id
    actions.review_grant(gatehouse, bob, kept, "keep")
    _settle(gatehouse, kept, ReviewDecision.ENDED, "no change")  # what the run had read: undecided
    with gatehouse.session() as session:
        item = session.get(ReviewItem, kept)
        assert item is not None and item.decision == ReviewDecision.KEEP.value and item.decided_by == "bob"
