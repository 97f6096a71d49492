"""Access reviews as pages and the CLI show them: a reviewer's grants to review (with what helps decide: since when
and from whom, per the audit trail, and the holder's last data movement), their progress, a holder's questions, the
platform team's campaigns and each campaign's report (paged, and as CSV). Everything pages in the database.

`reviewable_by` is `rules.check_may_review` as SQL, written once here for the reads and the actions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, not_, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, exists, select

from core.actor import acting
from core.adapters.models import DataSource, Grant, Team, TeamMember, User
from core.adapters.review_models import ReviewCampaign, ReviewItem
from core.csv_export import csv_records
from core.domain import AccessLevel, NotFound, day, format_paths, moment
from core.paths import Paths
from core.queries import admin_pairs, administered_by, left_marked_by, teams_of
from core.reads.page import Page, fetch
from core.reads.review_context import granted_events, last_movements
from core.reads.teams import reach
from core.rules import EndedByLeaving, Person, check_platform_admin, ended_by_leaving
from core.rules.reviews import REVIEWABLE_STATES, CampaignState, ReviewDecision

PENDING = or_(col(ReviewItem.decision).is_(None), col(ReviewItem.decision) == ReviewDecision.FLAGGED.value)


def other_admins() -> Any:
    """An EXISTS: the item's source has an active admin besides the grant's holder (their own or an admin team's; a
    team's grant: besides its members)."""
    pairs = admin_pairs()
    return exists().where(
        pairs.c.source_id == ReviewItem.source_id,
        pairs.c.user_id != func.coalesce(ReviewItem.user_id, 0),
        pairs.c.user_id.not_in(select(TeamMember.user_id).where(TeamMember.team_id == ReviewItem.team_id)),
    )


def not_theirs(user_id: Any) -> ColumnElement[bool]:
    """The item is not the grant of this member (a value or a column), nor of a team they are in: nobody reviews
    those."""
    if user_id is None:
        return true()
    team = or_(col(ReviewItem.team_id).is_(None), col(ReviewItem.team_id).not_in(teams_of(user_id)))
    return and_(func.coalesce(ReviewItem.user_id, 0) != user_id, team)


def reviewable_by(actor: Person, *, as_platform: bool) -> ColumnElement[bool]:
    """`rules.check_may_review` as SQL, over ReviewItem: on Admin, the items of sources the actor is an active
    admin of; on Platform, those nobody else can review (no active admin but the holder). Never one's own."""
    not_own = not_theirs(actor.id)
    if as_platform:
        if not actor.is_platform_admin:
            return false()
        return and_(not_(other_admins()), not_own)
    if actor.id is None:
        return false()
    return and_(col(ReviewItem.source_id).in_(administered_by(actor.id)), not_own)


def _source_id(name: str) -> Any:
    return select(DataSource.id).where(DataSource.name == name).scalar_subquery()


def _in_reviewable_campaign() -> ColumnElement[bool]:
    return col(ReviewItem.campaign_id).in_(
        select(ReviewCampaign.id).where(col(ReviewCampaign.state).in_(REVIEWABLE_STATES))
    )


@dataclass(frozen=True)
class ReviewRow:
    item_id: int
    due_on: date
    source: str
    holder: str
    external: bool
    level: AccessLevel  # as held now (as at the campaign's start once the grant is gone)
    paths: Paths
    expires_on: date | None
    grant_id: int | None  # None: the grant has gone
    since: datetime | None
    granted_by: str
    last_movement: datetime | None
    holder_answer: str | None
    decision: ReviewDecision | None
    decided_by: str | None
    ended: EndedByLeaving | None = None  # the holder has left since: revoked, nothing left to review
    team: str | None = None  # a team's grant, reviewed as one item (holder "team:<name>")
    members: tuple[str, ...] = ()  # whom a team's grant reaches: its active members

    @property
    def pending(self) -> bool:
        return self.ended is None and (self.decision is None or not self.decision.settled)


@dataclass(frozen=True)
class Progress:
    total: int
    reviewed: int
    flagged: int

    @property
    def text(self) -> str:
        return f"{self.reviewed:,} of {self.total:,} reviewed" + (
            f" · {self.flagged:,} overdue" if self.flagged else ""
        )


@dataclass(frozen=True)
class ReviewPage(Page[ReviewRow]):
    progress: Progress  # of all the grants the page is of (one source, or all of the reviewer's), whichever are listed


def to_review(
    session: Session,
    actor: User,
    source: str | None = None,
    *,
    as_platform: bool = False,
    pending_only: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> ReviewPage:
    """One page of the grants the actor reviews in the open campaigns (of one source, or all of theirs): those still
    to decide first, then by source and holder; and how far their review has got, whose count is the page's total
    (one count over a reviewer's thousands of items, not one for the progress and another for the page)."""
    actor = acting(session, actor)
    done = _progress(session, actor, source, as_platform=as_platform)
    where = [_in_reviewable_campaign(), reviewable_by(actor, as_platform=as_platform)]
    if source:
        where.append(ReviewItem.source_id == _source_id(source))
    if pending_only:
        where.append(PENDING)
    # The page's ids first (sorted on what the order needs), then the details of those alone: joining the grant and
    # its granter to every item of 300 sources before the sort took ten times as long.
    order = (case((PENDING, 0), else_=1), DataSource.name, func.coalesce(User.username, Team.name), ReviewItem.id)
    ids = list(
        session.exec(
            select(ReviewItem.id)
            .join(DataSource, col(DataSource.id) == ReviewItem.source_id)
            .outerjoin(User, col(User.id) == ReviewItem.user_id)
            .outerjoin(Team, col(Team.id) == ReviewItem.team_id)
            .where(*where)
            .order_by(*order)
            .offset(offset)
            .limit(limit)
        )
    )
    total = done.total - done.reviewed if pending_only else done.total
    granter = aliased(User)
    details = session.exec(
        select(ReviewItem, ReviewCampaign.due_on, DataSource.name, User, Grant, granter, left_marked_by(), Team.name)
        .join(ReviewCampaign, col(ReviewCampaign.id) == ReviewItem.campaign_id)
        .join(DataSource, col(DataSource.id) == ReviewItem.source_id)
        .outerjoin(User, col(User.id) == ReviewItem.user_id)
        .outerjoin(Team, col(Team.id) == ReviewItem.team_id)
        .outerjoin(Grant, col(Grant.id) == ReviewItem.grant_id)
        .outerjoin(granter, col(granter.id) == ReviewItem.granted_by_id)
        .where(col(ReviewItem.id).in_(ids))
    ).all()
    position = {item_id: n for n, item_id in enumerate(ids)}
    rows = sorted(details, key=lambda row: position[row[0].id])
    named = [(row[0], row[3].username if row[3] else f"team:{row[7]}") for row in rows]  # as the audit names them
    since = granted_events(session, named)
    moved = last_movements(session, [item for item, *_ in rows if item.user_id is not None])
    reached = reach(session, [item.team_id for item, *_ in rows if item.team_id is not None])
    items = []
    for item, due_on, source_name, holder, grant, by, marked_by, team in rows:
        event = since.get(item.id or 0)
        items.append(
            ReviewRow(
                item_id=item.id or 0,
                due_on=due_on,
                source=source_name,
                holder=holder.username if holder else f"team:{team}",
                external=bool(holder and holder.is_external),
                level=grant.level if grant else item.level,
                paths=grant.paths if grant else item.paths,
                expires_on=grant.expires_on if grant else item.expires_on,
                grant_id=item.grant_id,
                since=event[0] if event else item.granted_at,
                granted_by=event[1] if event else (by.username if by else ""),
                last_movement=moved.get((item.user_id, item.source_id)),
                holder_answer=item.holder_answer,
                decision=ReviewDecision(item.decision) if item.decision else None,
                decided_by=item.decided_by,
                ended=ended_by_leaving(holder.status, holder.left_at, marked_by) if holder else None,
                team=team,
                members=reached[item.team_id].members if item.team_id in reached else (),
            )
        )
    return ReviewPage(items, total, offset, limit, done)


def progress(session: Session, actor: User, source: str | None = None, *, as_platform: bool = False) -> Progress:
    """How far the actor's review has got in the open campaigns: "37 of 120 reviewed"."""
    return _progress(session, acting(session, actor), source, as_platform=as_platform)


def _progress(session: Session, actor: User, source: str | None, *, as_platform: bool) -> Progress:
    """`progress` for an actor already read in this transaction (`acting`)."""
    query = (
        select(
            func.count(),
            func.sum(case((PENDING, 0), else_=1)),
            func.sum(case((col(ReviewItem.decision) == "flagged", 1), else_=0)),
        )
        .select_from(ReviewItem)
        .where(_in_reviewable_campaign(), reviewable_by(actor, as_platform=as_platform))
    )
    if source:
        query = query.where(ReviewItem.source_id == _source_id(source))
    total, reviewed, flagged = session.exec(query).one()
    return Progress(int(total or 0), int(reviewed or 0), int(flagged or 0))


def review_sources(session: Session, actor: User, *, as_platform: bool = False) -> list[str]:
    """The sources the actor has grants to review in the open campaigns (for the Review tab's picker)."""
    actor = acting(session, actor)
    # Each candidate source asked whether it has one item to review (it stops at the first), not every item of
    # hundreds of sources gathered and made distinct.
    if as_platform:
        candidates, theirs = [], reviewable_by(actor, as_platform=True)
    elif actor.id is None:
        return []
    else:  # `reviewable_by` for an admin, its two halves where each is cheapest
        candidates, theirs = [col(DataSource.id).in_(administered_by(actor.id))], not_theirs(actor.id)
    has_items = exists().where(ReviewItem.source_id == DataSource.id, _in_reviewable_campaign(), theirs)
    return list(session.exec(select(DataSource.name).where(*candidates, has_items).order_by(DataSource.name)).all())


@dataclass(frozen=True)
class Question:
    item_id: int
    source: str
    level: AccessLevel
    paths: Paths
    due_on: date


def _open_questions(holder_id: int | None) -> Any:
    """The holder's grants under review that still exist, that nobody has decided and that they have not answered:
    what an access review still asks them."""
    return (
        select(ReviewItem, DataSource.name, ReviewCampaign.due_on, Grant)
        .join(ReviewCampaign, col(ReviewCampaign.id) == ReviewItem.campaign_id)
        .join(DataSource, col(DataSource.id) == ReviewItem.source_id)
        .join(Grant, col(Grant.id) == ReviewItem.grant_id)
        .where(
            ReviewItem.user_id == holder_id,
            col(ReviewCampaign.state).in_(REVIEWABLE_STATES),
            PENDING,
            col(ReviewItem.holder_answer).is_(None),
        )
    )


def my_questions(session: Session, actor: User, offset: int = 0, limit: int = 10) -> Page[Question]:
    """Do they still need it? Each of the holder's grants an access review still asks about: an answered one, or one
    a reviewer decided, is no longer asked (the question once stayed after it was answered)."""
    actor = acting(session, actor)
    rows, total = fetch(session, _open_questions(actor.id), (DataSource.name, ReviewItem.id), offset, limit)
    items = [Question(item.id or 0, name, grant.level, grant.paths, due_on) for item, name, due_on, grant in rows]
    return Page(items, total, offset, limit)


QUESTION_DONE = "Done: nothing is left for you to answer"


def question_standings(session: Session, holder: User, questions: list[int]) -> dict[int, str]:
    """Where the holder's access review questions (their messages' ids) stand: done once no review asks them anything
    more (answered, decided, ended or closed); while one is open they have no standing (they ask)."""
    if not questions or session.exec(_open_questions(holder.id).limit(1)).first() is not None:
        return {}
    return dict.fromkeys(questions, QUESTION_DONE)


@dataclass(frozen=True)
class CampaignRow:
    id: int
    started_by: str
    started_at: datetime
    due_on: date
    state: CampaignState
    scope: str
    progress: Progress

    @property
    def overdue(self) -> bool:
        return self.state is CampaignState.OVERDUE


def campaigns(session: Session, actor: User, offset: int = 0, limit: int = 20) -> Page[CampaignRow]:
    """Every campaign, newest first, with its progress: for the platform team."""
    actor = acting(session, actor)
    check_platform_admin(actor).enforce()
    counts = (
        select(
            ReviewItem.campaign_id,
            func.count().label("total"),
            func.sum(case((PENDING, 0), else_=1)).label("reviewed"),
            func.sum(case((col(ReviewItem.decision) == "flagged", 1), else_=0)).label("flagged"),
        )
        .group_by(ReviewItem.campaign_id)
        .subquery()
    )
    query = select(ReviewCampaign, counts.c.total, counts.c.reviewed, counts.c.flagged).outerjoin(
        counts, counts.c.campaign_id == ReviewCampaign.id
    )
    rows, total = fetch(session, query, (col(ReviewCampaign.id).desc(),), offset, limit)
    items = [
        CampaignRow(
            c.id or 0,
            c.started_by,
            c.started_at,
            c.due_on,
            CampaignState(c.state),
            ", ".join(c.sources) if c.sources else "every source",
            Progress(int(n or 0), int(done or 0), int(flagged or 0)),
        )
        for c, n, done, flagged in rows
    ]
    return Page(items, total, offset, limit)


REPORT_FIELDS = (
    "campaign", "source", "holder", "external", "level", "paths", "ends", "decision", "decided_by", "decided_at",
    "reason", "holder_answer", "answered_at", "level_after", "paths_after", "ends_after", "aws", "holder_left",
)  # fmt: skip


def report(
    session: Session, actor: User, campaign_id: int, offset: int = 0, limit: int | None = 100
) -> Page[dict[str, Any]]:
    """A campaign's evidence, a grant a row as it was at the start: the decision, who decided and when, the holder's
    answer, the access after it and what AWS took. For the platform team."""
    actor = acting(session, actor)
    check_platform_admin(actor).enforce()
    if session.get(ReviewCampaign, campaign_id) is None:
        raise NotFound(f"There is no access review numbered {campaign_id}.")
    rows, total = fetch(session, _report_query(campaign_id), _REPORT_ORDER, offset, limit)
    return Page([_report_row(*row) for row in rows], total, offset, limit or total)


def _report_query(campaign_id: int) -> Any:
    return (
        select(ReviewItem, DataSource.name, User, left_marked_by(), Team.name)
        .join(DataSource, col(DataSource.id) == ReviewItem.source_id)
        .outerjoin(User, col(User.id) == ReviewItem.user_id)
        .outerjoin(Team, col(Team.id) == ReviewItem.team_id)
        .where(ReviewItem.campaign_id == campaign_id)
    )


_REPORT_ORDER = (DataSource.name, func.coalesce(User.username, Team.name), ReviewItem.id)


def source_report_rows(session: Session, campaign_id: int, source_id: int) -> list[dict[str, Any]]:
    """One source's rows of a campaign's report, as `report` has them (what its information asset owner signs)."""
    query = _report_query(campaign_id).where(ReviewItem.source_id == source_id).order_by(*_REPORT_ORDER)
    return [_report_row(*row) for row in session.exec(query).all()]


def _report_row(
    item: ReviewItem, source: str, holder: User | None, marked_by: str | None, team: str | None
) -> dict[str, Any]:
    ended = ended_by_leaving(holder.status, holder.left_at, marked_by) if holder else None
    decision = ReviewDecision(item.decision) if item.decision else None
    after = item.after or {}
    return {
        "campaign": item.campaign_id,
        "source": source,
        "holder": holder.username if holder else f"team:{team}",
        "external": "yes" if holder and holder.is_external else "no",
        "level": item.level.label,
        "paths": str(item.paths),
        "ends": day(item.expires_on) if item.expires_on else "",
        "decision": decision.label if decision else "Not reviewed yet",
        "decided_by": item.decided_by or "",
        "decided_at": moment(item.decided_at) if item.decided_at else "",
        "reason": item.reason or "",
        "holder_answer": {"yes": "still needed", "no": "no longer needed"}.get(item.holder_answer or "", ""),
        "answered_at": moment(item.answered_at) if item.answered_at else "",
        "level_after": AccessLevel(after["level"]).label
        if after.get("level")
        else ("none" if item.after is not None else ""),
        "paths_after": format_paths(tuple(after["paths"])) if after.get("level") else "",
        "ends_after": day(date.fromisoformat(after["expires_on"])) if after.get("expires_on") else "",
        "aws": item.aws_outcome or "",
        "holder_left": ended.sentence() if ended else "",
    }


def report_csv(session: Session, actor: User, campaign_id: int) -> Iterator[str]:
    """The whole report as CSV lines (a header first) through the one CSV writer (core/csv_export.py), which opens a
    reviewer's reason that looks like a formula as text; a thousand rows a round trip."""
    first = report(session, actor, campaign_id, 0, 1)  # checks who may, and that it exists
    pages = (report(session, actor, campaign_id, offset, 1000).items for offset in range(0, first.total, 1000))
    return csv_records(REPORT_FIELDS, (row for page in pages for row in page))
