"""Who may do what, as named checks that say allowed-or-why. Use cases call them; pages never decide."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, exists, select

from core.adapters.models import DataSource, Grant, RequestStatus, User, UserStatus
from core.domain import AccessLevel, GatehouseError, NotAllowed


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def enforce(self, error: type[GatehouseError] = NotAllowed) -> None:
        if not self.allowed:
            raise error(self.reason)


ALLOWED = Decision(True)


def is_active_admin(session: Session, user: User, source: DataSource) -> bool:
    """Decided on what the database says now, not on the status of the row passed in (which may be stale)."""
    return bool(
        session.exec(
            select(
                exists().where(
                    Grant.source_id == source.id,
                    Grant.user_id == user.id,
                    Grant.level == AccessLevel.ADMIN,
                    User.id == Grant.user_id,
                    User.status == UserStatus.ACTIVE,
                )
            )
        ).one()
    )


def check_platform_admin(actor: User) -> Decision:
    if actor.is_platform_admin and actor.status == UserStatus.ACTIVE:
        return ALLOWED
    return Decision(False, "Only the platform team can do this.")


def check_manages_source(session: Session, actor: User, source: DataSource) -> Decision:
    """Active admins of the source manage its access; the platform team may manage any source."""
    if check_platform_admin(actor).allowed or is_active_admin(session, actor, source):
        return ALLOWED
    return Decision(False, f"Only an admin of {source.name} can manage its access.")


def check_can_see_source(actor: User, source: DataSource) -> Decision:
    if source.hidden and not actor.is_platform_admin:
        return Decision(False, f"There is no data source called {source.name}.")
    return ALLOWED


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


def check_transition(current: RequestStatus, new: RequestStatus) -> Decision:
    if new in TRANSITIONS.get(current, set()):
        return ALLOWED
    if not current.is_open:
        return Decision(False, f"This request is already {current.value.replace('-', ' ')}: it cannot change now.")
    return Decision(False, f"A request {current.value.replace('-', ' ')} cannot become {new.value.replace('-', ' ')}.")


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
