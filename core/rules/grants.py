"""What a live grant is, what access held covers, and how a person's grants on one source sit side by side:
several, of different levels, on paths that never overlap (`place_grant`, `check_no_overlap`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.domain import MAX_END_DAYS, AccessLevel, UserStatus, day, format_paths, moment, path_covers
from core.paths import Paths
from core.rules.decision import ALLOWED, Decision

# --- grants ----------------------------------------------------------------------------------------------------


def is_live(expires_on: date | None, archived_at: datetime | None, holder: UserStatus | None, today: date) -> bool:
    """A grant IAM must reflect: on a source not archived, not past its end date (valid through that day), held by
    someone who has not left (or by an app: `holder` None)."""
    return (
        archived_at is None
        and (expires_on is None or expires_on >= today)
        and (holder is None or holder == UserStatus.ACTIVE)
    )


@dataclass(frozen=True)
class EndedByLeaving:
    """A grant its holder's leaving ended: kept on record for the audit, live nowhere (IAM revokes it)."""

    left_at: datetime | None
    marked_by: str | None  # who marked them as having left (the audit trail's user-left event); None if unrecorded

    def sentence(self) -> str:
        when = f" on {moment(self.left_at)}" if self.left_at else ""
        by = f" by {self.marked_by}" if self.marked_by else ""
        return f"Revoked{when}: marked as having left{by}"


def ended_by_leaving(
    holder: UserStatus | None, left_at: datetime | None, marked_by: str | None
) -> EndedByLeaving | None:
    """A grant held by someone who has left is revoked, whatever its end date or source: the one rule every read of
    grants shows it by (`is_live` is its other side)."""
    return EndedByLeaving(left_at, marked_by) if holder == UserStatus.LEFT else None


def covers(held_level: AccessLevel, held_paths: Paths, level: AccessLevel, paths: Paths) -> bool:
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
    paths: Paths

    def where(self, source_name: str) -> str:
        return format_paths(self.paths) if self.paths else f"the whole of {source_name}"


def covers_held(held: Sequence[Held], level: AccessLevel, paths: Paths) -> bool:
    """Does what is held, taken together, already give everything asked for (each path, at the level or above)?"""
    if not paths:
        return any(covers(h.level, h.paths, level, Paths.WHOLE) for h in held)
    return all(any(covers(h.level, h.paths, level, Paths((path,))) for h in held) for path in paths)


def _where(path: str, source_name: str) -> str:
    return path or f"the whole of {source_name}"


def place_grant(
    held: Sequence[Held],
    level: AccessLevel,
    paths: Paths,
    username: str,
    source_name: str,
    *,
    asking: bool = False,
    yours: bool = False,
) -> tuple[list[Paths | None], Decision]:
    """Where a new grant of `level` on `paths` goes among the grants a person holds on one source.

    A held path equal to a new one, or inside one, is replaced by the new grant (that is how a level is changed, or a
    grant widened); the rest is kept. Refused: a new path inside a held one (paths never overlap: change the held
    grant under Edit instead), and a new path around a held one of a higher level (a grant never lowers what it does
    not name). Returns, index by index with `held`, the paths each held grant keeps (None: it goes entirely).
    `asking`: the person asks for it themselves (a request), and is told so; `yours`: the reader is the person (an
    admin granting themselves), spoken to."""
    who, has = ("You", "have") if asking or yours else (username, "has")
    remedy = "ask an admin of the source to change it" if asking else "change that access under Edit"
    new = paths or ("",)
    kept: list[Paths | None] = []
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
        kept.append(Paths(remaining) if remaining and grant.paths else None)
    return kept, ALLOWED


def check_no_overlap(
    others: Sequence[Held], paths: Paths, username: str, source_name: str, *, yours: bool = False
) -> Decision:
    """A grant changed in place may not come to overlap the person's other grants on the source (`yours`: the reader
    is that person)."""
    who, has = ("You", "have") if yours else (username, "has")
    for grant in others:
        for old in grant.paths or ("",):
            for path in paths or ("",):
                if path_covers(old, path) or path_covers(path, old):
                    return Decision(
                        False,
                        f"{who} also {has} {grant.level.label.lower()} access to {_where(old, source_name)}, "
                        f"which overlaps {_where(path, source_name)}: one person's paths on a source never overlap.",
                    )
    return ALLOWED


def check_end_date(expires_on: date | None, today: date) -> Decision:
    """An end date, wherever one is set (asked, approved, granted, changed, reviewed; page or CLI), lies after today
    and at most MAX_END_DAYS ahead; none at all is access that does not end."""
    if expires_on is None:
        return ALLOWED
    if expires_on <= today:
        return Decision(False, f"The end date {day(expires_on)} is not after today: choose a later date.")
    latest = today + timedelta(days=MAX_END_DAYS)
    if expires_on > latest:
        return Decision(
            False,
            f"The end date {day(expires_on)} is more than two years away: choose one by {day(latest)}, "
            "or leave it empty for access that does not end.",
        )
    return ALLOWED


def check_keeps_an_admin(
    admins_now: list[str], admins_after: list[str], holder: str, source_name: str, *, yours: bool = False
) -> Decision:
    """A source is never left without an admin by taking admin from its last one: its active admins now (their own
    grants and their admin teams' members), and those left once `holder` (a member, or a team) holds no admin grant.
    An orphaned source (none now) may lose what its leavers held. `yours`: the reader is that admin, spoken to."""
    if admins_now and not admins_after:
        who = "You are" if yours else f"{holder} is"
        if admins_now != [holder]:  # a team: its members are the admins
            who = f"The members of {holder} are the only admins"
        else:
            who += " the only admin"
        return Decision(
            False,
            f"{who} of {source_name}: make someone else an admin first, or the source would be left without one.",
        )
    return ALLOWED


def check_access_may_change(source_name: str, archived_at: datetime | None) -> Decision:
    """On an archived source nothing about access changes but its ending: no grant, change, request, approval,
    confirmation or review gives or alters access there (it would be recorded and never applied, since no grant on an
    archived source is live). Revoking, expiry and leavers still take access away."""
    if archived_at is not None:
        return Decision(
            False, f"{source_name} is archived: its access can only be revoked now, not granted or changed."
        )
    return ALLOWED
