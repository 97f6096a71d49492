"""A holder answers an access review's question about one of their grants: "yes, I still need it" is shown to the
reviewers beside the grant; "no" revokes it at once (revoke_access, as giving up access does), and the source's
admins are told."""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlmodel import col

from core import audit
from core.access import GrantOutcome, changing_access, record_revoke
from core.actions.review_grant import Reviewed, aws_text, load_item
from core.actor import acting
from core.adapters.models import User, utcnow
from core.adapters.review_models import ReviewCampaign, ReviewItem
from core.context import Gatehouse
from core.domain import InvalidInput
from core.effects import applied
from core.notify import NotificationKind, notify
from core.queries import admins_but
from core.rules.reviews import ReviewDecision, check_may_answer, review_named

NO_LONGER_NEEDED = "no longer needed (the holder's answer)"
ENDED = (ReviewDecision.REVOKE, ReviewDecision.ENDED, ReviewDecision.REVOKED_UNREVIEWED)  # nothing left to answer
OPEN_TO_ANSWER = col(ReviewItem.decision).not_in([d.value for d in ENDED])


def answer_review(gatehouse: Gatehouse, actor: User, item_id: int, still_needed: bool) -> Reviewed:
    roles: dict[str, str] = {}
    with gatehouse.session() as session:
        actor = acting(session, actor)
        changing_access(session, load_item(session, item_id).source)  # "no" revokes: its turn with other changes
        loaded = load_item(session, item_id, now=True)
        item, source, grant = loaded.item, loaded.source, loaded.grant
        check_may_answer(actor, item.user_id or 0).enforce()  # a team's item: nobody answers, its reviewers decide
        decided = ReviewDecision(item.decision) if item.decision else None
        if grant is None or decided in ENDED:
            raise InvalidInput(f"Your access to {source.name} has already ended: there is nothing to answer.")
        what = f"{grant.level.label.lower()} access to {source.name} ({grant.paths})"
        campaign = session.get(ReviewCampaign, item.campaign_id)
        assert campaign is not None
        review = review_named(campaign.due_on)
        if not still_needed:  # the item is this answer's alone: a second "no" at the same moment finds it revoked
            taken = session.exec(  # type: ignore[call-overload]
                update(ReviewItem)
                .where(col(ReviewItem.id) == item_id, or_(col(ReviewItem.decision).is_(None), OPEN_TO_ANSWER))
                .values(decision=ReviewDecision.REVOKE.value, decided_by=actor.username, decided_at=utcnow())
            )
            if taken.rowcount != 1:
                raise InvalidInput(f"Your access to {source.name} has already ended: there is nothing to answer.")
            session.refresh(item)
        item.holder_answer, item.answered_at = ("yes" if still_needed else "no"), utcnow()
        session.add(item)
        audit.record(
            session,
            actor.username,
            "review-answered",
            f"{actor.username} said they {'still need' if still_needed else 'no longer need'} their {what} ({review})",
            source_id=source.id,
            subject=actor.username,
            campaign=item.campaign_id,
            item=item.id,
        )
        if still_needed:
            return Reviewed(ReviewDecision(decided) if decided else ReviewDecision.KEEP, actor.username, source.name)
        roles = record_revoke(gatehouse, session, actor, source, actor, grant.paths, announce=False)
        item.reason, item.after = NO_LONGER_NEEDED, {}
        session.add(item)
        notify(
            session,
            admins_but(session, source, actor),
            NotificationKind.REVIEW,
            f"{actor.username} no longer needs their access to {source.name}",
            f"In the {review}, {actor.username} said they no longer need their {what}: it is revoked.",
        )
        audit.record(
            session,
            actor.username,
            "review-revoke",
            f"{actor.username}'s {what} was revoked in the {review}: {NO_LONGER_NEEDED}",
            source_id=source.id,
            subject=actor.username,
            campaign=item.campaign_id,
            item=item.id,
        )
    outcome = GrantOutcome(list(roles), applied(session))
    with gatehouse.session() as session:
        session.exec(  # type: ignore[call-overload]
            update(ReviewItem).where(col(ReviewItem.id) == item_id).values(aws_outcome=aws_text(outcome))
        )
    return Reviewed(ReviewDecision.REVOKE, actor.username, source.name, outcome.aws_pending)
