"""What every rule answers: allowed, or one sentence why not (`Decision`); and the shapes of a person and a
request that rules read (any object with those attributes: a database row, or a plain value in a test)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.domain import (
    GatehouseError,
    NotAllowed,
    RequestStatus,
    UserStatus,
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
    admin_approved_by_id: int | None  # personal data: the admin who approved before the information asset owner
    status: RequestStatus
