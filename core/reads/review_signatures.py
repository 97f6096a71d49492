"""Access review reports signed by information asset owners (issue #29): what one source's report of a campaign says
(its counts, and the sha256 of its CSV as `reviews.report` writes it), the reports an owner has to sign, and which
reports of a campaign are signed, for the platform team."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.actor import acting
from core.adapters.models import DataSource, User
from core.adapters.review_models import ReviewCampaign, ReviewItem, ReviewSignature
from core.csv_export import csv_records
from core.domain import NotFound
from core.reads.reviews import REPORT_FIELDS, source_report_rows
from core.rules import check_platform_admin
from core.rules.reviews import ReviewDecision

# what the counts are called, in the order they are shown
COUNTS = ("grants", "kept", "lowered", "revoked", "ended", "unreviewed")


@dataclass(frozen=True)
class SeenReport:
    """One source's report of one campaign, as its owner sees it and signs it."""

    counts: dict[str, int]
    sha256: str


def seen_report(session: Session, campaign_id: int, source_id: int) -> SeenReport:
    """The counts of one source's report and the sha256 of its CSV (header and rows, as `report_csv` writes them)."""
    rows = source_report_rows(session, campaign_id, source_id)
    text = "".join(csv_records(REPORT_FIELDS, rows))
    decisions = Counter(
        ReviewDecision(d) if d else None
        for d in session.exec(
            select(ReviewItem.decision).where(ReviewItem.campaign_id == campaign_id, ReviewItem.source_id == source_id)
        ).all()
    )
    counts = {
        "grants": sum(decisions.values()),
        "kept": decisions[ReviewDecision.KEEP],
        "lowered": decisions[ReviewDecision.CHANGE],
        "revoked": decisions[ReviewDecision.REVOKE] + decisions[ReviewDecision.REVOKED_UNREVIEWED],
        "ended": decisions[ReviewDecision.ENDED],
        "unreviewed": decisions[None] + decisions[ReviewDecision.FLAGGED],
    }
    return SeenReport(counts, hashlib.sha256(text.encode()).hexdigest())


@dataclass(frozen=True)
class ReportToSign:
    campaign_id: int
    source: str
    due_on: date
    state: str
    seen: SeenReport
    signed_by: str | None
    signed_at: datetime | None


def reports_to_sign(session: Session, user: User, limit: int = 20) -> list[ReportToSign]:
    """The reports of the latest campaigns that looked at the sources this person is the information asset owner of,
    newest first: each with what it says now, and their signature if they signed it."""
    actor = acting(session, user)
    signer = aliased(User)
    owned = select(DataSource.id).where(DataSource.iao_id == actor.id)
    pairs = (
        select(ReviewItem.campaign_id, ReviewItem.source_id)
        .where(col(ReviewItem.source_id).in_(owned))
        .distinct()
        .subquery()
    )
    rows = session.exec(
        select(ReviewCampaign, DataSource, ReviewSignature, signer.username)
        .join(pairs, pairs.c.campaign_id == ReviewCampaign.id)
        .join(DataSource, col(DataSource.id) == pairs.c.source_id)
        .outerjoin(
            ReviewSignature,
            (col(ReviewSignature.campaign_id) == ReviewCampaign.id) & (col(ReviewSignature.source_id) == DataSource.id),
        )
        .outerjoin(signer, col(signer.id) == ReviewSignature.signed_by_id)
        .where(DataSource.iao_id == actor.id, col(DataSource.archived_at).is_(None))
        .order_by(col(ReviewCampaign.id).desc(), DataSource.name)
        .limit(limit)
    ).all()
    return [
        ReportToSign(
            campaign.id or 0,
            source.name,
            campaign.due_on,
            campaign.state,
            _seen(signature) if signature else seen_report(session, campaign.id or 0, source.id or 0),
            by,
            signature.signed_at if signature else None,
        )
        for campaign, source, signature, by in rows
    ]


def _seen(signature: ReviewSignature) -> SeenReport:
    """What a signature says its owner saw."""
    return SeenReport({k: int(v) for k, v in signature.seen.items()}, signature.report_sha256)


@dataclass(frozen=True)
class SourceSignature:
    source: str
    iao: str | None  # the source's information asset owner now (None: it names none)
    signed_by: str | None
    signed_at: datetime | None
    seen: dict[str, Any]


def signatures(session: Session, actor: User, campaign_id: int) -> list[SourceSignature]:
    """Each source a campaign looked at, and whether its report is signed (by whom, when, what they saw). For the
    platform team."""
    check_platform_admin(acting(session, actor)).enforce()
    if session.get(ReviewCampaign, campaign_id) is None:
        raise NotFound(f"There is no access review numbered {campaign_id}.")
    iao, signer = aliased(User), aliased(User)
    sources = select(ReviewItem.source_id).where(ReviewItem.campaign_id == campaign_id).distinct().scalar_subquery()
    rows = session.exec(
        select(DataSource.name, iao.username, signer.username, ReviewSignature)
        .outerjoin(iao, col(iao.id) == DataSource.iao_id)
        .outerjoin(
            ReviewSignature,
            (col(ReviewSignature.source_id) == DataSource.id) & (col(ReviewSignature.campaign_id) == campaign_id),
        )
        .outerjoin(signer, col(signer.id) == ReviewSignature.signed_by_id)
        .where(col(DataSource.id).in_(sources))
        .order_by(DataSource.name)
    ).all()
    return [
        SourceSignature(name, owner, by, s.signed_at if s else None, dict(s.seen) if s else {})
        for name, owner, by, s in rows
    ]
