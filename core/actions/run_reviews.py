"""The access reviews' schedule (`gatehouse reviews run`, for a scheduler): start a campaign for the sources nobody has
reviewed for GATEHOUSE_REVIEW_EVERY_DAYS, remind reviewers 7 days and 1 day before a due date, and once a due date has
passed handle what nobody reviewed as GATEHOUSE_REVIEW_UNREVIEWED says: `flag` (overdue on Platform, reviewers
reminded) or `revoke` (the access ends; holders and admins told).

Safe from several machines at once, and idempotent: each step claims its campaign with a conditional UPDATE of its
state or reminder column (one winner, on SQLite and PostgreSQL alike), and each item is settled only while undecided,
so a second run, or a run beside it, does nothing twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from core import audit
from core.access import GrantOutcome, changing_access, record_revoke
from core.actions.review_grant import aws_text
from core.actions.start_review import Started, start_due_reviews
from core.adapters.models import DataSource, Grant, Team, TeamMember, User, utcnow
from core.adapters.review_models import ReviewCampaign, ReviewItem
from core.context import Gatehouse
from core.domain import GatehouseError, plural
from core.effects import applied
from core.notify import NotificationKind, notify
from core.paths import Paths
from core.queries import admin_pairs, admins_of, holder_name, platform_team, users_named
from core.reads.reviews import PENDING, other_admins
from core.rules import Person
from core.rules.reviews import CampaignState, ReviewDecision, review_named

REMINDERS = (7, 1)  # days before the due date
STALE_CLAIM = timedelta(hours=1)  # a run that claimed a campaign and died: another run takes it over after this


@dataclass
class ReviewRun:
    started: Started | None = None
    reminded: list[str] = field(default_factory=list)  # "campaign 3: 7 days"
    flagged: int = 0
    revoked: int = 0
    not_revoked: list[str] = field(default_factory=list)  # why a grant could not end
    closed: list[int] = field(default_factory=list)


def run_reviews(gatehouse: Gatehouse, operator: Person, today: date | None = None) -> ReviewRun:
    """Everything the schedule does today. `operator` is who the audit trail names for revocations (the CLI's)."""
    today = today or utcnow().date()
    report = ReviewRun(started=start_due_reviews(gatehouse, gatehouse.settings.review_every_days, today))
    _remind(gatehouse, today, report)
    with gatehouse.session() as session:
        due = list(
            session.exec(
                select(ReviewCampaign.id).where(
                    col(ReviewCampaign.due_on) < today, col(ReviewCampaign.state) == CampaignState.OPEN.value
                )
            )
        )
        stale = list(
            session.exec(
                select(ReviewCampaign.id).where(
                    col(ReviewCampaign.state) == CampaignState.CLOSING.value,
                    col(ReviewCampaign.closed_at) < utcnow() - STALE_CLAIM,
                )
            )
        )
    for campaign_id in [*due, *stale]:
        if _claim(gatehouse, campaign_id):
            _handle_due(gatehouse, operator, campaign_id, report)
    _close_settled(gatehouse, report)
    return report


def _claim(gatehouse: Gatehouse, campaign_id: int) -> bool:
    """Open (or claimed by a run that died) → closing, by one run only; `closed_at` holds when it was claimed."""
    now = utcnow()
    with gatehouse.session() as session:
        claimed = session.exec(
            update(ReviewCampaign)
            .where(
                col(ReviewCampaign.id) == campaign_id,
                or_(
                    col(ReviewCampaign.state) == CampaignState.OPEN.value,
                    and_(
                        col(ReviewCampaign.state) == CampaignState.CLOSING.value,
                        col(ReviewCampaign.closed_at) < now - STALE_CLAIM,
                    ),
                ),
            )
            .values(state=CampaignState.CLOSING.value, closed_at=now)
        ).rowcount  # type: ignore[call-overload]
    return bool(claimed)


def _remind(gatehouse: Gatehouse, today: date, report: ReviewRun) -> None:
    for days in REMINDERS:
        with gatehouse.session() as session:
            ids = list(
                session.exec(
                    select(ReviewCampaign.id).where(
                        col(ReviewCampaign.state) == CampaignState.OPEN.value,
                        col(ReviewCampaign.due_on) >= today,
                        col(ReviewCampaign.due_on) <= today + timedelta(days=days),
                        or_(col(ReviewCampaign.reminded_days).is_(None), col(ReviewCampaign.reminded_days) > days),
                    )
                )
            )
        for campaign_id in ids:
            with gatehouse.session() as session:
                won = session.exec(
                    update(ReviewCampaign)
                    .where(
                        col(ReviewCampaign.id) == campaign_id,
                        or_(col(ReviewCampaign.reminded_days).is_(None), col(ReviewCampaign.reminded_days) > days),
                    )
                    .values(reminded_days=days)
                ).rowcount  # type: ignore[call-overload]
                if not won:
                    continue  # another run sent it
                campaign = session.get(ReviewCampaign, campaign_id)
                assert campaign is not None
                told = _tell_reviewers(
                    session,
                    campaign,
                    f"The {review_named(campaign.due_on)} is near",
                    f"The {review_named(campaign.due_on)} is near: {{n}} of your sources "
                    "are not reviewed yet (Admin → Review access).",
                )
                if told:
                    report.reminded.append(f"{review_named(campaign.due_on)}: {plural(days, 'day')} before")


def _tell_reviewers(session: Session, campaign: ReviewCampaign, subject: str, body: str) -> int:
    """Tell each active admin how many grants of their sources are still to review ({n} in `body`), and the platform
    team of those only they can review. Returns how many people were told."""
    pending = list(
        session.exec(
            select(ReviewItem.source_id, ReviewItem.user_id, ReviewItem.team_id).where(
                ReviewItem.campaign_id == campaign.id, PENDING
            )
        )
    )
    if not pending:
        return 0
    teams = {t for _, _, t in pending if t is not None}  # nobody reviews their team's grant: not counted for them
    in_team = set(
        session.exec(select(TeamMember.team_id, TeamMember.user_id).where(col(TeamMember.team_id).in_(teams)))
    )
    pairs = admin_pairs()  # their own admins and their admin teams' members
    admins = session.exec(
        select(pairs.c.source_id, User)
        .join(User, col(User.id) == pairs.c.user_id)
        .where(pairs.c.source_id.in_({s for s, *_ in pending}))
        .distinct()
    ).all()
    counts: dict[int, tuple[User, int]] = {}
    for source_id, user in admins:
        n = sum(
            1 for s, holder, team in pending if s == source_id and holder != user.id and (team, user.id) not in in_team
        )
        if n:
            counts[user.id or 0] = (user, counts.get(user.id or 0, (user, 0))[1] + n)
    for user, n in counts.values():
        notify(session, [user], NotificationKind.REVIEW, subject, body.format(n=plural(n, "grant")))
    orphaned = session.exec(
        select(ReviewItem.id).where(ReviewItem.campaign_id == campaign.id, PENDING, ~other_admins())
    ).all()
    team = platform_team(session) if orphaned else []
    notify(
        session,
        team,
        NotificationKind.REVIEW,
        subject,
        body.format(n=plural(len(orphaned), "grant"))
        .replace("of your sources", "that only the platform team can review")
        .replace("Admin → Review access", "Platform → Reviews"),
    )
    return len(counts) + len(team)


def _handle_due(gatehouse: Gatehouse, operator: Person, campaign_id: int, report: ReviewRun) -> None:
    mode = gatehouse.settings.review_unreviewed
    if mode == "revoke":
        _revoke_unreviewed(gatehouse, operator, campaign_id, report)
    with gatehouse.session() as session:
        campaign = session.get(ReviewCampaign, campaign_id)
        assert campaign is not None
        flagged = session.exec(
            update(ReviewItem)
            .where(ReviewItem.campaign_id == campaign_id, col(ReviewItem.decision).is_(None))
            .values(decision=ReviewDecision.FLAGGED.value, decided_by=audit.SYSTEM, decided_at=utcnow())
        ).rowcount  # type: ignore[call-overload]
        report.flagged += flagged
        if flagged:
            _tell_reviewers(
                session,
                campaign,
                f"The {review_named(campaign.due_on)} is overdue",
                f"The {review_named(campaign.due_on)} is overdue: {{n}} of your sources "
                "were not reviewed and are flagged as overdue (Admin → Review access).",
            )
        campaign.state = (CampaignState.OVERDUE if flagged else CampaignState.CLOSED).value
        campaign.closed_at = utcnow()
        session.add(campaign)
        audit.record(
            session,
            audit.SYSTEM,
            "review-due",
            f"The {review_named(campaign.due_on)} is past its date: {plural(flagged, 'grant')} flagged "
            f"as not reviewed, {report.revoked:,} revoked",
            campaign=campaign_id,
            flagged=flagged,
            mode=mode,
        )


def _revoke_unreviewed(gatehouse: Gatehouse, operator: Person, campaign_id: int, report: ReviewRun) -> None:
    """Each grant nobody reviewed ends through revoke_access (IAM follows); its holder and the admins are told. One
    that cannot end (the source's only admin) stays, flagged, with the reason."""
    with gatehouse.session() as session:
        items = session.exec(
            select(ReviewItem, DataSource.name, User, Grant, Team)
            .join(DataSource, col(DataSource.id) == ReviewItem.source_id)
            .outerjoin(User, col(User.id) == ReviewItem.user_id)
            .outerjoin(Team, col(Team.id) == ReviewItem.team_id)
            .outerjoin(Grant, col(Grant.id) == ReviewItem.grant_id)
            .where(ReviewItem.campaign_id == campaign_id, col(ReviewItem.decision).is_(None))
            .order_by(col(ReviewItem.id))
        ).all()
    for item, source, user, grant, team in items:
        holder: User | Team = user or team
        if grant is None:
            _settle(gatehouse, item.id or 0, ReviewDecision.ENDED, "no change")
            continue
        what = f"{grant.level.label.lower()} access to {source} ({grant.paths})"
        try:
            outcome = _revoke_if_undecided(gatehouse, operator, item.id or 0, holder, grant.paths)
        except GatehouseError as refused:
            report.not_revoked.append(f"{holder_name(holder)} on {source}: {refused}")
            _settle(gatehouse, item.id or 0, None, f"not revoked: {refused}")
            continue
        if outcome is None:
            continue  # a reviewer decided it a moment ago: theirs is the decision
        report.revoked += 1
        told = holder if isinstance(holder, User) else None  # a team's members were told by the revoke
        _settle(gatehouse, item.id or 0, ReviewDecision.REVOKED_UNREVIEWED, aws_text(outcome), told, what, source)


def _revoke_if_undecided(
    gatehouse: Gatehouse, operator: Person, item_id: int, holder: User | Team, paths: Paths
) -> GrantOutcome | None:
    """Take the decision on the item, if it is still undecided, and revoke its grant in the same transaction (as
    revoke_access does): a reviewer deciding it at the same moment wins or loses whole. None: someone decided it."""
    with gatehouse.session() as session:
        item = session.get(ReviewItem, item_id)
        source = session.get(DataSource, item.source_id) if item is not None else None
        assert item is not None and source is not None
        changing_access(session, source)
        taken = session.exec(  # type: ignore[call-overload]
            update(ReviewItem)
            .where(col(ReviewItem.id) == item_id, col(ReviewItem.decision).is_(None))
            .values(decision=ReviewDecision.REVOKED_UNREVIEWED.value, decided_by=audit.SYSTEM, decided_at=utcnow())
        )
        if taken.rowcount != 1:
            return None
        roles = record_revoke(  # the holder and the admins are told once AWS has taken it (_settle)
            gatehouse,
            session,
            operator,
            source,
            holder,
            paths,
            announce=isinstance(holder, Team),  # type: ignore[arg-type]  # a team's members are told by the revoke
        )
    return GrantOutcome(list(roles), applied(session))


def _settle(
    gatehouse: Gatehouse,
    item_id: int,
    decision: ReviewDecision | None,
    aws: str,
    holder: User | None = None,
    what: str = "",
    source: str = "",
) -> None:
    """Record what became of an unreviewed item (decision None: it stays undecided, to be flagged with the reason).
    A reviewer who decided it since it was read keeps their decision: theirs is what happened to the grant."""
    with gatehouse.session() as session:
        item = session.get(ReviewItem, item_id, with_for_update=True)
        assert item is not None
        if decision is not None and item.decision not in (None, ReviewDecision.FLAGGED.value, decision.value):
            return
        item.aws_outcome = aws
        campaign = session.get(ReviewCampaign, item.campaign_id)
        assert campaign is not None
        review = review_named(campaign.due_on)
        if decision is not None:
            item.decision, item.decided_by, item.decided_at = decision.value, audit.SYSTEM, utcnow()
            item.after = {}
        session.add(item)
        if holder is not None:
            audit.record(
                session,
                audit.SYSTEM,
                "review-revoked-unreviewed",
                f"{holder.username}'s {what} ended: nobody reviewed it in the {review}",
                source_id=item.source_id,
                subject=holder.username,
                campaign=item.campaign_id,
                item=item_id,
            )
            notify(
                session,
                [holder],
                NotificationKind.REVIEW,
                f"Your access to {source} has ended",
                f"Nobody confirmed your {what} in the {review} by its due date, so it has "
                "ended. Ask for it again on the Request access page if you still need it.",
            )
            source_row = session.get(DataSource, item.source_id)
            admins = users_named(session, admins_of(session, source_row)) if source_row is not None else []
            notify(
                session,
                [a for a in admins if a.id != holder.id],
                NotificationKind.REVIEW,
                f"{holder.username}'s access to {source} has ended",
                f"Nobody reviewed {holder.username}'s {what} in the {review} by its due date, so it has ended.",
            )


def _close_settled(gatehouse: Gatehouse, report: ReviewRun) -> None:
    """An overdue campaign whose flagged grants have all been reviewed since is closed."""
    with gatehouse.session() as session:
        overdue = list(
            session.exec(select(ReviewCampaign.id).where(col(ReviewCampaign.state) == CampaignState.OVERDUE.value))
        )
        for campaign_id in overdue:
            left = session.exec(select(ReviewItem.id).where(ReviewItem.campaign_id == campaign_id, PENDING)).first()
            if left is None:
                closed = session.exec(
                    update(ReviewCampaign)
                    .where(
                        col(ReviewCampaign.id) == campaign_id,
                        col(ReviewCampaign.state) == CampaignState.OVERDUE.value,
                    )
                    .values(state=CampaignState.CLOSED.value, closed_at=utcnow())
                ).rowcount  # type: ignore[call-overload]
                due_on = session.exec(select(ReviewCampaign.due_on).where(ReviewCampaign.id == campaign_id)).one()
                if closed:
                    report.closed.append(campaign_id)
                    audit.record(
                        session,
                        audit.SYSTEM,
                        "review-closed",
                        f"The {review_named(due_on)} is closed",
                        campaign=campaign_id,
                    )
