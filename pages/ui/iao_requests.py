"""The information asset owner's requests to approve (issue #29): those an admin approved, decided one at a time as
every queue is (`decisions.decide_queue`): approved as the admin approved or less, or refused."""

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.reads import queues
from core.reads.queues import RequestView
from pages.ui import decisions


def approved_by_admin(request: RequestView) -> str:
    """What the admin approved and who, under the request: the owner approves that or less."""
    return f"Approved as admin: {request.admin_approved or 'as asked'}. You may approve that, or less."


def owner_decider(gh: Gatehouse, me: User) -> decisions.Decider:
    """The information asset owner's step, the owner's or the platform team's in their place: the admin's terms at
    most, and what approving does in AWS, since this approval grants."""
    return decisions.Decider(
        "Approve",
        lambda request, terms, reason: actions.approve_request(
            gh, me, request.id, terms.level, terms.paths, terms.until, reason=reason
        ),
        lambda request, terms: (
            f"Approved: {request.requester} has {terms.level.label.lower()} access to {request.source}."
        ),
        lambda request: f"Refused {request.requester}'s request; they and the admin who approved are told why.",
        adjustable=True,
        note=approved_by_admin,
    )


def requests_to_approve(gh: Gatehouse, me: User) -> None:
    decisions.decide_queue(
        gh,
        me,
        queues.iao_queue,
        "iao-queue",
        owner_decider(gh, me),
        heading="Requests to approve",
        empty="No request is waiting for you.",
    )
