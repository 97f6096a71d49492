"""A holder answers an access review's question about one of their grants: "yes, I still need it" is shown to the
reviewers beside the grant; "no" revokes it at once (revoke_access, as giving up access does), and the source's
admins are told."""

from __future__ import annotations

from core import audit
from core.actions.review_grant import Reviewed, aws_text, load_item
from core.actions.revoke_access import revoke_access
from core.actor import acting
from core.adapters.models import ReviewItem, User, utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, format_paths
from core.notify import NotificationKind, notify
from core.queries import active_admins, users_named
from core.rules.reviews import ReviewDecision, check_may_answer

NO_LONGER_NEEDED = "no longer needed (the holder's answer)"


def answer_review(gatehouse: Gatehouse, actor: User, item_id: int, still_needed: bool) -> Reviewed:
    with gatehouse.session() as session:
        actor = acting(session, actor)
        loaded = load_item(session, item_id)
        item, source, grant = loaded.item, loaded.source, loaded.grant
        check_may_answer(actor, item.user_id).enforce()
        decided = ReviewDecision(item.decision) if item.decision else None
        if grant is None or decided in (ReviewDecision.REVOKE, ReviewDecision.ENDED):
            raise InvalidInput(f"Your access to {source.name} has already ended: there is nothing to answer.")
        what = f"{AccessLevel(grant.level).label.lower()} access to {source.name} ({format_paths(tuple(grant.paths))})"
        item.holder_answer, item.answered_at = ("yes" if still_needed else "no"), utcnow()
        session.add(item)
        audit.record(
            session,
            actor.username,
            "review-answered",
            f"{actor.username} said they {'still need' if still_needed else 'no longer need'} their {what} "
            f"(access review {item.campaign_id})",
            source_id=source.id,
            subject=actor.username,
            campaign=item.campaign_id,
            item=item.id,
        )
        if still_needed:
            return Reviewed(ReviewDecision(decided) if decided else ReviewDecision.KEEP, actor.username, source.name)
        held_paths = tuple(grant.paths)
    outcome = revoke_access(gatehouse, actor, source.name, actor.username, held_paths or None)
    with gatehouse.session() as session:
        item = session.get(ReviewItem, item_id)
        assert item is not None
        item.decision, item.decided_by, item.decided_at = ReviewDecision.REVOKE.value, actor.username, utcnow()
        item.reason, item.after, item.aws_outcome = NO_LONGER_NEEDED, {}, aws_text(outcome)
        session.add(item)
        admins = active_admins(session, [source.id or 0]).get(source.id or 0, [])
        notify(
            session,
            [u for u in users_named(session, admins) if u.id != actor.id],
            NotificationKind.REVIEW,
            f"{actor.username} no longer needs their access to {source.name}",
            f"In access review {item.campaign_id}, {actor.username} said they no longer need their {what}: it is "
            "revoked.",
        )
        audit.record(
            session,
            actor.username,
            "review-revoke",
            f"{actor.username}'s {what} was revoked in access review {item.campaign_id}: {NO_LONGER_NEEDED}",
            source_id=source.id,
            subject=actor.username,
            campaign=item.campaign_id,
            item=item.id,
        )
    return Reviewed(ReviewDecision.REVOKE, actor.username, source.name, outcome.aws_pending)
