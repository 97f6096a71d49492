"""Requests to join the platform (OIDC sign-in refused someone the identity provider vouches for), for the platform
team's Users tab, oldest first: whom to add, with what the provider said about them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core.adapters.models import User
from core.adapters.sign_in_models import JoinRequest
from core.reads.page import Page, fetch
from core.rules import check_platform_admin

_NOT_IN_A_USERNAME = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class JoinRequestRow:
    id: int
    identity: str
    email: str  # the member's email: the identity itself when it is an email (sign-in matches it), else the claim's
    display_name: str
    asked_at: datetime
    username: str  # suggested: the identity, or the part of an email before the @, as a valid username


def suggested_username(identity: str) -> str:
    name = _NOT_IN_A_USERNAME.sub("-", identity.split("@", 1)[0].lower())
    name = re.sub("-{2,}", "-", name).strip("-")[:39].strip("-")
    return name


def open_join_requests(session: Session, actor: User, offset: int = 0, limit: int = 20) -> Page[JoinRequestRow]:
    check_platform_admin(actor).enforce()
    query = select(JoinRequest).where(col(JoinRequest.closed_at).is_(None))
    rows, total = fetch(session, query, (col(JoinRequest.id),), offset, limit)
    items = [
        JoinRequestRow(
            r.id or 0,
            r.identity,
            r.identity if "@" in r.identity else r.email,
            r.display_name,
            r.created_at,
            suggested_username(r.identity),
        )
        for r in rows
    ]
    return Page(items, total, offset, limit)
