"""Starting an access review (issue #17): the platform team on the Platform page or `gatehouse reviews start`, or
Gatehouse itself for the sources nobody has reviewed for GATEHOUSE_REVIEW_EVERY_DAYS. A campaign covers each live
grant of its sources once (and every external user's, wherever it is: rules.in_review_scope), snapshotted in
one INSERT … SELECT so that 100,000 grants start in seconds; holders and reviewers are told in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, exists, func, insert, literal, or_, true
from sqlmodel import Session, col, select

from core import audit, effects
from core.actor import acting
from core.adapters.models import DataSource, Grant, Notification, User, utcnow
from core.adapters.review_models import ReviewCampaign, ReviewItem
from core.context import Gatehouse
from core.domain import InvalidInput, day, plural
from core.notify import NotificationKind, notify
from core.queries import admin_pairs, get_source, live_grant, platform_team
from core.reads.reviews import not_theirs, other_admins
from core.rules import check_platform_admin
from core.rules.reviews import CampaignState, check_due_date, review_named

AUTOMATIC_WINDOW_DAYS = 28  # a campaign Gatehouse starts by itself is due four weeks later


@dataclass(frozen=True)
class Started:
    campaign_id: int
    due_on: date
    grants: int
    holders: int
    sources: int


def start_review(
    gatehouse: Gatehouse, actor: User, due_on: date, sources: list[str] | None = None, today: date | None = None
) -> Started:
    """Start a campaign over the named sources (none: every source), due on `due_on`: for the platform team."""
    today = today or utcnow().date()
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        check_due_date(due_on, today).enforce(InvalidInput)
        named = [get_source(session, actor, name) for name in dict.fromkeys(sources or [])]
        for source in named:
            if source.archived_at is not None:
                raise InvalidInput(f"{source.name} is archived: it has no access left to review.")
        started = open_campaign(session, actor.username, due_on, [s.id or 0 for s in named] or None, today)
        if started.grants == 0:
            raise InvalidInput("There is no live access to review in those sources.")
    return started


def open_campaign(
    session: Session, started_by: str, due_on: date, source_ids: list[int] | None, today: date
) -> Started:
    """Record a campaign and its items in the caller's transaction (set-based: one INSERT … SELECT for the items,
    one for each kind of notification), and the audit event. `source_ids` None: every source."""
    names = (
        list(session.exec(select(DataSource.name).where(col(DataSource.id).in_(source_ids)).order_by(DataSource.name)))
        if source_ids
        else []
    )
    campaign = ReviewCampaign(started_by=started_by, due_on=due_on, sources=names, state=CampaignState.OPEN.value)
    session.add(campaign)
    session.flush()
    scope = col(Grant.source_id).in_(source_ids) if source_ids else true()
    covered = (
        select(
            literal(campaign.id, Integer),
            Grant.source_id,
            Grant.user_id,
            Grant.id,
            Grant.level,
            Grant.paths,
            Grant.expires_on,
            Grant.granted_by_id,
            Grant.created_at,
        )
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .join(User, col(User.id) == Grant.user_id)
        .where(*live_grant(today), or_(scope, col(User.is_external).is_(True)))  # rules.in_review_scope
    )
    columns = ["campaign_id", "source_id", "user_id", "grant_id", "level", "paths", "expires_on"]
    session.execute(insert(ReviewItem).from_select([*columns, "granted_by_id", "granted_at"], covered))
    teams = (  # a team's grant is one item, whoever it reaches (the review's read shows them)
        select(
            literal(campaign.id, Integer),
            Grant.source_id,
            Grant.team_id,
            Grant.id,
            Grant.level,
            Grant.paths,
            Grant.expires_on,
            Grant.granted_by_id,
            Grant.created_at,
        )
        .join(DataSource, col(DataSource.id) == Grant.source_id)
        .outerjoin(User, col(User.id) == Grant.user_id)
        .where(col(Grant.team_id).is_not(None), *live_grant(today), scope)
    )
    held_by_team = ["campaign_id", "source_id", "team_id", *columns[3:]]
    session.execute(insert(ReviewItem).from_select([*held_by_team, "granted_by_id", "granted_at"], teams))
    counted = session.exec(
        select(
            func.count(), func.count(func.distinct(ReviewItem.user_id)), func.count(func.distinct(ReviewItem.source_id))
        ).where(ReviewItem.campaign_id == campaign.id)
    ).one()
    started = Started(campaign.id or 0, due_on, *(int(n) for n in counted))
    if started.grants:
        _ask(session, campaign, started)
    scope_text = ", ".join(names) if names else "every source"
    audit.record(
        session,
        started_by,
        "review-started",
        f"{started_by} started the {review_named(due_on)} of {scope_text}: {plural(started.grants, 'grant')} of "
        f"{plural(started.holders, 'person', 'people')}, due {day(due_on)}",
        campaign=campaign.id,
        due_on=due_on.isoformat(),
        sources=names,
        grants=started.grants,
    )
    return started


def _ask(session: Session, campaign: ReviewCampaign, started: Started) -> None:
    """Every holder is asked whether they still need their access, and every reviewer told what to review: one
    INSERT … SELECT each, however many there are (email follows through notify.deliver_email)."""
    now = utcnow()
    due = f"{day(campaign.due_on)}"
    holders = (  # a team's grant asks no one: its reviewers decide it
        select(ReviewItem.user_id)
        .where(ReviewItem.campaign_id == campaign.id, col(ReviewItem.user_id).is_not(None))
        .distinct()
    )
    _notify_all(
        session,
        holders,
        "Do you still need your access?",
        f"The {review_named(campaign.due_on)} has started. On your Inbox page, say for each of your grants "
        f"whether you still need it, by {due}: access you no longer need ends at once, and the source's admins see "
        "your answer.",
        now,
        NotificationKind.REVIEW_QUESTION,
    )
    pairs = admin_pairs()  # their own admins and their admin teams' members
    reviewers = (
        select(pairs.c.user_id)
        .where(
            exists().where(  # a grant of someone else on their source is in the campaign
                ReviewItem.campaign_id == campaign.id,
                ReviewItem.source_id == pairs.c.source_id,
                not_theirs(pairs.c.user_id),
            ),
        )
        .distinct()
    )
    _notify_all(
        session,
        reviewers,
        "Review who has access to your sources",
        f"The {review_named(campaign.due_on)} has started. On the Admin page, under Review access, keep, lower or "
        f"revoke each grant of your sources by {due}.",
        now,
        NotificationKind.REVIEW,
    )
    orphaned = session.exec(select(func.count()).where(ReviewItem.campaign_id == campaign.id, ~other_admins())).one()
    if orphaned:
        notify(
            session,
            platform_team(session),
            NotificationKind.REVIEW,
            "Review the access to orphaned sources",
            f"The {review_named(campaign.due_on)} has {plural(orphaned, 'grant')} that nobody but the platform team "
            "can review (orphaned sources, or the grants of a source's only admin): on the Platform page, under "
            f"Reviews, by {due}.",
        )


def _notify_all(
    session: Session, user_ids: object, subject: str, body: str, now: datetime, kind: NotificationKind
) -> None:
    rows = select(
        user_ids.subquery().c.user_id,  # type: ignore[attr-defined]
        literal(kind.value),
        literal(subject),
        literal(body),
        literal(now, Notification.__table__.c.created_at.type),  # type: ignore[attr-defined]
    )
    session.execute(insert(Notification).from_select(["user_id", "kind", "subject", "body", "created_at"], rows))
    effects.send_mail(session)


def start_due_reviews(gatehouse: Gatehouse, every_days: int, today: date) -> Started | None:
    """Gatehouse starts one campaign by itself over every live source with live access that nobody has reviewed for
    `every_days` (nor since it was made): due AUTOMATIC_WINDOW_DAYS later."""
    since = datetime.combine(today - timedelta(days=every_days), datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
    recent = (
        select(ReviewItem.source_id)
        .join(ReviewCampaign, col(ReviewCampaign.id) == ReviewItem.campaign_id)
        .where(ReviewItem.source_id == DataSource.id, col(ReviewCampaign.started_at) >= since)
    )
    live = (  # a member's live grant on the source (apps' grants are not reviewed)
        select(Grant.id)
        .join(User, col(User.id) == Grant.user_id)
        .where(Grant.source_id == DataSource.id, *live_grant(today))
    )
    with gatehouse.session() as session:
        due = list(
            session.exec(
                select(DataSource.id).where(
                    col(DataSource.archived_at).is_(None),
                    col(DataSource.created_at) < since,
                    exists(live),
                    ~exists(recent),
                )
            )
        )
        if not due:
            return None
        return open_campaign(session, audit.SYSTEM, today + timedelta(days=AUTOMATIC_WINDOW_DAYS), due, today)
