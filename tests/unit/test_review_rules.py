"""The access reviews' rules on plain values (core/rules/reviews.py): who reviews, what a review may change, what a
campaign covers, who answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from core.domain import AccessLevel, UserStatus
from core.rules import Held
from core.rules.reviews import (
    CampaignState,
    ReviewDecision,
    check_due_date,
    check_may_answer,
    check_may_review,
    check_review_lowers,
    in_review_scope,
)

RO, RW, ADMIN = AccessLevel.READ_ONLY, AccessLevel.READ_WRITE, AccessLevel.ADMIN
TODAY = date(2026, 12, 3)


@dataclass
class Someone:
    id: int | None
    username: str = "someone"
    status: UserStatus = UserStatus.ACTIVE
    is_platform_admin: bool = False
    is_external: bool = False


@pytest.mark.parametrize(
    ("actor", "holder", "admin", "others", "allowed"),
    [
        (Someone(1), 2, True, True, True),  # an admin reviews another's grant
        (Someone(1), 1, True, True, False),  # never their own
        (Someone(1), 2, False, True, False),  # not an admin
        (Someone(1, is_platform_admin=True), 2, False, True, False),  # the source has admins: theirs to review
        (Someone(1, is_platform_admin=True), 2, False, False, True),  # orphaned, or its only admin's grant
        (Someone(1, is_platform_admin=True), 1, False, False, False),  # the platform team's own grant: still own
        (Someone(1, status=UserStatus.LEFT), 2, True, True, False),  # someone who left does nothing
    ],
)
def test_who_reviews(actor: Someone, holder: int, admin: bool, others: bool, allowed: bool) -> None:
    decision = check_may_review(actor, holder, "alpha-x", admin_of_source=admin, other_admins=others)
    assert decision.allowed is allowed
    assert allowed or (decision.reason.endswith(".") and "\n" not in decision.reason)


@pytest.mark.parametrize(
    ("held", "ends", "level", "paths", "until", "reason"),
    [
        (Held(RW, ()), None, RO, (), None, ""),
        (Held(RW, ()), None, RW, ("/a",), None, ""),  # fewer paths: the whole bucket to one path
        (Held(RW, ("/a", "/b")), None, RW, ("/a",), None, ""),
        (Held(RW, ("/a",)), None, RW, ("/a/deeper",), None, ""),
        (Held(RO, ()), None, RO, (), TODAY, ""),  # an end date where there was none
        (Held(RO, ()), TODAY, RO, (), date(2026, 12, 1), ""),  # an earlier one
        (Held(RO, ()), None, RW, (), None, "A review only lowers access: this is read only access"),
        (Held(RW, ("/a",)), None, RW, ("/b",), None, "A review only takes paths away: choose paths within /a"),
        (Held(RW, ("/a",)), None, RW, (), None, "A review only takes paths away"),  # the whole bucket is more
        (Held(RO, ()), TODAY, RO, (), None, "A review only brings an end date forward: this access ends on 3 Dec"),
        (Held(RO, ()), TODAY, RO, (), date(2027, 1, 1), "A review only brings an end date forward"),
        (Held(RO, ("/a",)), None, RO, ("/a",), None, "That is the access as it is: choose Keep instead."),
    ],
)
def test_a_review_only_lowers(
    held: Held, ends: date | None, level: AccessLevel, paths: tuple[str, ...], until: date | None, reason: str
) -> None:
    decision = check_review_lowers(held, ends, level, paths, until, "alpha-x")
    assert decision.allowed is (not reason)
    assert decision.reason.startswith(reason)


def test_external_users_grants_are_always_in_scope() -> None:
    assert in_review_scope(source_in_scope=True, holder_external=False)
    assert in_review_scope(source_in_scope=False, holder_external=True)
    assert not in_review_scope(source_in_scope=False, holder_external=False)


def test_only_the_holder_answers_and_due_dates_are_ahead() -> None:
    assert check_may_answer(Someone(3), 3).allowed
    assert (
        check_may_answer(Someone(3), 4).reason
        == "Only the person who holds this access says whether they still need it."
    )
    assert not check_may_answer(Someone(3, status=UserStatus.LEFT), 3).allowed
    assert check_due_date(date(2026, 12, 4), TODAY).allowed
    assert not check_due_date(TODAY, TODAY).allowed
    assert not check_due_date(date(2028, 1, 1), TODAY).allowed


def test_what_is_settled_and_what_can_still_be_reviewed() -> None:
    assert [d for d in ReviewDecision if not d.settled] == [ReviewDecision.FLAGGED]
    assert [s for s in CampaignState if s.reviewable] == [CampaignState.OPEN, CampaignState.OVERDUE]
