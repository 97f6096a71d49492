"""core/rules/personal.py's rules of data leaving a personal-data source and of a signed review report, on plain
values: who signs off a movement (never its mover; the platform team where the owner cannot), what leaves a source,
how long a signature lasts, who signs a report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import rules
from core.domain import Classification, ClassificationRule, UserStatus
from core.rules.decision import Decision
from tests.unit.test_rules import ALICE, BOB, CAROL, DAVE, ERIN, Person

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PERSONAL = ClassificationRule(end_required=True, max_days=365, iao_approves="whole-source", signoff_to_leave=True)


@pytest.mark.parametrize(
    ("actor", "iao", "allowed", "says"),
    [
        (CAROL, CAROL, True, ""),  # the owner signs alice's movement
        (BOB, CAROL, False, "Only the source's information asset owner, carol"),
        (DAVE, CAROL, False, "Only the source's information asset owner, carol"),  # not the platform team either
        (ALICE, CAROL, False, "Nobody signs off their own movement"),
        (ALICE, ALICE, False, "Nobody signs off their own movement"),  # the owner moving data
        (DAVE, ALICE, True, ""),  # … is signed off by the platform team
        (CAROL, ALICE, False, "the platform team signs it in their place"),
        (DAVE, ERIN, True, ""),  # an owner who left: the platform team
        (DAVE, None, True, ""),
        (Person(7, "frank", status=UserStatus.LEFT, is_platform_admin=True), None, False, "platform team signs"),
    ],
)
def test_who_signs_off_data_leaving(actor: Person, iao: Person | None, allowed: bool, says: str) -> None:
    decision = rules.check_may_sign_off(actor, iao, mover_id=ALICE.id or 0)
    assert decision.allowed is allowed
    assert says in (decision.reason or "")
    assert rules.signs_off(iao, mover_id=ALICE.id or 0) is (iao is CAROL)


def test_what_leaves_a_source() -> None:
    assert rules.leaves_source(True, "download", 1, None)
    assert rules.leaves_source(True, "copy", 1, 2) and rules.leaves_source(True, "move", 1, 2)
    assert not rules.leaves_source(True, "copy", 1, 1)  # within the source: nothing leaves
    assert not rules.leaves_source(True, "upload", 1, None)
    assert not rules.leaves_source(False, "download", 1, None)


def test_a_signature_lasts_its_hours_and_a_refusal_for_ever() -> None:
    rule, kind = PERSONAL, Classification.PERSONAL

    def check(signed: datetime | None, refused: str | None = None) -> Decision:
        return rules.check_download_signed(kind, rule, signed, refused, NOW, 24)

    assert not check(None).allowed and "signs your movement form" in (check(None).reason or "")
    assert check(NOW - timedelta(hours=23)).allowed
    assert not check(NOW - timedelta(hours=25)).allowed
    assert "refused this movement: no" in (check(None, "no").reason or "")
    assert rules.check_download_signed(Classification.STANDARD, ClassificationRule(), None, None, NOW, 24).allowed


def test_only_the_active_owner_signs_a_report() -> None:
    assert rules.check_may_sign_report(CAROL, CAROL.id, "sales").allowed
    assert not rules.check_may_sign_report(DAVE, CAROL.id, "sales").allowed
    assert "sales has no information asset owner" in (rules.check_may_sign_report(BOB, None, "sales").reason or "")
    assert not rules.check_may_sign_report(ERIN, ERIN.id, "sales").allowed
