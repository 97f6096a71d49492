"""The tables of access reviews (issue #17): campaigns, the grants each looks at again, and the reports their
information asset owners signed (issue #29). The tables of access are `models.py`'s."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.adapters.models import AccessLevel, StoredPaths, _enum, _json, _paths, utcnow


class ReviewCampaign(SQLModel, table=True):
    """An access review (issue #17): every live grant of its sources, looked at again by a due date. `state` moves
    open → closed once, when the due date has been handled (`gatehouse reviews run`): a second run finds it closed."""

    __tablename__ = "review_campaigns"

    id: int | None = Field(default=None, primary_key=True)
    started_by: str = Field(max_length=64)  # a username, "system" (scheduled) or cli:<os user>
    started_at: datetime = Field(default_factory=utcnow)
    due_on: date = Field(index=True)
    sources: list[str] = _json()  # the scope as asked: source names; [] = every source
    state: str = Field(default="open", max_length=16, index=True)  # open, closed
    reminded_days: int | None = None  # the last reminder sent: 7, then 1 (days before the due date)
    closed_at: datetime | None = None


class ReviewSignature(SQLModel, table=True):
    """A campaign's report for one source, signed by its information asset owner (issue #29): who, when, and what they
    saw (the report's counts and its sha256, so that a later change to it shows)."""

    __tablename__ = "review_signatures"
    __table_args__ = (UniqueConstraint("campaign_id", "source_id", name="uq_review_signature_source"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=Column(ForeignKey("review_campaigns.id"), nullable=False, index=True))
    source_id: int = Field(foreign_key="data_sources.id", index=True)
    signed_by_id: int = Field(foreign_key="users.id")
    signed_at: datetime = Field(default_factory=utcnow)
    report_sha256: str = Field(max_length=64)
    seen: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ReviewItem(SQLModel, table=True):
    """One grant in one campaign: what it was when the campaign started, and what became of it."""

    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("campaign_id", "grant_id", name="uq_review_item_grant"),
        Index("ix_review_items_campaign_source", "campaign_id", "source_id"),
        Index("ix_review_items_user_decision", "user_id", "decision"),
        CheckConstraint("(user_id IS NULL) <> (team_id IS NULL)", name="ck_review_item_one_holder"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=Column(ForeignKey("review_campaigns.id"), nullable=False, index=True))
    source_id: int = Field(foreign_key="data_sources.id", index=True)
    # the grant's holder: a member, or a team (reviewed as one item: migration 0023)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    # NULL once the grant is gone (revoked, expired, replaced): the snapshot below still says what it was
    grant_id: int | None = Field(default=None, sa_column=Column(ForeignKey("grants.id", ondelete="SET NULL")))
    level: AccessLevel = _enum(AccessLevel)
    paths: StoredPaths = _paths()
    expires_on: date | None = None
    granted_by_id: int | None = Field(default=None, foreign_key="users.id")
    granted_at: datetime | None = None
    # keep, change, revoke (someone decided), unreviewed-revoked, flagged (the due date passed), ended (gone before)
    decision: str | None = Field(default=None, max_length=24)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = None
    reason: str | None = Field(default=None, sa_column=Column(Text))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # the grant after it
    aws_outcome: str | None = Field(default=None, sa_column=Column(Text))  # what AWS took, or why not yet
    holder_answer: str | None = Field(default=None, max_length=8)  # yes, no
    answered_at: datetime | None = None
