"""Personal data (issue #29): what a source's classification asks of access to it, who may be its information asset
owner (IAO), when the IAO approves after an admin, and what data leaving it needs. The rules of each classification
are settings (`config.ClassificationRule`, `Settings.classification_rules`); these functions read them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.domain import AccessLevel, Classification, ClassificationRule, FieldChecks, InvalidInput, day
from core.paths import Paths
from core.rules.decision import ALLOWED, Decision, Person
from core.rules.people import is_active


def check_may_be_iao(person: Person) -> Decision:
    """An information asset owner is an active member, never an external one: they answer for the data."""
    if not is_active(person):
        return Decision(False, f"{person.username} has left the organisation and cannot be an information asset owner.")
    if person.is_external:
        return Decision(
            False, f"{person.username} is an external user: external users cannot be information asset owners."
        )
    return ALLOWED


def check_classification(classification: Classification, iao: Person | None) -> Decision:
    """A source holding personal data names its information asset owner; one that does not, names none."""
    if classification.is_personal and iao is None:
        return Decision(
            False,
            f"A source holding {classification.label.lower()} must name its information asset owner: give the "
            "username of an active member who answers for it.",
        )
    if iao is None:
        return ALLOWED
    return check_may_be_iao(iao)


def needs_iao(rule: ClassificationRule, level: AccessLevel, paths: Paths) -> bool:
    """Whether the information asset owner approves after the admin: always, never, or (`whole-source`) for a grant
    of the whole source at any level, even read only, and for any grant that writes."""
    if rule.iao_approves == "always":
        return True
    if rule.iao_approves == "whole-source":
        return not paths or level is not AccessLevel.READ_ONLY
    return False


def latest_end(rule: ClassificationRule, today: date) -> date | None:
    """The furthest end date access to such a source may have (None: as far as any access may)."""
    return None if rule.max_days is None else today + timedelta(days=rule.max_days)


def check_terms(
    classification: Classification,
    rule: ClassificationRule,
    paths: Paths,
    expires_on: date | None,
    today: date,
    checks: FieldChecks,
) -> None:
    """What the classification asks of access's terms (a request, an approval, a grant, a change, an extension),
    each beside its field ("paths", "until") in `checks`: an end date, and not too far; named paths."""
    what = classification.label.lower()
    with checks.on("until"):
        if rule.end_required and expires_on is None:
            raise InvalidInput(
                f"Access to {what} always ends: choose an end date"
                + (f", at most {rule.max_days} days away." if rule.max_days else ".")
            )
        latest = latest_end(rule, today)
        if expires_on is not None and latest is not None and expires_on > latest:
            raise InvalidInput(
                f"Access to {what} ends at most {rule.max_days} days away: choose an end date by {day(latest)}."
            )
    with checks.on("paths"):
        if rule.paths_required and not paths:
            raise InvalidInput(f"Access to {what} is to named paths, never the whole source: list the paths you need.")


def rules_in_words(classification: Classification, rule: ClassificationRule) -> list[str]:
    """What a requester is told before sending (the request form), one sentence a rule."""
    said: list[str] = []
    if rule.end_required:
        said.append(
            "Access ends: an end date is required" + (f", at most {rule.max_days} days away." if rule.max_days else ".")
        )
    if rule.paths_required:
        said.append("Access is to named paths only, never the whole source.")
    if rule.iao_approves == "always":
        said.append("After an admin approves, the information asset owner approves too.")
    elif rule.iao_approves == "whole-source":
        said.append(
            "After an admin approves, the information asset owner approves too for the whole source (even read only) "
            "and for any write access."
        )
    if rule.signoff_to_leave:
        said.append("Data leaves it (download, copy) only once the information asset owner signed the movement form.")
    return said


def iao_may_decide(iao: Person | None, *, requester_id: int, admin_approver_id: int | None) -> bool:
    """Whether the information asset owner takes their step themselves: there is one, who may be one (active, never
    an external user: `check_may_be_iao`), who neither asked nor approved first as admin (two people see every grant
    of personal data). Where not, the platform team takes it."""
    return (
        iao is not None
        and check_may_be_iao(iao).allowed
        and iao.id != requester_id
        and (admin_approver_id is None or iao.id != admin_approver_id)
    )


def check_may_act_as_iao(
    actor: Person, iao: Person | None, *, requester_id: int, admin_approver_id: int | None
) -> Decision:
    """Who takes the information asset owner's step: the owner (`iao_may_decide`), else the platform team; never the
    requester, nor the admin who approved first."""
    if actor.id == requester_id:
        return Decision(False, "Nobody decides their own request: another must.")
    if admin_approver_id is not None and actor.id == admin_approver_id:
        return Decision(
            False,
            "You approved this request as an admin: the information asset owner (or, where they cannot, the platform "
            "team) approves next.",
        )
    if iao_may_decide(iao, requester_id=requester_id, admin_approver_id=admin_approver_id):
        if iao is not None and actor.id == iao.id:
            return ALLOWED
        return Decision(
            False, f"Only the source's information asset owner, {iao.username if iao else ''}, decides this step."
        )
    if actor.is_platform_admin and is_active(actor):
        return ALLOWED
    return Decision(
        False, "The information asset owner cannot decide this request: the platform team decides it in their place."
    )


def check_iao_not_first(actor: Person, iao_id: int | None) -> Decision:
    """The information asset owner does not approve a request as its admin when their own approval follows:
    another admin approves first, so that two people see it."""
    if iao_id is not None and actor.id == iao_id:
        return Decision(
            False,
            "You are this source's information asset owner and approve after an admin: another admin (or the platform "
            "team) approves first.",
        )
    return ALLOWED


def is_stale(last_moved: datetime, now: datetime, max_age_days: int) -> bool:
    """A request nobody moved (decided, asked about, answered) for `max_age_days` closes."""
    return now - last_moved >= timedelta(days=max_age_days)


def check_download_signed(
    classification: Classification,
    rule: ClassificationRule,
    signed_off_at: datetime | None,
    refused: str | None,
    now: datetime,
    hours: int,
) -> Decision:
    """Data leaves a personal-data source only under a movement form its information asset owner signed, for
    `hours` after the signature."""
    if not rule.signoff_to_leave:
        return ALLOWED
    if refused:
        return Decision(False, f"The information asset owner refused this movement: {refused}")
    if signed_off_at is None:
        return Decision(
            False,
            f"This source holds {classification.label.lower()}: the information asset owner signs your movement form "
            "before any data leaves it. You are told when it is signed.",
        )
    if now - signed_off_at > timedelta(hours=hours):
        return Decision(
            False,
            f"The information asset owner's sign-off of this movement was for {hours} hours and has passed: fill "
            "in a new form.",
        )
    return ALLOWED


def check_may_sign_off(actor: Person, iao: Person | None, *, mover_id: int) -> Decision:
    """Who signs off data leaving a personal-data source: its information asset owner, never the person moving the
    data. Where the owner is the mover, has left or is missing, the platform team signs in their place (as
    `check_may_act_as_iao` has it for a request)."""
    if actor.id == mover_id:
        return Decision(False, "Nobody signs off their own movement of data: another must.")
    if iao is not None and is_active(iao) and iao.id != mover_id:
        if actor.id == iao.id:
            return ALLOWED
        return Decision(False, f"Only the source's information asset owner, {iao.username}, signs off this movement.")
    if actor.is_platform_admin and is_active(actor):
        return ALLOWED
    return Decision(
        False, "The information asset owner cannot sign off this movement: the platform team signs it in their place."
    )


def signs_off(iao: Person | None, *, mover_id: int) -> bool:
    """Whether the information asset owner signs off a movement themselves (else the platform team does)."""
    return iao is not None and is_active(iao) and iao.id != mover_id


def check_may_sign_report(actor: Person, iao_id: int | None, source: str) -> Decision:
    """A source's access review report is signed by its information asset owner, active, and nobody else."""
    if iao_id is None:
        return Decision(False, f"{source} has no information asset owner: its access review report is not signed.")
    if actor.id != iao_id:
        return Decision(False, f"Only the information asset owner of {source} signs its access review report.")
    if not is_active(actor):
        return Decision(False, "You have left the organisation and can no longer sign reports.")
    return ALLOWED


def leaves_source(signoff_to_leave: bool, kind: str, source_id: int | None, target_id: int | None) -> bool:
    """Whether a movement takes data out of a source whose rule asks for a signed form: a download, or a copy or
    move to another source (within the source, nothing leaves)."""
    if not signoff_to_leave or kind not in ("download", "copy", "move"):
        return False
    return target_id is None or target_id != source_id
