"""core/rules/personal.py on plain values: who may be a source's information asset owner, what a classification asks
of access's terms, and when the owner approves after an admin (issue #29). No database, no AWS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from core import rules
from core.config import Settings
from core.domain import AccessLevel, Classification, ClassificationRule, FieldChecks, InvalidFields, UserStatus, day
from core.paths import Paths

TODAY = date(2026, 12, 7)
RULES = Settings().classification_rules  # the defaults: personal_max_days 365
STANDARD, PERSONAL, SPECIAL = Classification.STANDARD, Classification.PERSONAL, Classification.SPECIAL_CATEGORY
SOME = Paths(("/published",))


@dataclass(frozen=True)
class Person:
    id: int | None
    username: str
    status: UserStatus = UserStatus.ACTIVE
    is_platform_admin: bool = False
    is_external: bool = False


CAROL = Person(3, "carol")
XENA = Person(7, "xena", is_external=True)
ERIN = Person(6, "erin", status=UserStatus.LEFT)


# --- check_may_be_iao, check_classification ------------------------------------------------------------------------


def test_an_owner_is_an_active_member_never_an_external_one() -> None:
    assert rules.check_may_be_iao(CAROL).allowed
    left = rules.check_may_be_iao(ERIN)
    assert (
        not left.allowed and left.reason == "erin has left the organisation and cannot be an information asset owner."
    )
    outside = rules.check_may_be_iao(XENA)
    assert not outside.allowed
    assert outside.reason == "xena is an external user: external users cannot be information asset owners."


@pytest.mark.parametrize("kind", [PERSONAL, SPECIAL])
def test_personal_data_names_its_owner_in_one_sentence(kind: Classification) -> None:
    refused = rules.check_classification(kind, None)
    assert not refused.allowed
    assert refused.reason.startswith(f"A source holding {kind.label.lower()} must name its information asset owner")
    assert refused.reason.count(".") == 1
    assert rules.check_classification(kind, CAROL).allowed
    assert rules.check_classification(kind, ERIN).reason == rules.check_may_be_iao(ERIN).reason
    assert not rules.check_classification(kind, XENA).allowed


def test_a_standard_source_needs_no_owner_and_any_it_names_is_checked() -> None:
    assert rules.check_classification(STANDARD, None).allowed
    assert rules.check_classification(STANDARD, CAROL).allowed
    assert not rules.check_classification(STANDARD, XENA).allowed


# --- needs_iao -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approves", "level", "paths", "needed"),
    [
        ("never", AccessLevel.ADMIN, Paths.WHOLE, False),
        ("always", AccessLevel.READ_ONLY, SOME, True),
        ("whole-source", AccessLevel.READ_ONLY, Paths.WHOLE, True),  # the whole source, even read only
        ("whole-source", AccessLevel.READ_WRITE, SOME, True),  # any write
        ("whole-source", AccessLevel.READ_ONLY, SOME, False),  # reading named paths: the admin alone
    ],
)
def test_when_the_owner_approves_after_the_admin(approves: str, level: AccessLevel, paths: Paths, needed: bool) -> None:
    rule = ClassificationRule(iao_approves=approves)  # type: ignore[arg-type]
    assert rules.needs_iao(rule, level, paths) is needed


def test_the_default_rules_ask_the_owner_for_whole_source_or_writing_personal_data_and_all_special_category() -> None:
    assert not rules.needs_iao(RULES[PERSONAL], AccessLevel.READ_ONLY, SOME)
    assert rules.needs_iao(RULES[SPECIAL], AccessLevel.READ_ONLY, SOME)
    assert not rules.needs_iao(RULES[STANDARD], AccessLevel.ADMIN, Paths.WHOLE)


# --- latest_end, check_terms -----------------------------------------------------------------------------------------


def test_the_latest_end_is_max_days_away_or_none() -> None:
    assert rules.latest_end(RULES[PERSONAL], TODAY) == TODAY + timedelta(days=365)
    assert rules.latest_end(ClassificationRule(max_days=30), TODAY) == date(2027, 1, 6)
    assert rules.latest_end(RULES[STANDARD], TODAY) is None


def _terms(kind: Classification, paths: Paths, ends: date | None, rule: ClassificationRule | None = None) -> dict:
    checks = FieldChecks()
    rules.check_terms(kind, rule or RULES[kind], paths, ends, TODAY, checks)
    return checks.problems


def test_standard_data_asks_nothing_of_the_terms() -> None:
    assert _terms(STANDARD, Paths.WHOLE, None) == {}
    assert _terms(STANDARD, Paths.WHOLE, TODAY + timedelta(days=700)) == {}


def test_personal_data_ends_and_at_most_a_year_away() -> None:
    assert _terms(PERSONAL, Paths.WHOLE, None) == {
        "until": "Access to personal data always ends: choose an end date, at most 365 days away."
    }
    latest = TODAY + timedelta(days=365)
    assert _terms(PERSONAL, Paths.WHOLE, latest) == {}
    assert _terms(PERSONAL, Paths.WHOLE, latest + timedelta(days=1)) == {
        "until": f"Access to personal data ends at most 365 days away: choose an end date by {day(latest)}."
    }


def test_an_end_required_without_a_limit_says_no_limit() -> None:
    rule = ClassificationRule(end_required=True)
    assert _terms(PERSONAL, SOME, None, rule) == {"until": "Access to personal data always ends: choose an end date."}
    assert _terms(PERSONAL, SOME, TODAY + timedelta(days=3000), rule) == {}


def test_a_limit_without_an_end_required_checks_only_a_date_given() -> None:
    rule = ClassificationRule(max_days=10)
    assert _terms(PERSONAL, SOME, None, rule) == {}
    assert set(_terms(PERSONAL, SOME, TODAY + timedelta(days=11), rule)) == {"until"}


def test_special_category_data_is_to_named_paths_and_both_fields_are_said_at_once() -> None:
    problems = _terms(SPECIAL, Paths.WHOLE, None)
    assert set(problems) == {"until", "paths"}
    assert problems["paths"] == (
        "Access to special category data is to named paths, never the whole source: list the paths you need."
    )
    assert _terms(SPECIAL, SOME, TODAY + timedelta(days=30)) == {}


def test_a_field_already_refused_keeps_its_first_problem_and_the_checks_refuse_together() -> None:
    checks = FieldChecks()
    checks.problems["until"] = "The end date must be after today."
    rules.check_terms(PERSONAL, RULES[PERSONAL], Paths.WHOLE, None, TODAY, checks)
    assert checks.problems == {"until": "The end date must be after today."}
    with pytest.raises(InvalidFields) as refused:
        checks.enforce()
    assert refused.value.problems == {"until": "The end date must be after today."}
