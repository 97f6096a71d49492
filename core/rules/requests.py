"""Access requests: the steps a request may take, where it is routed, who may decide it and what they may grant."""

from __future__ import annotations

from datetime import date

from core.domain import (
    AccessLevel,
    Classification,
    ClassificationRule,
    FieldChecks,
    InvalidInput,
    RequestStatus,
    day,
    format_paths,
)
from core.paths import Paths
from core.rules.decision import ALLOWED, Decision, Person, Request
from core.rules.grants import check_end_date, covers
from core.rules.people import check_platform_admin, is_active
from core.rules.personal import check_may_act_as_iao, check_terms

# --- requests --------------------------------------------------------------------------------------------------


def asked_for(level: AccessLevel, source: str, paths: Paths) -> str:
    """What a request asks for, as people name it (never by its number): read only access to alpha-ab (/reports)."""
    return f"{level.label.lower()} access to {source} ({format_paths(paths)})"


# A request moves only along these steps; a decided request is never decided again. One waiting for admins goes on to
# the requester's line manager or the platform team when its source's last admin leaves (`route_request` again).
_STOPS = {RequestStatus.REFUSED, RequestStatus.WITHDRAWN, RequestStatus.CLOSED}  # every open request may end so
TRANSITIONS: dict[RequestStatus, set[RequestStatus]] = {
    RequestStatus.PENDING_ADMIN: _STOPS
    | {
        RequestStatus.APPROVED,
        RequestStatus.PENDING_LINE_MANAGER,
        RequestStatus.PENDING_PLATFORM,
        RequestStatus.PENDING_IAO,  # personal data: the admin approved, the information asset owner next
        RequestStatus.PENDING_ANSWER,  # a decider asked the requester a question
    },
    RequestStatus.PENDING_LINE_MANAGER: _STOPS | {RequestStatus.PENDING_PLATFORM, RequestStatus.PENDING_ANSWER},
    RequestStatus.PENDING_PLATFORM: _STOPS
    | {RequestStatus.APPROVED, RequestStatus.PENDING_IAO, RequestStatus.PENDING_ANSWER},
    RequestStatus.PENDING_IAO: _STOPS | {RequestStatus.APPROVED, RequestStatus.PENDING_ANSWER},
    # answered: back to where it stood when the question was asked (`RequestQuestion.returns_to`)
    RequestStatus.PENDING_ANSWER: _STOPS
    | {
        RequestStatus.PENDING_ADMIN,
        RequestStatus.PENDING_LINE_MANAGER,
        RequestStatus.PENDING_PLATFORM,
        RequestStatus.PENDING_IAO,
    },
}
OPEN = tuple(TRANSITIONS)  # a request can still move: it waits for someone


def check_transition(current: RequestStatus, new: RequestStatus) -> Decision:
    if new in TRANSITIONS.get(current, set()):
        return ALLOWED
    if not current.is_open:
        return Decision(False, f"This request is already {current.value.replace('-', ' ')}: it cannot change now.")
    return Decision(False, f"A request {current.value.replace('-', ' ')} cannot become {new.value.replace('-', ' ')}.")


def check_decision_step(current: RequestStatus, new: RequestStatus) -> Decision:
    """The two steps a decider could take out of turn: granting before the line manager confirmed an orphaned
    source's request, and confirming one that waits for no confirmation."""
    if new is RequestStatus.APPROVED and current is RequestStatus.PENDING_LINE_MANAGER:
        return Decision(False, "The requester's line manager must confirm this request before it can be granted.")
    if new is RequestStatus.PENDING_PLATFORM and current is not RequestStatus.PENDING_LINE_MANAGER:
        return Decision(False, "This request does not wait for a line manager's confirmation.")
    return ALLOWED


def check_withdrawer(actor: Person, request: Request) -> Decision:
    if actor.id != request.requester_id:
        return Decision(False, "Only the person who asked can withdraw a request.")
    return ALLOWED


def check_answerer(actor: Person, request: Request) -> Decision:
    """A question about a request is the requester's to answer, while the request waits for the answer."""
    if actor.id != request.requester_id:
        return Decision(False, "Only the person who asked for access answers a question about their request.")
    if RequestStatus(request.status) is not RequestStatus.PENDING_ANSWER:
        return Decision(False, "This request waits for no answer: it has moved on since.")
    return ALLOWED


def route_request(*, source_has_active_admins: bool, line_manager_active: bool | None) -> RequestStatus:
    """Who a new request waits for: the source's active admins; for an orphaned source (every admin has left), the
    requester's line manager first, then the platform team; with no line manager on record, the platform team.
    `line_manager_active` is None when the requester has no line manager."""
    if source_has_active_admins:
        return RequestStatus.PENDING_ADMIN
    if line_manager_active:
        return RequestStatus.PENDING_LINE_MANAGER
    return RequestStatus.PENDING_PLATFORM


def check_not_own_request(actor: Person, request: Request, *, of_their_team: bool = False) -> Decision:
    """Nobody decides their own request, nor one made for a team they are in (`of_their_team`): its access would be
    theirs."""
    if actor.id is not None and actor.id == request.requester_id:
        return Decision(False, "Nobody decides their own request: another admin, or the platform team, must.")
    if of_their_team:
        return Decision(
            False,
            "Nobody decides their own request, nor one for a team they are in: another admin, or the platform team, "
            "must.",
        )
    return ALLOWED


def check_may_decide(
    actor: Person,
    request: Request,
    *,
    admin_of_source: bool,
    of_their_team: bool = False,
    iao: Person | None = None,
) -> Decision:
    """Who decides depends on where the request stands; nobody decides their own, nor their team's
    (`of_their_team`: the request is made for a team the actor is in). A request waiting for the information asset
    owner (`iao`, the source's) is theirs, or the platform team's where they cannot (`rules.check_may_act_as_iao`);
    one waiting for the requester's answer is nobody's to decide until they answer."""
    own = check_not_own_request(actor, request, of_their_team=of_their_team)
    if not own.allowed:
        return own
    status = RequestStatus(request.status)
    if status is RequestStatus.PENDING_ADMIN:
        if admin_of_source and is_active(actor):
            return ALLOWED
        return Decision(False, "Only an active admin of the source decides this request.")
    if status is RequestStatus.PENDING_LINE_MANAGER:
        if actor.id == request.line_manager_id and is_active(actor):
            return ALLOWED
        return Decision(False, "Only the requester's line manager confirms this request.")
    if status is RequestStatus.PENDING_PLATFORM:
        return check_platform_admin(actor)
    if status is RequestStatus.PENDING_IAO:
        return check_may_act_as_iao(
            actor, iao, requester_id=request.requester_id, admin_approver_id=request.admin_approved_by_id
        )
    if status is RequestStatus.PENDING_ANSWER:
        return Decision(False, "This request waits for the requester's answer to a question: it returns to you then.")
    return Decision(False, f"This request is already {status.value.replace('-', ' ')}.")


def check_not_confirmer(actor: Person, request: Request) -> Decision:
    """An orphaned source's request is confirmed by one person and granted by another, so that two people see it:
    a line manager in the platform team does not grant what they confirmed."""
    if request.confirmed_by_id is not None and request.confirmed_by_id == actor.id:
        return Decision(
            False,
            "You confirmed this request as the requester's line manager: another member of the platform team must "
            "grant it.",
        )
    return ALLOWED


def check_level_no_more_than_asked(asked: AccessLevel, level: AccessLevel, approved_by: str | None = None) -> Decision:
    """An approver may grant a lower level than asked, never a higher one; at the information asset owner's step
    (`approved_by`: the admin who approved first), than that admin approved."""
    if level.rank > asked.rank:
        bound = f"what {approved_by} approved" if approved_by else "what was asked for"
        return Decision(False, f"You can grant {asked.label.lower()} at most: that is {bound}.")
    return ALLOWED


def check_paths_within_asked(
    asked_level: AccessLevel, asked: Paths, paths: Paths, approved_by: str | None = None
) -> Decision:
    """An approver may grant fewer or narrower paths than asked (or than the first approver approved), never others
    (nor the whole bucket)."""
    if asked and not covers(asked_level, asked, asked_level, paths):
        bound = f"{approved_by} approved" if approved_by else "asked for"
        return Decision(
            False,
            f"You can grant only paths within those {bound} ({format_paths(asked)}): "
            + ("the whole bucket is more than that." if not paths else "remove the others or narrow them."),
        )
    return ALLOWED


def check_ends_no_later_than_asked(
    asked: date | None, granted: date | None, approved_by: str | None = None
) -> Decision:
    """An approver may end access sooner than asked (or than the first approver approved), never later (nor never,
    when an end was asked for)."""
    if asked is not None and (granted is None or granted > asked):
        said = f"{approved_by} approved access until" if approved_by else "The request asks for access until"
        return Decision(False, f"{said} {day(asked)}: you can end it sooner, never later.")
    return ALLOWED


def approval_terms(
    asked_level: AccessLevel,
    asked_paths: Paths,
    asked_end: date | None,
    level: AccessLevel | None,
    paths: Paths | str | None,
    expires_on: date | None,
    *,
    bucket: str,
    today: date,
    checks: FieldChecks | None = None,
    classification: Classification = Classification.STANDARD,
    rule: ClassificationRule | None = None,
    approved_by: str | None = None,
) -> tuple[AccessLevel, Paths, date | None]:
    """What an approval grants: the approver's level, paths (a `Paths`, or the text typed in the source `bucket`'s
    paths field, read here beside the other terms) and end date, each as asked when not given; refused
    (InvalidFields: a sentence for each of "level", "paths" and "until" that is more than asked, ends later or is no
    path at all, all at once, beside any already in `checks`). The approval and its preview both decide here, so the
    preview never says what the approval would not do. What the source's `classification` asks (its `rule`:
    `rules.check_terms`) is refused beside the same fields, at each step of an approval. At the information asset
    owner's step the bounds are what the admin `approved_by` approved, and the sentences say so."""
    checks = checks or FieldChecks()
    granted_level, granted_paths = level or asked_level, asked_paths
    ends = expires_on if expires_on is not None else asked_end
    with checks.on("level"):
        check_level_no_more_than_asked(asked_level, granted_level, approved_by).enforce(InvalidInput)
    with checks.on("paths"):
        granted_paths = asked_paths if paths is None else Paths.given(paths, bucket)
        check_paths_within_asked(asked_level, asked_paths, granted_paths, approved_by).enforce(InvalidInput)
    with checks.on("until"):
        check_end_date(ends, today).enforce(InvalidInput)
        check_ends_no_later_than_asked(asked_end, ends, approved_by).enforce(InvalidInput)
    if rule is not None:
        check_terms(classification, rule, granted_paths, ends, today, checks)
    checks.enforce()
    return granted_level, granted_paths, ends


MIN_BUSINESS_NEED = 20


def check_business_need(need: str) -> Decision:
    """Admins decide on the business need, so it must say something: a sentence, not a word or a placeholder."""
    words = [w for w in need.split() if any(c.isalpha() for c in w)]
    if len(need) < MIN_BUSINESS_NEED or len(words) < 4 or len(set(need.lower()) - set(" .,-")) < 5:
        return Decision(
            False,
            f"Describe the business need in a sentence (at least {MIN_BUSINESS_NEED} characters and a few words): "
            "the admins decide on it.",
        )
    return ALLOWED


def check_refusal_reason(reason: str) -> Decision:
    if len(reason) < 5:
        return Decision(False, "Give the requester a reason for the refusal (a few words at least).")
    return ALLOWED
