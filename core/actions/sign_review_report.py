"""A source's information asset owner signs a campaign's access review report for it (issue #29): who, when, and
what they saw (the report's counts and the sha256 of its CSV), once per campaign and source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core import audit
from core.actor import acting
from core.adapters.db import taken_means
from core.adapters.models import DataSource, User, utcnow
from core.adapters.review_models import ReviewCampaign, ReviewItem, ReviewSignature
from core.context import Gatehouse
from core.domain import InvalidInput, NotFound, moment, plural, shown
from core.notify import NotificationKind, notify
from core.queries import platform_team
from core.reads.review_signatures import seen_report
from core.rules import check_may_sign_report


@dataclass(frozen=True)
class Signed:
    campaign_id: int
    source: str
    signed_at: datetime
    sha256: str
    counts: dict[str, int]


def sign_review_report(
    gatehouse: Gatehouse, actor: User, campaign_id: int, source_name: str, seen_sha256: str | None = None
) -> Signed:
    """Sign the report as it is now; `seen_sha256`, the report the page showed: refused if it changed since."""
    with gatehouse.session() as session:
        who = acting(session, actor)
        source = session.exec(select(DataSource).where(DataSource.name == source_name)).first()
        if source is None:
            raise NotFound(f"There is no data source called {shown(source_name, 40)}.")
        check_may_sign_report(who, source.iao_id, source.name).enforce()
        campaign = session.get(ReviewCampaign, campaign_id) if isinstance(campaign_id, int) else None
        looked = select(ReviewItem.id).where(ReviewItem.campaign_id == campaign_id, ReviewItem.source_id == source.id)
        if campaign is None or session.exec(looked.limit(1)).first() is None:
            raise NotFound(f"Access review {campaign_id} has no report for {source.name}.")
        _check_unsigned(session, campaign_id, source)
        seen = seen_report(session, campaign_id, source.id or 0)
        if seen_sha256 is not None and seen_sha256 != seen.sha256:
            raise InvalidInput(
                f"The report of {source.name} changed since you read it: read it again before you sign it."
            )
        now = utcnow()
        with taken_means(_already(campaign_id, source.name)):
            session.add(
                ReviewSignature(
                    campaign_id=campaign_id,
                    source_id=source.id or 0,
                    signed_by_id=who.id or 0,
                    signed_at=now,
                    report_sha256=seen.sha256,
                    seen=seen.counts,
                )
            )
            session.flush()
        figures = in_words(seen.counts)
        audit.record(
            session,
            who.username,
            "review-report-signed",
            f"{who.username} signed access review {campaign_id}'s report of {source.name} ({figures})",
            source_id=source.id,
            campaign_id=campaign_id,
            report_sha256=seen.sha256,
            seen=seen.counts,
        )
        notify(
            session,
            platform_team(session),
            NotificationKind.REVIEW,
            f"Access review {campaign_id}: the report of {source.name} is signed",
            f"{who.username}, information asset owner of {source.name}, signed access review {campaign_id}'s report "
            f"of it ({figures}).",
        )
        return Signed(campaign_id, source.name, now, seen.sha256, seen.counts)


def in_words(counts: dict[str, int]) -> str:
    """A report's counts as a sentence reads them: 4 grants: 2 kept, 1 lowered, 1 revoked, 0 ended, 0 unreviewed."""
    rest = ", ".join(f"{n:,} {name}" for name, n in counts.items() if name != "grants")
    return f"{plural(counts.get('grants', 0), 'grant')}: {rest}"


def _already(campaign_id: int, source: str) -> str:
    return f"Access review {campaign_id}'s report of {source} is already signed."


def _check_unsigned(session: Session, campaign_id: int, source: DataSource) -> None:
    signed = session.exec(
        select(ReviewSignature, User.username)
        .join(User, col(User.id) == ReviewSignature.signed_by_id)
        .where(ReviewSignature.campaign_id == campaign_id, ReviewSignature.source_id == source.id)
    ).first()
    if signed is not None:
        signature, by = signed
        raise InvalidInput(
            f"Access review {campaign_id}'s report of {source.name} is already signed, by {by} at "
            f"{moment(signature.signed_at)}."
        )
