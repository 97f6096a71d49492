"""A reviewer's decision on one grant in an access review: Keep, Change (only lower: a lower level, fewer paths, an
end date) or Revoke; and "Keep the rest". A change or a revocation goes through the same actions as everywhere
(change_access, revoke_access), so IAM follows at once; the item then records the decision, the access after it and
what AWS took. Who may review is rules.check_may_review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from core import audit
from core.access import (
    GrantOutcome,
    audit_subject,
    changing_access,
    checked_terms,
    describe,
    record_change,
    record_revoke,
)
from core.actor import acting
from core.adapters.models import DataSource, Grant, Team, User, utcnow
from core.adapters.review_models import ReviewCampaign, ReviewItem
from core.context import Gatehouse
from core.domain import MAX_REASON, AccessLevel, InvalidInput, NotFound, check_text, plural
from core.effects import applied
from core.paths import Paths
from core.queries import holder_name, in_team, is_active_admin
from core.reads.reviews import PENDING, REVIEWABLE_STATES, other_admins, reviewable_by
from core.rules import Held
from core.rules.reviews import ReviewDecision, check_may_review, check_review_lowers, review_named


@dataclass(frozen=True)
class Reviewed:
    decision: ReviewDecision
    holder: str
    source: str
    aws_pending: str | None = None  # why AWS has not applied the change yet, if it has not


@dataclass
class Loaded:
    item: ReviewItem
    source: DataSource
    holder: User | Team  # a member, or the team whose grant is one item
    grant: Grant | None


def load_item(session: Session, item_id: int, *, now: bool = False) -> Loaded:
    """An item of a campaign still under review, with its source, holder and grant (None once gone). `now`: read
    again as the database has them now, not as this transaction first read them."""
    row = session.exec(
        select(ReviewItem, ReviewCampaign, DataSource, User, Team)
        .join(ReviewCampaign, col(ReviewCampaign.id) == ReviewItem.campaign_id)
        .join(DataSource, col(DataSource.id) == ReviewItem.source_id)
        .outerjoin(User, col(User.id) == ReviewItem.user_id)
        .outerjoin(Team, col(Team.id) == ReviewItem.team_id)
        .where(ReviewItem.id == item_id)
        .execution_options(populate_existing=now)
    ).first()
    if row is None or (row[3] or row[4]) is None:
        raise NotFound("That grant is in no access review: reload to see the review as it is.")
    item, campaign, source, user, team = row
    holder: User | Team = user or team
    if campaign.state not in REVIEWABLE_STATES:
        raise InvalidInput(f"The {review_named(campaign.due_on)} is closed: its decisions are final.")
    grant = session.get(Grant, item.grant_id, populate_existing=now) if item.grant_id is not None else None
    return Loaded(item, source, holder, grant)


def check_reviewer(session: Session, actor: User, loaded: Loaded) -> None:
    others = bool(session.exec(select(other_admins()).where(ReviewItem.id == loaded.item.id)).one())
    team = loaded.item.team_id
    check_may_review(
        actor,
        loaded.item.user_id or 0,
        loaded.source.name,
        admin_of_source=is_active_admin(session, actor, loaded.source),
        other_admins=others,
        in_holding_team=in_team(session, actor, team),
    ).enforce()


def aws_text(outcome: GrantOutcome | None) -> str:
    if outcome is None:
        return "no change"
    return f"not yet applied in AWS: {outcome.aws_pending}" if outcome.aws_pending else "applied in AWS"


def review_grant(
    gatehouse: Gatehouse,
    actor: User,
    item_id: int,
    decision: ReviewDecision | str,
    level: AccessLevel | None = None,
    paths: Paths | str | None = None,
    expires_on: date | None = None,
    reason: str = "",
) -> Reviewed:
    """Keep, change (to `level` on `paths` until `expires_on`: only lower) or revoke one grant under review."""
    decision = ReviewDecision(decision)
    if decision not in (ReviewDecision.KEEP, ReviewDecision.CHANGE, ReviewDecision.REVOKE):
        raise InvalidInput("A reviewer keeps, changes or revokes a grant.")
    reason = check_text(reason or "", "reason", MAX_REASON)
    roles: dict[str, str] = {}
    with gatehouse.session() as session:
        actor = acting(session, actor)
        loaded = load_item(session, item_id)
        # A review decision takes its turn with every other change of the source's access (the same grant changed
        # under Admin, another reviewer deciding it): what is checked below is what is decided on.
        changing_access(session, loaded.source)
        loaded = load_item(session, item_id, now=True)
        check_reviewer(session, actor, loaded)
        item, source, holder, grant = loaded.item, loaded.source, loaded.holder, loaded.grant
        if item.decision is not None and ReviewDecision(item.decision).settled:
            done = ReviewDecision(item.decision).label.lower()
            raise InvalidInput(
                f"{holder_name(holder, starts=True)}'s access to {source.name} is already reviewed ({done})."
            )
        if grant is None:
            decision = ReviewDecision.ENDED
        elif decision is ReviewDecision.CHANGE:
            # as every change's: paths, end date and what the source's classification asks, all at once
            wanted = checked_terms(paths, expires_on, source, gatehouse.settings.classification_rules)
            chosen = level or grant.level
            check_review_lowers(
                Held(grant.level, grant.paths),
                grant.expires_on,
                chosen,
                wanted,
                expires_on,
                source.name,
            ).enforce(InvalidInput)
        claim(session, item, decision, actor.username, holder, source)
        # The same changes as everywhere (change_access, revoke_access), in this transaction: they check again, record
        # the change and its audit event; the decision and the change commit together, or neither does.
        if decision is ReviewDecision.CHANGE and grant is not None:
            roles = record_change(gatehouse, session, actor, source, holder, grant.id or 0, chosen, wanted, expires_on)
        elif decision is ReviewDecision.REVOKE and grant is not None:
            roles = record_revoke(gatehouse, session, actor, source, holder, grant.paths)
        after = None if grant is None else {} if decision is ReviewDecision.REVOKE else describe(grant)
        # what AWS took is known once the change has committed and IAM has been written (below)
        _settle(session, item, decision, actor.username, reason, after, "no change" if not roles else "")
        _record(session, actor.username, decision, item, source, holder, reason=reason, after=after)
    if not roles:
        return Reviewed(decision, holder_name(holder), source.name)
    outcome = GrantOutcome(list(roles), applied(session))
    with gatehouse.session() as session:
        session.exec(  # type: ignore[call-overload]
            update(ReviewItem).where(col(ReviewItem.id) == item_id).values(aws_outcome=aws_text(outcome))
        )
    return Reviewed(decision, holder_name(holder), source.name, outcome.aws_pending)


def claim(
    session: Session, item: ReviewItem, decision: ReviewDecision, by: str, holder: User | Team, source: DataSource
) -> None:
    """Take the decision on the item only if nobody has since (a reviewer, Keep the rest, the due date's run): one
    decision an item, whoever races. The row stays locked until this transaction ends."""
    taken = session.exec(  # type: ignore[call-overload]
        update(ReviewItem)
        .where(col(ReviewItem.id) == item.id, PENDING)
        .values(decision=decision.value, decided_by=by, decided_at=utcnow())
    )
    if taken.rowcount != 1:
        raise InvalidInput(
            f"{holder_name(holder, starts=True)}'s access to {source.name} was reviewed a moment ago by someone else: "
            "reload to see it."
        )
    session.refresh(item)


def _settle(
    session: Session,
    item: ReviewItem,
    decision: ReviewDecision,
    by: str,
    reason: str,
    after: dict[str, Any] | None,
    aws: str,
) -> None:
    item.decision, item.decided_by, item.decided_at = decision.value, by, utcnow()
    item.reason, item.after, item.aws_outcome = reason or None, after, aws
    session.add(item)


def _record(
    session: Session,
    actor: str,
    decision: ReviewDecision,
    item: ReviewItem,
    source: DataSource,
    holder: User | Team,
    **details: Any,
) -> None:
    what = f"{item.level.label.lower()} access to {source.name} ({item.paths})"
    campaign = session.get(ReviewCampaign, item.campaign_id)
    assert campaign is not None
    review = review_named(campaign.due_on)
    verbs = {
        ReviewDecision.KEEP: "kept",
        ReviewDecision.CHANGE: "lowered",
        ReviewDecision.REVOKE: "revoked",
        ReviewDecision.ENDED: "found already ended",
    }
    audit.record(
        session,
        actor,
        f"review-{decision.value}",
        f"{actor} {verbs.get(decision, decision.value)} {holder_name(holder)}'s {what} in the {review}",
        source_id=source.id,
        subject=audit_subject(holder),
        campaign=item.campaign_id,
        item=item.id,
        **{k: v for k, v in details.items() if v},
    )


def keep_the_rest(
    gatehouse: Gatehouse, actor: User, source_name: str | None = None, *, as_platform: bool = False
) -> int:
    """Keep every grant the actor still has to review in the open campaigns (of one source, or all theirs): one
    UPDATE, and an audit event a source. Grants gone meanwhile are recorded as ended. Returns how many were kept."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        chosen = select(ReviewItem.id).where(
            PENDING,
            col(ReviewItem.campaign_id).in_(
                select(ReviewCampaign.id).where(col(ReviewCampaign.state).in_(REVIEWABLE_STATES))
            ),
            reviewable_by(actor, as_platform=as_platform),
        )
        if source_name:
            chosen = chosen.where(
                ReviewItem.source_id == select(DataSource.id).where(DataSource.name == source_name).scalar_subquery()
            )
        rows = session.exec(
            select(ReviewItem.id, ReviewItem.grant_id, ReviewItem.source_id, DataSource.name)
            .join(DataSource, col(DataSource.id) == ReviewItem.source_id)
            .where(col(ReviewItem.id).in_(chosen))
        ).all()
        if not rows:
            raise InvalidInput("Nothing is left for you to review there.")
        now = utcnow()
        for decision, ids in (
            (ReviewDecision.KEEP, [i for i, g, _, _ in rows if g is not None]),
            (ReviewDecision.ENDED, [i for i, g, _, _ in rows if g is None]),
        ):
            if ids:
                session.exec(
                    update(ReviewItem)
                    .where(col(ReviewItem.id).in_(ids), PENDING)
                    .values(decision=decision.value, decided_by=actor.username, decided_at=now, aws_outcome="no change")
                )  # type: ignore[call-overload]
        by_source: dict[tuple[int, str], int] = {}
        for _, grant_id, source_id, name in rows:
            if grant_id is not None:
                by_source[(source_id, name)] = by_source.get((source_id, name), 0) + 1
        for (source_id, name), kept in by_source.items():
            audit.record(
                session,
                actor.username,
                "review-kept-rest",
                f"{actor.username} kept the remaining {plural(kept, 'grant')} of {name} under review",
                source_id=source_id,
                kept=kept,
            )
        return sum(by_source.values())
