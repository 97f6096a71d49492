"""Every rule Gatehouse enforces, said once, on plain values: no database, no AWS, no Streamlit.

A rule is a function that answers allowed-or-why (`Decision`) or a plain fact (`route_request`, `is_live`). The use
cases in core/actions/ load what a rule needs and enforce it; the SQL that mirrors a rule for reads (a live grant, a
source someone may see, an open request) is written once in core/queries.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from core.domain import (
    AccessLevel,
    GatehouseError,
    NotAllowed,
    RequestStatus,
    UserStatus,
    format_paths,
    path_covers,
    shown,
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def enforce(self, error: type[GatehouseError] = NotAllowed) -> None:
        if not self.allowed:
            raise error(self.reason)


ALLOWED = Decision(True)


class Person(Protocol):
    """What the rules read of a platform member (a `User` row, or any value with these fields)."""

    id: int | None
    username: str
    status: UserStatus
    is_platform_admin: bool
    is_external: bool


class Request(Protocol):
    """What the rules read of an access request."""

    requester_id: int
    line_manager_id: int | None
    confirmed_by_id: int | None
    status: RequestStatus


# --- people ----------------------------------------------------------------------------------------------------


def is_active(person: Person) -> bool:
    return person.status == UserStatus.ACTIVE


def check_not_left(person: Person, consequence: str) -> Decision:
    """Someone who has left takes no part in anything: as actor, grantee, admin or line manager. `consequence`
    ends the sentence ("and can no longer use Gatehouse")."""
    if is_active(person):
        return ALLOWED
    return Decision(False, f"{person.username} has left the organisation{consequence}.")


def check_platform_admin(actor: Person) -> Decision:
    if actor.is_platform_admin and is_active(actor):
        return ALLOWED
    return Decision(False, "Only the platform team can do this.")


def check_may_administer(person: Person) -> Decision:
    """Who can be an admin of a source: a current member who is not an external user."""
    left = check_not_left(person, " and cannot be an admin")
    if not left.allowed:
        return left
    if person.is_external:
        return Decision(False, f"{person.username} is an external user: external users cannot be admins of a source.")
    return ALLOWED


def check_may_hold(person: Person, level: AccessLevel) -> Decision:
    """Who can be given access at a level: current members only, and an external user never as admin."""
    left = check_not_left(person, ": only current platform members get access")
    if not left.allowed or level is not AccessLevel.ADMIN:
        return left
    return check_may_administer(person)


def check_may_own_sources(actor: Person) -> Decision:
    """Creating a source, or asking for a webapp source, makes the actor its admin: never an external user."""
    if actor.is_external:
        return Decision(False, "External users cannot create data sources or ask for them: they cannot be admins.")
    return ALLOWED


# --- sources ---------------------------------------------------------------------------------------------------


def can_see_source(actor: Person, *, hidden: bool, admin_of_it: bool) -> bool:
    """A hidden source (the data engineers') exists only for the platform team and for the admins made for it."""
    return not hidden or actor.is_platform_admin or admin_of_it


def check_manages_source(actor: Person, source_name: str, *, admin_of_it: bool) -> Decision:
    """A source's active admins manage its access; the platform team may manage any source."""
    if check_platform_admin(actor).allowed or (admin_of_it and is_active(actor)):
        return ALLOWED
    return Decision(False, f"Only an admin of {source_name} can manage its access.")


# --- grants ----------------------------------------------------------------------------------------------------


def is_live(expires_on: date | None, archived_at: datetime | None, holder: UserStatus | None, today: date) -> bool:
    """A grant IAM must reflect: on a source not archived, not past its end date (valid through that day), held by
    someone who has not left (or by an app: `holder` None)."""
    return (
        archived_at is None
        and (expires_on is None or expires_on >= today)
        and (holder is None or holder == UserStatus.ACTIVE)
    )


def covers(held_level: AccessLevel, held_paths: tuple[str, ...], level: AccessLevel, paths: tuple[str, ...]) -> bool:
    """Does access held (a level on paths, none = the whole bucket) already give everything asked for?"""
    if held_level.rank < level.rank:
        return False
    if not held_paths:
        return True
    return bool(paths) and all(any(path_covers(h, p) for h in held_paths) for p in paths)


@dataclass(frozen=True)
class Held:
    """One grant a person holds on a source: a level on paths (none = the whole bucket). A person may hold several on
    one source, of different levels, on paths that never overlap."""

    level: AccessLevel
    paths: tuple[str, ...]

    def where(self, source_name: str) -> str:
        return format_paths(self.paths) if self.paths else f"the whole of {source_name}"


def covers_held(held: Sequence[Held], level: AccessLevel, paths: tuple[str, ...]) -> bool:
    """Does what is held, taken together, already give everything asked for (each path, at the level or above)?"""
    if not paths:
        return any(covers(h.level, h.paths, level, ()) for h in held)
    return all(any(covers(h.level, h.paths, level, (path,)) for h in held) for path in paths)


def _where(path: str, source_name: str) -> str:
    return path or f"the whole of {source_name}"


def place_grant(
    held: Sequence[Held],
    level: AccessLevel,
    paths: tuple[str, ...],
    username: str,
    source_name: str,
    *,
    asking: bool = False,
) -> tuple[list[tuple[str, ...] | None], Decision]:
    """Where a new grant of `level` on `paths` goes among the grants a person holds on one source.

    A held path equal to a new one, or inside one, is replaced by the new grant (that is how a level is changed, or a
    grant widened); the rest is kept. Refused: a new path inside a held one (paths never overlap: change the held
    grant under Edit instead), and a new path around a held one of a higher level (a grant never lowers what it does
    not name). Returns, index by index with `held`, the paths each held grant keeps (None: it goes entirely).
    `asking`: the person asks for it themselves (a request), and is told so."""
    who, has = ("You", "have") if asking else (username, "has")
    remedy = "ask an admin of the source to change it" if asking else "change that access under Edit"
    new = paths or ("",)
    kept: list[tuple[str, ...] | None] = []
    for grant in held:
        remaining: list[str] = []
        for old in grant.paths or ("",):
            around = [p for p in new if p == old or path_covers(p, old)]
            inside = [p for p in new if p != old and path_covers(old, p)]
            if inside:
                return [], Decision(
                    False,
                    f"{who} already {has} {grant.level.label.lower()} access to {_where(old, source_name)}, which "
                    f"includes {_where(inside[0], source_name)}: one person's paths on a source never overlap, so "
                    f"{remedy} instead.",
                )
            if around and around[0] != old and grant.level.rank > level.rank:
                return [], Decision(
                    False,
                    f"{who} {has} {grant.level.label.lower()} access to {_where(old, source_name)}, inside "
                    f"{_where(around[0], source_name)}: a grant does not lower access it does not name, so "
                    f"{remedy} first.",
                )
            if not around:
                remaining.append(old)
        kept.append(tuple(remaining) if remaining and grant.paths else None)
    return kept, ALLOWED


def check_no_overlap(others: Sequence[Held], paths: tuple[str, ...], username: str, source_name: str) -> Decision:
    """A grant changed in place may not come to overlap the person's other grants on the source."""
    for grant in others:
        for old in grant.paths or ("",):
            for path in paths or ("",):
                if path_covers(old, path) or path_covers(path, old):
                    return Decision(
                        False,
                        f"{username} also has {grant.level.label.lower()} access to {_where(old, source_name)}, "
                        f"which overlaps {_where(path, source_name)}: one person's paths on a source never overlap.",
                    )
    return ALLOWED


def check_end_date(expires_on: date | None, today: date) -> Decision:
    if expires_on is not None and expires_on <= today:
        return Decision(False, f"The end date {expires_on:%d %B %Y} has passed: choose a date after today.")
    return ALLOWED


def check_keeps_an_admin(active_admins: list[str], username: str, source_name: str) -> Decision:
    """A source is never left without an admin by taking admin from its last one."""
    if active_admins == [username]:
        return Decision(
            False,
            f"{username} is the only admin of {source_name}: make someone else an admin first, "
            "or the source would be left without one.",
        )
    return ALLOWED


# --- requests --------------------------------------------------------------------------------------------------

# A request moves only along these steps; a decided request is never decided again.
TRANSITIONS: dict[RequestStatus, set[RequestStatus]] = {
    RequestStatus.PENDING_ADMIN: {RequestStatus.APPROVED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN},
    RequestStatus.PENDING_LINE_MANAGER: {
        RequestStatus.PENDING_PLATFORM,
        RequestStatus.REFUSED,
        RequestStatus.WITHDRAWN,
    },
    RequestStatus.PENDING_PLATFORM: {RequestStatus.APPROVED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN},
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


def route_request(*, source_has_active_admins: bool, line_manager_active: bool | None) -> RequestStatus:
    """Who a new request waits for: the source's active admins; for an orphaned source (every admin has left), the
    requester's line manager first, then the platform team; with no line manager on record, the platform team.
    `line_manager_active` is None when the requester has no line manager."""
    if source_has_active_admins:
        return RequestStatus.PENDING_ADMIN
    if line_manager_active:
        return RequestStatus.PENDING_LINE_MANAGER
    return RequestStatus.PENDING_PLATFORM


def check_not_own_request(actor: Person, request: Request) -> Decision:
    if actor.id is not None and actor.id == request.requester_id:
        return Decision(False, "Nobody decides their own request: another admin, or the platform team, must.")
    return ALLOWED


def check_may_decide(actor: Person, request: Request, *, admin_of_source: bool) -> Decision:
    """Who decides depends on where the request stands; nobody decides their own."""
    own = check_not_own_request(actor, request)
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


def check_no_more_than_asked(
    asked_level: AccessLevel, asked_paths: tuple[str, ...], level: AccessLevel, paths: tuple[str, ...]
) -> Decision:
    """An approver may grant a lower level or fewer paths than asked, never more."""
    if level.rank > asked_level.rank:
        return Decision(False, f"You can grant {asked_level.label.lower()} at most: that is what was asked for.")
    if asked_paths and not covers(asked_level, asked_paths, asked_level, paths):
        return Decision(False, f"You can grant only paths within those asked for ({format_paths(asked_paths)}).")
    return ALLOWED


def check_ends_no_later_than_asked(asked: date | None, granted: date | None) -> Decision:
    """An approver may end access sooner than asked, never later (nor never, when an end was asked for)."""
    if asked is not None and (granted is None or granted > asked):
        return Decision(
            False, f"The request asks for access until {asked:%d %B %Y}: you can end it sooner, never later."
        )
    return ALLOWED


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
    if len(need) > 2000:
        return Decision(False, "Keep the business need under 2,000 characters.")
    return ALLOWED


def check_refusal_reason(reason: str) -> Decision:
    if len(reason) < 5:
        return Decision(False, "Give the requester a reason for the refusal (a few words at least).")
    return ALLOWED


# --- moving data ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceAccess:
    """What the actor may do with the objects of one source, as their grants in the database say (one or several, of
    different levels on paths that do not overlap)."""

    source: Any  # the DataSource row
    held: tuple[Held, ...]  # paths validated, leading /, no trailing /; empty = the whole bucket

    @property
    def bucket(self) -> str:
        return self.source.name

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path the actor may read; empty = the whole bucket."""
        if any(not h.paths for h in self.held):
            return ()
        return tuple(sorted(p for h in self.held for p in h.paths))

    @property
    def write_paths(self) -> tuple[str, ...] | None:
        """The paths the actor may write (empty = the whole bucket); None when they may write nowhere."""
        writers = [h for h in self.held if h.level.can_write]
        if not writers:
            return None
        if any(not h.paths for h in writers):
            return ()
        return tuple(sorted(p for h in writers for p in h.paths))

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The key prefixes the paths cover: `/p/q` covers the keys under `p/q/`, as its IAM statement does."""
        return prefixes(self.paths)


def prefixes(paths: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(path.lstrip("/") + "/" for path in paths)


def check_can_read(access: SourceAccess, key: str) -> Decision:
    if not isinstance(key, str) or not key:
        return Decision(False, "Choose an object first.")
    if not access.paths or key.startswith(access.prefixes):
        return ALLOWED
    return Decision(
        False, f"Your access to {access.bucket} covers only {format_paths(access.paths)}: {shown(key)} is outside it."
    )


def check_level_writes(access: SourceAccess) -> Decision:
    if access.write_paths is not None:
        return ALLOWED
    return Decision(False, f"You have read-only access to {access.bucket}: writing to it needs read/write access.")


def check_can_write(access: SourceAccess, key: str) -> Decision:
    level = check_level_writes(access)
    if not level.allowed:
        return level
    readable = check_can_read(access, key)
    writable = access.write_paths or ()
    if not readable.allowed or not writable or key.startswith(prefixes(writable)):
        return readable
    return Decision(
        False,
        f"You have read/write access to {format_paths(writable)} of {access.bucket} only: {shown(key)} is read only "
        "for you.",
    )
