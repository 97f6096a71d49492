"""Who may act, hold access or own sources, and who sees and manages a source."""

from __future__ import annotations

from core.domain import (
    AccessLevel,
    UserStatus,
)
from core.rules.decision import ALLOWED, Decision, Person

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


def admin_through_team(member: Person) -> bool:
    """A team holding admin on a source makes its members admins of it: those who have not left, and never an
    external user (who cannot be an admin however it comes)."""
    return is_active(member) and not member.is_external


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


def check_source_quota(actor: Person, created_in_last_hour: int, per_hour: int) -> Decision:
    """A member creates at most `per_hour` sources an hour (GATEHOUSE_MAX_SOURCES_PER_MEMBER): a burst of buckets is a
    mistake or a script gone wrong, and each one costs. The platform team is not limited."""
    if check_platform_admin(actor).allowed or created_in_last_hour < per_hour:
        return ALLOWED
    return Decision(
        False,
        f"You have created {created_in_last_hour} data sources in the last hour, the most a member may: try again "
        "later, or ask the platform team.",
    )


# --- sources ---------------------------------------------------------------------------------------------------


def can_see_source(actor: Person, *, hidden: bool, admin_of_it: bool) -> bool:
    """A hidden source (the data engineers') exists only for the platform team and for the admins made for it."""
    return not hidden or actor.is_platform_admin or admin_of_it


def check_manages_source(actor: Person, source_name: str, *, admin_of_it: bool) -> Decision:
    """A source's active admins manage its access; the platform team may manage any source."""
    if check_platform_admin(actor).allowed or (admin_of_it and is_active(actor)):
        return ALLOWED
    return Decision(False, f"Only an admin of {source_name} can manage its access.")
