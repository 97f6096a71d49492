"""Data leaving a personal-data source (issue #29): a download or copy waits for the information asset owner's
sign-off of its form (no byte leaves before), is available for a day once signed, never once refused; and the access
review report a source's owner signs. On SQLite and PostgreSQL, against moto."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from core import actions
from core.adapters.models import AuditEvent, DataMovement, DataSource, MovementKind, Notification, User, utcnow
from core.adapters.review_models import ReviewItem, ReviewSignature
from core.context import Gatehouse
from core.domain import Classification, InvalidInput, NotAllowed
from core.movement import AwaitingSignoff, FormNeeded, MovementForm
from core.queries import get_user
from core.reads import reviews
from core.reads.movements import movements_to_sign, sign_off
from core.reads.review_signatures import reports_to_sign, signatures
from core.rules.reviews import ReviewDecision
from tests.integration.test_cli import gatehouse_cli  # noqa: F401  (fixture)

pytestmark = pytest.mark.both_databases  # conditional UPDATEs, naive and aware times compared

SALES = "alpha-sales-analysis"  # alice: read only on /published; bob: admin
WORKSPACE = "alpha-shared-workspace"  # alice: read/write, whole bucket
KEY = "published/sales_2025.csv"


def form(**changes: Any) -> MovementForm:
    answers: dict[str, Any] = {
        "description": "Monthly regional sales extract",
        "origin": SALES,
        "destination": "My laptop",
        "purpose": "Quarterly pricing review for the finance committee",
        "classification": "OFFICIAL-SENSITIVE",
        "personal_data": True,
        "dpia_reference": "DPIA-2026-014",
        "retention": "Until the review ends in March 2027",
        "declaration": True,
    }
    return MovementForm(**{**answers, **changes})


def user(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def make_personal(gatehouse: Gatehouse, source: str, iao: str) -> None:
    """What the set_classification action will do: set here straight in the database."""
    with gatehouse.session() as session:
        iao_id = get_user(session, iao).id
        session.exec(
            update(DataSource)
            .where(col(DataSource.name) == source)
            .values(classification=Classification.PERSONAL, iao_id=iao_id)
        )


def events(gatehouse: Gatehouse, action: str) -> list[AuditEvent]:
    with gatehouse.session() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def inbox(gatehouse: Gatehouse, name: str, kind: str) -> list[Notification]:
    with gatehouse.session() as session:
        who = get_user(session, name)
        return list(session.exec(select(Notification).where(Notification.user_id == who.id, Notification.kind == kind)))


def gets(gatehouse: Gatehouse) -> list[dict[str, Any]]:
    """Every GetObject Gatehouse makes from now on."""
    seen: list[dict[str, Any]] = []
    gatehouse.aws.s3.meta.events.register(
        "before-parameter-build.s3.GetObject", lambda params, **_: seen.append(dict(params))
    )
    return seen


def test_a_download_waits_for_the_iao_then_is_available_for_a_day(gatehouse: Gatehouse) -> None:
    make_personal(gatehouse, SALES, "carol")
    alice, bob, carol = (user(gatehouse, n) for n in ("alice", "bob", "carol"))
    with pytest.raises(InvalidInput, match="alpha-sales-analysis holds personal data: say on the form"):
        actions.record_movement(
            gatehouse, alice, MovementKind.DOWNLOAD, form(personal_data=False, dpia_reference=None), SALES
        )
    form_id = actions.record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(), SALES)
    with gatehouse.session() as session:
        assert session.get(DataMovement, form_id).signoff_needed  # type: ignore[union-attr]
    [asked] = inbox(gatehouse, "carol", "movement-to-sign")
    assert "alice" in asked.subject and f"form {form_id}" in asked.body

    read = gets(gatehouse)
    with pytest.raises(AwaitingSignoff, match="the information asset owner signs your movement form"):
        actions.check_download(gatehouse, alice, form_id, SALES, KEY)
    with pytest.raises(AwaitingSignoff):
        actions.download(gatehouse, alice, form_id, SALES, KEY)
    assert read == [] and events(gatehouse, "data-downloaded") == []  # not a byte left
    with gatehouse.session() as session:
        waiting = sign_off(session, alice, form_id, 24)
        assert waiting is not None and (waiting.signer, waiting.until) == ("carol", None)
        assert [m.id for m in movements_to_sign(session, carol)] == [form_id]
        assert movements_to_sign(session, bob) == []

    with pytest.raises(NotAllowed, match="Only the source's information asset owner, carol"):
        actions.sign_off_movement(gatehouse, bob, form_id)
    with pytest.raises(NotAllowed, match="Nobody signs off their own movement"):
        actions.sign_off_movement(gatehouse, alice, form_id)
    until = actions.sign_off_movement(gatehouse, carol, form_id)
    with pytest.raises(InvalidInput, match="already signed off by carol"):
        actions.sign_off_movement(gatehouse, carol, form_id)
    [told] = inbox(gatehouse, "alice", "movement-signed")
    assert "your download from alpha-sales-analysis is available until" in told.body
    [signed] = events(gatehouse, "movement-signed-off")
    assert signed.actor == "carol" and signed.details["movement_id"] == form_id
    with gatehouse.session() as session:
        assert movements_to_sign(session, carol) == []

    data = b"".join(actions.download(gatehouse, alice, form_id, SALES, KEY))
    assert data == gatehouse.aws.s3.get_object(Bucket=SALES, Key=KEY)["Body"].read()
    assert until - utcnow() > timedelta(hours=23)

    with gatehouse.session() as session:  # a day later
        session.exec(
            update(DataMovement)
            .where(col(DataMovement.id) == form_id)
            .values(signed_off_at=utcnow() - timedelta(hours=25))
        )
    with pytest.raises(NotAllowed, match="was for 24 hours and has passed"):
        actions.download(gatehouse, alice, form_id, SALES, KEY)


def test_a_refused_form_never_lets_data_leave(gatehouse: Gatehouse) -> None:
    make_personal(gatehouse, SALES, "carol")
    alice, carol = user(gatehouse, "alice"), user(gatehouse, "carol")
    form_id = actions.record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(), SALES)
    with pytest.raises(InvalidInput, match="a reason"):
        actions.refuse_movement(gatehouse, carol, form_id, " ")
    actions.refuse_movement(gatehouse, carol, form_id, "Not for laptops: use the workspace")
    with pytest.raises(NotAllowed, match="refused this movement: Not for laptops"):
        actions.download(gatehouse, alice, form_id, SALES, KEY)
    with pytest.raises(InvalidInput, match="already refused by carol"):
        actions.sign_off_movement(gatehouse, carol, form_id)
    [told] = inbox(gatehouse, "alice", "movement-signed")
    assert "Not for laptops" in told.body and events(gatehouse, "movement-signoff-refused")
    assert events(gatehouse, "data-downloaded") == []


def test_the_iao_moving_data_is_signed_off_by_the_platform_team(gatehouse: Gatehouse) -> None:
    make_personal(gatehouse, SALES, "alice")
    alice, carol, dave = (user(gatehouse, n) for n in ("alice", "carol", "dave"))
    form_id = actions.record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(), SALES)
    assert inbox(gatehouse, "alice", "movement-to-sign") == []
    assert inbox(gatehouse, "dave", "movement-to-sign")
    with pytest.raises(NotAllowed, match="Nobody signs off their own movement"):
        actions.sign_off_movement(gatehouse, alice, form_id)
    with pytest.raises(NotAllowed, match="the platform team signs it in their place"):
        actions.sign_off_movement(gatehouse, carol, form_id)
    with gatehouse.session() as session:
        assert [m.id for m in movements_to_sign(session, dave)] == [form_id]
        assert movements_to_sign(session, alice) == []
    actions.sign_off_movement(gatehouse, dave, form_id)
    assert b"".join(actions.download(gatehouse, alice, form_id, SALES, KEY))


def test_a_standard_source_is_unchanged_and_a_copy_out_waits_the_same_way(gatehouse: Gatehouse) -> None:
    alice, carol = user(gatehouse, "alice"), user(gatehouse, "carol")
    plain = actions.record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(personal_data=False), WORKSPACE)
    assert b"".join(actions.download(gatehouse, alice, plain, WORKSPACE, "notes/regions.csv"))
    assert inbox(gatehouse, "carol", "movement-to-sign") == []

    make_personal(gatehouse, SALES, "carol")
    with pytest.raises(FormNeeded, match="since you completed form"):  # a form from before: the owner never saw it
        _old_form_refused(gatehouse, alice)
    copy_form = actions.record_movement(gatehouse, alice, MovementKind.COPY, form(), SALES, WORKSPACE)
    with pytest.raises(AwaitingSignoff):
        actions.copy(gatehouse, alice, copy_form, SALES, KEY, WORKSPACE, "copies/sales.csv")
    assert gatehouse.aws.s3.list_objects_v2(Bucket=WORKSPACE, Prefix="copies/")["KeyCount"] == 0
    actions.sign_off_movement(gatehouse, carol, copy_form)
    moved = actions.copy(gatehouse, alice, copy_form, SALES, KEY, WORKSPACE, "copies/sales.csv")
    assert moved.key == "copies/sales.csv"

    within = actions.record_movement(gatehouse, alice, MovementKind.COPY, form(), WORKSPACE, WORKSPACE)
    with gatehouse.session() as session:  # within one standard source nothing leaves personal data
        assert not session.get(DataMovement, within).signoff_needed  # type: ignore[union-attr]


def _old_form_refused(gatehouse: Gatehouse, alice: User) -> None:
    """A form completed before the source held personal data, then used for a download."""
    with gatehouse.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == SALES)).one()
        old = DataMovement(user_id=alice.id or 0, kind=MovementKind.DOWNLOAD, source_id=source.id, **form().answers())
        session.add(old)
        session.flush()
        old_id = old.id
    actions.download(gatehouse, alice, old_id, SALES, KEY)


# --- the access review report, signed by the information asset owner ---------------------------------------------


def test_the_iao_signs_the_review_report_once_and_platform_sees_it(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    make_personal(gatehouse, SALES, "carol")
    bob, carol, dave = (user(gatehouse, n) for n in ("bob", "carol", "dave"))
    started = actions.start_review(gatehouse, dave, utcnow().date() + timedelta(days=10), [SALES, WORKSPACE])
    campaign = started.campaign_id
    with gatehouse.session() as session:
        [item] = session.exec(
            select(ReviewItem.id)
            .join(DataSource, col(DataSource.id) == ReviewItem.source_id)
            .join(User, col(User.id) == ReviewItem.user_id)
            .where(ReviewItem.campaign_id == campaign, DataSource.name == SALES, User.username == "alice")
        ).all()
    actions.review_grant(gatehouse, bob, item, ReviewDecision.KEEP)

    with gatehouse.session() as session:
        [shown] = [r for r in reports_to_sign(session, carol) if r.campaign_id == campaign]
        assert reports_to_sign(session, bob) == []
    assert shown.source == SALES and shown.signed_by is None
    assert shown.seen.counts["kept"] == 1 and shown.seen.counts["unreviewed"] == shown.seen.counts["grants"] - 1
    with gatehouse.session() as session:  # the sha256 is that of the source's rows of the report's CSV
        whole = "".join(reviews.report_csv(session, dave, campaign)).splitlines(keepends=True)
    mine = [whole[0], *(line for line in whole[1:] if f",{SALES}," in line)]
    assert shown.seen.sha256 == hashlib.sha256("".join(mine).encode()).hexdigest()

    for outsider, why in ((bob, "Only the information asset owner of"), (dave, "Only the information asset owner")):
        with pytest.raises(NotAllowed, match=why):
            actions.sign_review_report(gatehouse, outsider, campaign, SALES)
    with pytest.raises(NotAllowed, match="alpha-shared-workspace has no information asset owner: its access review"):
        actions.sign_review_report(gatehouse, carol, campaign, WORKSPACE)
    with pytest.raises(InvalidInput, match="changed since you read it"):
        actions.sign_review_report(gatehouse, carol, campaign, SALES, "0" * 64)
    signed = actions.sign_review_report(gatehouse, carol, campaign, SALES, shown.seen.sha256)
    assert signed.counts == shown.seen.counts and signed.sha256 == shown.seen.sha256
    with pytest.raises(InvalidInput, match=f"Access review {campaign}'s report of {SALES} is already signed, by carol"):
        actions.sign_review_report(gatehouse, carol, campaign, SALES)
    with gatehouse.session() as session:
        stored = session.exec(select(ReviewSignature)).one()
        assert (stored.report_sha256, stored.seen) == (shown.seen.sha256, shown.seen.counts)
        assert events(gatehouse, "review-report-signed")[0].actor == "carol"
        by_source = {s.source: s for s in signatures(session, dave, campaign)}
        with pytest.raises(NotAllowed):
            signatures(session, carol, campaign)
    assert (by_source[SALES].iao, by_source[SALES].signed_by) == ("carol", "carol")
    assert by_source[SALES].signed_at is not None
    assert (by_source[WORKSPACE].iao, by_source[WORKSPACE].signed_by) == (None, None)
    report = gatehouse_cli("reviews", "report", str(campaign))
    assert report.returncode == 0 and f"{SALES}: report signed by carol at" in report.stderr, report.stderr


def test_an_upload_into_personal_data_says_so_on_its_form(gatehouse: Gatehouse) -> None:
    make_personal(gatehouse, WORKSPACE, "carol")
    alice = user(gatehouse, "alice")
    with pytest.raises(InvalidInput, match="alpha-shared-workspace holds personal data: say on the form"):
        actions.record_movement(gatehouse, alice, MovementKind.UPLOAD, form(personal_data=False), WORKSPACE)
    uploaded = actions.record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
    within = actions.record_movement(gatehouse, alice, MovementKind.MOVE, form(), WORKSPACE, WORKSPACE)
    with gatehouse.session() as session:
        for form_id in (uploaded, within):  # data coming in, or moving inside the source: nothing leaves it
            stored = session.get(DataMovement, form_id)
            assert stored is not None and stored.personal_data and not stored.signoff_needed
    assert inbox(gatehouse, "carol", "movement-to-sign") == []


def test_two_decisions_at_once_one_wins(gatehouse: Gatehouse) -> None:
    """Carol signs and the platform team refuses the same form at once (or carol signs a report twice): one wins,
    the other reads one sentence."""
    make_personal(gatehouse, SALES, "carol")
    alice, carol, dave = (user(gatehouse, n) for n in ("alice", "carol", "dave"))
    form_id = actions.record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(), SALES)
    campaign = actions.start_review(gatehouse, dave, utcnow().date() + timedelta(days=10), [SALES]).campaign_id
    with gatehouse.session() as session:  # the platform team may refuse where the owner has left: make it so here
        session.exec(update(User).where(col(User.username) == "carol").values(is_platform_admin=True))
    carol = user(gatehouse, "carol")
    outcomes: list[str] = []

    def run(action: Any) -> None:
        try:
            action()
            outcomes.append("done")
        except InvalidInput as refused:
            outcomes.append(str(refused))

    for pair in (
        (
            lambda: actions.sign_off_movement(gatehouse, carol, form_id),
            lambda: actions.refuse_movement(gatehouse, carol, form_id, "Not this week"),
        ),
        (
            lambda: actions.sign_review_report(gatehouse, carol, campaign, SALES),
            lambda: actions.sign_review_report(gatehouse, carol, campaign, SALES),
        ),
    ):
        outcomes.clear()
        threads = [threading.Thread(target=run, args=(action,)) for action in pair]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        [other] = [o for o in outcomes if o != "done"]
        assert outcomes.count("done") == 1 and "already" in other, outcomes
    with gatehouse.session() as session:
        assert len(session.exec(select(ReviewSignature)).all()) == 1
