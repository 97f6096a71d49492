"""core/rules.py on plain values alone: every rule Gatehouse enforces, with no database and no AWS."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import rules
from core.domain import MAX_END_DAYS, AccessLevel, InvalidFields, RequestStatus, UserStatus, day, path_covers

TODAY = date(2026, 12, 2)


@dataclass(frozen=True)
class Person:
    id: int | None
    username: str
    status: UserStatus = UserStatus.ACTIVE
    is_platform_admin: bool = False
    is_external: bool = False


@dataclass(frozen=True)
class Request:
    requester_id: int
    status: RequestStatus
    line_manager_id: int | None = None
    confirmed_by_id: int | None = None


ALICE = Person(1, "alice")
BOB = Person(2, "bob")
CAROL = Person(3, "carol")
DAVE = Person(4, "dave", is_platform_admin=True)
EVE = Person(5, "eve", is_external=True)
ERIN = Person(6, "erin", status=UserStatus.LEFT)


@pytest.mark.parametrize(
    ("admins", "manager", "route"),
    [
        (True, True, RequestStatus.PENDING_ADMIN),
        (True, None, RequestStatus.PENDING_ADMIN),
        (False, True, RequestStatus.PENDING_LINE_MANAGER),
        (False, False, RequestStatus.PENDING_PLATFORM),  # the line manager has left too
        (False, None, RequestStatus.PENDING_PLATFORM),  # no line manager on record
    ],
)
def test_a_request_goes_to_the_admins_else_the_line_manager_else_the_platform_team(
    admins: bool, manager: bool | None, route: RequestStatus
) -> None:
    assert rules.route_request(source_has_active_admins=admins, line_manager_active=manager) is route


def test_who_decides_depends_on_where_the_request_stands() -> None:
    waiting = Request(requester_id=ALICE.id or 0, status=RequestStatus.PENDING_ADMIN)
    assert rules.check_may_decide(BOB, waiting, admin_of_source=True).allowed
    assert not rules.check_may_decide(BOB, waiting, admin_of_source=False).allowed
    assert not rules.check_may_decide(DAVE, waiting, admin_of_source=False).allowed  # the admins' to decide
    assert not rules.check_may_decide(replace(BOB, status=UserStatus.LEFT), waiting, admin_of_source=True).allowed
    own = rules.check_may_decide(ALICE, waiting, admin_of_source=True)
    assert not own.allowed and "their own request" in own.reason

    confirming = Request(ALICE.id or 0, RequestStatus.PENDING_LINE_MANAGER, line_manager_id=CAROL.id)
    assert rules.check_may_decide(CAROL, confirming, admin_of_source=False).allowed
    assert not rules.check_may_decide(BOB, confirming, admin_of_source=True).allowed

    granting = Request(ALICE.id or 0, RequestStatus.PENDING_PLATFORM, confirmed_by_id=DAVE.id)
    assert rules.check_may_decide(DAVE, granting, admin_of_source=False).allowed
    assert not rules.check_not_confirmer(DAVE, granting).allowed  # two people see an orphan's request
    assert rules.check_not_confirmer(replace(DAVE, id=9), granting).allowed

    decided = Request(ALICE.id or 0, RequestStatus.APPROVED)
    assert not rules.check_may_decide(DAVE, decided, admin_of_source=True).allowed


def test_only_open_requests_move_and_open_means_waiting_for_someone() -> None:
    assert set(rules.OPEN) == {s for s in RequestStatus if s.is_open}
    for current in RequestStatus:
        for new in RequestStatus:
            allowed = rules.check_transition(current, new).allowed
            assert allowed == (new in rules.TRANSITIONS.get(current, set()))
            if not current.is_open:
                assert not allowed


@pytest.mark.parametrize(
    ("expires_on", "archived", "holder", "live"),
    [
        (None, None, UserStatus.ACTIVE, True),
        (TODAY, None, UserStatus.ACTIVE, True),  # valid through its end date
        (date(2026, 12, 1), None, UserStatus.ACTIVE, False),
        (None, datetime(2026, 1, 1, tzinfo=UTC), UserStatus.ACTIVE, False),
        (None, None, UserStatus.LEFT, False),
        (None, None, None, True),  # an app's grant
    ],
)
def test_a_live_grant(
    expires_on: date | None, archived: datetime | None, holder: UserStatus | None, live: bool
) -> None:
    assert rules.is_live(expires_on, archived, holder, TODAY) is live


def test_a_path_covers_itself_and_what_is_inside_never_a_sibling_prefix() -> None:
    assert path_covers("/reports", "/reports") and path_covers("/reports", "/reports/2026")
    assert not path_covers("/reports", "/reportsX") and not path_covers("/reports/2026", "/reports")
    assert path_covers("", "/anything")


@given(st.lists(st.sampled_from(["/a", "/a/b", "/ab", "/c"]), max_size=3, unique=True))
def test_access_held_covers_what_is_asked_only_at_a_level_and_paths_as_wide(asked: list[str]) -> None:
    paths = tuple(asked)
    assert rules.covers(AccessLevel.READ_WRITE, (), AccessLevel.READ_ONLY, paths)
    assert not rules.covers(AccessLevel.READ_ONLY, (), AccessLevel.READ_WRITE, paths)
    within = bool(paths) and all(p == "/a" or p.startswith("/a/") for p in paths)
    assert rules.covers(AccessLevel.READ_ONLY, ("/a",), AccessLevel.READ_ONLY, paths) is within


def test_an_approver_grants_no_more_than_was_asked() -> None:
    assert rules.check_level_no_more_than_asked(AccessLevel.READ_WRITE, AccessLevel.READ_ONLY).allowed
    assert not rules.check_level_no_more_than_asked(AccessLevel.READ_WRITE, AccessLevel.ADMIN).allowed
    asked = (AccessLevel.READ_WRITE, ("/a",))
    assert rules.check_paths_within_asked(*asked, ("/a/b",)).allowed
    assert not rules.check_paths_within_asked(*asked, ()).allowed  # the whole bucket
    assert not rules.check_paths_within_asked(*asked, ("/ab",)).allowed
    assert rules.check_paths_within_asked(AccessLevel.READ_ONLY, (), ("/ab",)).allowed  # the whole bucket was asked


def test_an_approval_refuses_every_term_that_is_more_than_asked_each_beside_its_field() -> None:
    today = date(2027, 1, 1)
    asked = (AccessLevel.READ_ONLY, ("/reports",), date(2027, 3, 31))
    with pytest.raises(InvalidFields) as refused:
        rules.approval_terms(
            *asked, AccessLevel.ADMIN, "/models", date(2028, 1, 31), bucket="alpha-pricing-models", today=today
        )
    assert refused.value.problems == {
        "level": "You can grant read only at most: that is what was asked for.",
        "paths": "You can grant only paths within those asked for (/reports): remove the others or narrow them.",
        "until": "The request asks for access until 31 Mar 2027: you can end it sooner, never later.",
    }
    assert str(refused.value).startswith("You can grant read only at most")  # the CLI reads them all, in order
    granted = rules.approval_terms(
        *asked, None, "\ns3://alpha-pricing-models/reports/q1\n", None, bucket="alpha-pricing-models", today=today
    )
    assert granted == (AccessLevel.READ_ONLY, ("/reports/q1",), date(2027, 3, 31))


def test_who_may_hold_administer_and_own_sources() -> None:
    assert rules.check_may_hold(EVE, AccessLevel.READ_WRITE).allowed
    assert "external users cannot be admins" in rules.check_may_hold(EVE, AccessLevel.ADMIN).reason
    assert "has left the organisation" in rules.check_may_hold(ERIN, AccessLevel.READ_ONLY).reason
    assert not rules.check_may_administer(ERIN).allowed and rules.check_may_administer(BOB).allowed
    assert not rules.check_may_own_sources(EVE).allowed and rules.check_may_own_sources(ALICE).allowed
    assert rules.check_not_left(ERIN, " and can no longer use Gatehouse").reason == (
        "erin has left the organisation and can no longer use Gatehouse."
    )


def test_who_sees_and_manages_a_source() -> None:
    assert rules.can_see_source(ALICE, hidden=False, admin_of_it=False)
    assert not rules.can_see_source(ALICE, hidden=True, admin_of_it=False)
    assert rules.can_see_source(ALICE, hidden=True, admin_of_it=True)  # an admin the platform team made for it
    assert rules.can_see_source(DAVE, hidden=True, admin_of_it=False)
    assert rules.check_manages_source(BOB, "alpha-x", admin_of_it=True).allowed
    assert rules.check_manages_source(DAVE, "alpha-x", admin_of_it=False).allowed
    assert not rules.check_manages_source(ALICE, "alpha-x", admin_of_it=False).allowed
    assert not rules.check_manages_source(replace(DAVE, status=UserStatus.LEFT), "alpha-x", admin_of_it=False).allowed


def test_a_source_keeps_an_admin_and_an_end_date_is_after_today() -> None:
    assert not rules.check_keeps_an_admin(["bob"], [], "bob", "alpha-x").allowed
    assert rules.check_keeps_an_admin([], [], "bob", "alpha-x").allowed  # orphaned already: a leaver's grant goes
    team = rules.check_keeps_an_admin(["ana", "bob"], [], "the prisons team", "alpha-x")
    assert team.reason.startswith("The members of the prisons team are the only admins of alpha-x")
    assert rules.check_keeps_an_admin(["bob", "carol"], ["carol"], "bob", "alpha-x").allowed
    assert not rules.check_end_date(TODAY, TODAY).allowed
    assert rules.check_end_date(date(2026, 12, 3), TODAY).allowed and rules.check_end_date(None, TODAY).allowed


def test_an_end_date_lies_at_most_two_years_ahead_wherever_it_is_set() -> None:
    """One limit for a request, an approval, a grant, a change, a review and the CLI: all call check_end_date."""
    latest = TODAY + timedelta(days=MAX_END_DAYS)
    assert rules.check_end_date(latest, TODAY).allowed
    assert not rules.check_end_date(latest + timedelta(days=1), TODAY).allowed
    far = rules.check_end_date(date(9999, 12, 31), TODAY)
    assert not far.allowed
    assert far.reason == (
        f"The end date 31 Dec 9999 is more than two years away: choose one by {day(latest)}, "
        "or leave it empty for access that does not end."
    )
    assert not rules.check_end_date(date.min, TODAY).allowed  # the earliest a date field takes


# --- several grants of one person on one source: levels on separate paths ---------------------------------------

RO, RW = AccessLevel.READ_ONLY, AccessLevel.READ_WRITE


@dataclass(frozen=True)
class Source:
    name: str


FOLDERS = ("/a", "/a/b", "/ab", "/c")
KEYS = ("a/x", "a/b/y", "ab/z", "c/w", "top")


def _level_at(held: list[rules.Held], key: str) -> int:
    """The highest level held over one object's key (0: none)."""
    return max(
        (h.level.rank for h in held if not h.paths or any(key.startswith(p[1:] + "/") for p in h.paths)), default=0
    )


def _separate(held: list[rules.Held]) -> bool:
    spots = [p for h in held for p in h.paths or ("",)]
    return all(not (path_covers(x, y) or path_covers(y, x)) for i, x in enumerate(spots) for y in spots[i + 1 :])


@st.composite
def holdings(draw: st.DrawFn) -> list[rules.Held]:
    if draw(st.booleans()):
        return [rules.Held(draw(st.sampled_from([RO, RW, AccessLevel.ADMIN])), ())]
    chosen: list[str] = []
    for folder in draw(st.lists(st.sampled_from(FOLDERS), max_size=3, unique=True)):
        if not any(path_covers(o, folder) or path_covers(folder, o) for o in chosen):
            chosen.append(folder)
    by_level: dict[AccessLevel, tuple[str, ...]] = {}
    for folder in chosen:
        level = draw(st.sampled_from([RO, RW]))
        by_level[level] = (*by_level.get(level, ()), folder)
    return [rules.Held(level, paths) for level, paths in by_level.items()]


@given(
    holdings(),
    st.sampled_from([RO, RW]),
    st.sampled_from([(), ("/a",), ("/a/b",), ("/ab",), ("/c",), ("/a", "/c"), ("/ab", "/a/b")]),
)
def test_a_grant_beside_others_sets_its_paths_and_leaves_the_rest_as_it_was(
    held: list[rules.Held], level: AccessLevel, paths: tuple[str, ...]
) -> None:
    kept, decision = rules.place_grant(held, level, paths, "ana", "alpha-x")
    if not decision.allowed:
        assert decision.reason.startswith("ana ")
        inside = any(path_covers(old, p) and old != p for h in held for old in h.paths or ("",) for p in paths or ("",))
        assert inside or any(h.level.rank > level.rank for h in held)  # refused only for a reason it gives
        return
    after = [rules.Held(h.level, k) for h, k in zip(held, kept, strict=True) if k is not None]
    after.append(rules.Held(level, paths))
    assert _separate(after), after
    for key in KEYS:
        named = not paths or any(key.startswith(p[1:] + "/") for p in paths)
        assert _level_at(after, key) == (level.rank if named else _level_at(held, key)), key


def test_read_one_path_and_write_another() -> None:
    held = [rules.Held(RO, ("/reference",))]
    kept, decision = rules.place_grant(held, RW, ("/project",), "ana", "alpha-x")
    assert decision.allowed and kept == [("/reference",)]
    kept, decision = rules.place_grant(held, RW, ("/reference",), "ana", "alpha-x")  # raised in place
    assert decision.allowed and kept == [None]
    _, refused = rules.place_grant(held, RW, ("/reference/codes",), "ana", "alpha-x")
    assert refused.reason == (
        "ana already has read only access to /reference, which includes /reference/codes: one person's paths on a "
        "source never overlap, so change that access under Edit instead."
    )
    _, lowering = rules.place_grant([rules.Held(RW, ("/a/b",))], RO, ("/a",), "ana", "alpha-x", asking=True)
    assert lowering.reason.startswith("You have read/write access to /a/b, inside /a: a grant does not lower")
    _, whole = rules.place_grant([rules.Held(RO, ())], RW, ("/a",), "ana", "alpha-x")
    assert "the whole of alpha-x, which includes /a" in whole.reason


def test_what_is_held_together_covers_a_request() -> None:
    held = [rules.Held(RO, ("/reference",)), rules.Held(RW, ("/project",))]
    assert rules.covers_held(held, RO, ("/reference", "/project/sub"))
    assert rules.covers_held(held, RW, ("/project",))
    assert not rules.covers_held(held, RW, ("/reference",))
    assert not rules.covers_held(held, RO, ())  # not the whole bucket
    assert rules.covers_held([rules.Held(RW, ())], RO, ())


def test_a_grant_changed_in_place_may_not_overlap_the_others() -> None:
    others = [rules.Held(RO, ("/reference",))]
    assert rules.check_no_overlap(others, ("/project",), "ana", "alpha-x").allowed
    assert not rules.check_no_overlap(others, ("/reference/2026",), "ana", "alpha-x").allowed
    assert not rules.check_no_overlap(others, (), "ana", "alpha-x").allowed  # the whole bucket holds /reference


def test_reading_one_path_and_writing_another_decides_each_object() -> None:
    access = rules.SourceAccess(Source("alpha-x"), (rules.Held(RO, ("/reference",)), rules.Held(RW, ("/project",))))
    assert access.paths == ("/project", "/reference") and access.write_paths == ("/project",)
    assert rules.check_can_read(access, "reference/codes.csv").allowed
    assert rules.check_can_write(access, "project/new.csv").allowed
    assert rules.check_can_write(access, "reference/codes.csv").reason == (
        "You have read/write access to /project of alpha-x only: reference/codes.csv is read only for you."
    )
    assert not rules.check_can_read(access, "other/f.csv").allowed
    assert not rules.check_can_write(access, "other/f.csv").allowed
    read_only = rules.SourceAccess(Source("alpha-x"), (rules.Held(RO, ()),))
    assert rules.check_can_write(read_only, "f.csv").reason.startswith("You have read-only access to alpha-x")


def test_on_an_archived_source_access_changes_only_by_revoking() -> None:
    assert rules.check_access_may_change("alpha-live", None).allowed
    refused = rules.check_access_may_change("alpha-old", datetime(2026, 11, 1, tzinfo=UTC))
    assert not refused.allowed
    assert refused.reason == "alpha-old is archived: its access can only be revoked now, not granted or changed."


@pytest.mark.parametrize(("who", "made", "allowed"), [(ALICE, 4, True), (ALICE, 5, False), (ALICE, 9, False)])
def test_a_member_creates_at_most_the_quota_of_sources_an_hour(who: Person, made: int, allowed: bool) -> None:
    decision = rules.check_source_quota(who, made, 5)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason.startswith(f"You have created {made} data sources in the last hour")


def test_the_platform_team_has_no_source_quota() -> None:
    assert rules.check_source_quota(DAVE, 50, 5).allowed
    assert not rules.check_source_quota(replace(DAVE, status=UserStatus.LEFT), 50, 5).allowed


def test_a_teams_admin_grant_makes_its_active_internal_members_admins() -> None:
    assert rules.admin_through_team(ALICE)
    assert not rules.admin_through_team(EVE), "an external user is never an admin, through a team either"
    assert not rules.admin_through_team(ERIN), "a leaver administers nothing"


def test_nobody_decides_a_request_made_for_a_team_they_are_in() -> None:
    waiting = Request(requester_id=ALICE.id or 0, status=RequestStatus.PENDING_ADMIN)
    assert rules.check_may_decide(BOB, waiting, admin_of_source=True).allowed
    theirs = rules.check_may_decide(BOB, waiting, admin_of_source=True, of_their_team=True)
    assert not theirs.allowed and "nor one for a team they are in" in theirs.reason


def test_nobody_reviews_a_grant_of_a_team_they_are_in() -> None:
    assert rules.check_may_review(BOB, 0, "alpha-x", admin_of_source=True, other_admins=True).allowed
    refused = rules.check_may_review(BOB, 0, "alpha-x", admin_of_source=True, other_admins=True, in_holding_team=True)
    assert not refused.allowed and "nor their team's" in refused.reason
