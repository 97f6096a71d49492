"""The rules of access reviews (issue #17), said once on plain values like the rest of core/rules/: who reviews a
grant, what a review may change, what a campaign covers, who answers for a grant. No database, no AWS."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from core.domain import AccessLevel, day, format_paths
from core.paths import Paths
from core.rules.decision import ALLOWED, Decision, Person
from core.rules.grants import Held, covers
from core.rules.people import check_not_left, is_active

UNREVIEWED_MODES = ("flag", "revoke")  # GATEHOUSE_REVIEW_UNREVIEWED


def review_named(due_on: date) -> str:
    """An access review as people name it, by its due date, never its number: "access review due 3 Jan 2027"
    (after "the" or "The")."""
    return f"access review due {day(due_on)}"


class ReviewDecision(StrEnum):
    KEEP = "keep"
    CHANGE = "change"
    REVOKE = "revoke"
    REVOKED_UNREVIEWED = "revoked-unreviewed"  # nobody reviewed it by the due date, and unreviewed access ends
    FLAGGED = "flagged"  # nobody reviewed it by the due date: overdue, still to review
    ENDED = "ended"  # the grant had gone (revoked, expired, its holder left) before anyone reviewed it

    @property
    def label(self) -> str:
        return {
            "keep": "Kept",
            "change": "Lowered",
            "revoke": "Revoked",
            "revoked-unreviewed": "Revoked: not reviewed in time",
            "flagged": "Overdue: not reviewed in time",
            "ended": "Ended before review",
        }[self.value]

    @property
    def settled(self) -> bool:
        """Reviewed, or gone: nothing is left to decide (a flagged item still waits for a reviewer)."""
        return self is not ReviewDecision.FLAGGED


class CampaignState(StrEnum):
    OPEN = "open"  # before its due date
    CLOSING = "closing"  # one run is handling its due date (a second run leaves it alone)
    OVERDUE = "overdue"  # the due date passed with grants flagged: still to review
    CLOSED = "closed"  # every grant settled

    @property
    def reviewable(self) -> bool:
        return self.value in REVIEWABLE_STATES


REVIEWABLE_STATES = (CampaignState.OPEN.value, CampaignState.OVERDUE.value)  # a campaign whose grants are reviewed


def in_review_scope(*, source_in_scope: bool, holder_external: bool) -> bool:
    """A campaign covers every live grant of its sources, and every live grant of an external user wherever it is:
    access given to people from outside the organisation is always looked at again."""
    return source_in_scope or holder_external


def check_may_review(
    actor: Person,
    holder_id: int,
    source_name: str,
    *,
    admin_of_source: bool,
    other_admins: bool,
    in_holding_team: bool = False,
) -> Decision:
    """Who reviews a grant: an active admin of its source, never the grant's holder, nor a member of the team that
    holds it (`in_holding_team`); the platform team where nobody else can (an orphaned source, or a grant of the
    source's only active admins). `other_admins`: the source has an active admin besides the holder (or its team)."""
    if not is_active(actor):
        return check_not_left(actor, " and can no longer use Gatehouse")
    if (actor.id is not None and actor.id == holder_id) or in_holding_team:
        return Decision(
            False,
            "Nobody reviews their own access, nor their team's: another admin of the source, or the platform team, "
            "does.",
        )
    if admin_of_source:
        return ALLOWED
    if actor.is_platform_admin and not other_admins:
        return ALLOWED
    if actor.is_platform_admin:
        return Decision(
            False, f"{source_name} has active admins: they review its access (the platform team reviews orphaned ones)."
        )
    return Decision(False, f"Only an active admin of {source_name} reviews its access.")


def check_review_lowers(
    held: Held,
    held_expires: date | None,
    level: AccessLevel,
    paths: Paths,
    expires_on: date | None,
    source_name: str,
) -> Decision:
    """A review decision only lowers access: a level at most the one held, paths within those held, an end date no
    later than the one set (and one, if none was)."""
    if level.rank > held.level.rank:
        return Decision(
            False, f"A review only lowers access: this is {held.level.label.lower()} access, so choose that or lower."
        )
    if not covers(held.level, held.paths, level, paths):
        return Decision(
            False, f"A review only takes paths away: choose paths within {format_paths(held.paths)} of {source_name}."
        )
    if held_expires is not None and (expires_on is None or expires_on > held_expires):
        return Decision(False, f"A review only brings an end date forward: this access ends on {day(held_expires)}.")
    if level == held.level and set(paths) == set(held.paths) and expires_on == held_expires:
        return Decision(False, "That is the access as it is: choose Keep instead.")
    return ALLOWED


def check_may_answer(actor: Person, holder_id: int) -> Decision:
    """Only a grant's holder says whether they still need it."""
    if actor.id is None or actor.id != holder_id:
        return Decision(False, "Only the person who holds this access says whether they still need it.")
    return check_not_left(actor, " and can no longer use Gatehouse")


def check_due_date(due_on: date, today: date) -> Decision:
    if due_on <= today:
        return Decision(False, f"The due date {day(due_on)} is not after today: choose a later date.")
    if (due_on - today).days > 366:
        return Decision(False, "Choose a due date within a year: a review that long is not a review.")
    return ALLOWED
