"""The tables of signing in and of the identity provider's bookkeeping: SCIM tokens, requests to join the platform,
failed password sign-ins (the throttle's count). The tables of access are `models.py`'s."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from core.adapters.models import utcnow


class ScimToken(SQLModel, table=True):
    """A bearer token an identity provider presents to /scim/v2: only its sha256 is kept, and revoking deletes it."""

    __tablename__ = "scim_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True, index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class JoinRequest(SQLModel, table=True):
    """Someone the identity provider vouches for but who is no platform member asks to join (OIDC sign-in): the
    platform team adds them (actions.add_user closes the request) or dismisses it. Claims are stored as sent."""

    __tablename__ = "join_requests"
    __table_args__ = (  # one open request an identity, whatever races (migration 0013)
        Index(
            "uq_join_requests_open",
            "oidc_issuer",
            "oidc_subject",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    identity: str = Field(max_length=254, index=True)  # the username claim's value, lower case
    email: str = Field(default="", max_length=254)
    display_name: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = Field(default=None, index=True)  # NULL while open
    outcome: str | None = Field(default=None, max_length=16)  # "added" or "dismissed"
    closed_by: str | None = Field(default=None, max_length=64)  # who closed it (a username or cli:<os user>)
    member_id: int | None = Field(default=None, foreign_key="users.id")  # the member added from it
    oidc_issuer: str | None = Field(default=None, max_length=512)  # who asked: the member added is bound to it
    oidc_subject: str | None = Field(default=None, max_length=255)


class SignInFailure(SQLModel, table=True):
    """A failed password sign-in, kept for GATEHOUSE_SIGN_IN_THROTTLE_MINUTES: the throttle counts them by client and
    by account (core/auth.py). `username` is the name as typed when it is a valid one, else ""."""

    __tablename__ = "sign_in_failures"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    client: str = Field(max_length=64, index=True)
    username: str = Field(max_length=39, index=True)
