"""What a source holds (issue #29): its classification and its information asset owner, as every list of sources
shows them ("Personal data · IAO carol"), and one source as its admins and the platform team see it (Admin's Personal
data form, `gatehouse sources show`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from core.actor import acting
from core.adapters.models import DataSource, User, UserStatus
from core.domain import Classification, SourceKind
from core.queries import active_admins, get_source, is_active_admin
from core.rules import check_manages_source


@dataclass(frozen=True)
class Holding:
    """What a source holds, and for personal data who answers for it."""

    classification: Classification = Classification.STANDARD
    iao: str | None = None  # the information asset owner's username
    iao_left: bool = False  # … who has left: the admins name a new one; the platform team takes their steps meanwhile

    @property
    def label(self) -> str:
        """A short plain label: "Standard", "Personal data · IAO carol", "Personal data · IAO carol (left)"."""
        if self.iao is None:
            return self.classification.label + (" · no IAO" if self.classification.is_personal else "")
        return f"{self.classification.label} · IAO {self.iao}" + (" (left)" if self.iao_left else "")


STANDARD = Holding()  # what a source holds until its admins say otherwise


def holdings(session: Session, sources: Iterable[DataSource]) -> dict[int, Holding]:
    """What each of these sources holds, by source id: one query for their owners, whatever their number."""
    listed = list(sources)
    owners = {s.iao_id for s in listed if s.iao_id is not None}
    names = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(sorted(owners))))} if owners else {}
    return {s.id or 0: holding(s, names.get(s.iao_id) if s.iao_id is not None else None) for s in listed}


def holding(source: DataSource, owner: User | None) -> Holding:
    if owner is None:
        return Holding(Classification(source.classification))
    return Holding(Classification(source.classification), owner.username, owner.status == UserStatus.LEFT)


@dataclass(frozen=True)
class SourceDetails:
    name: str
    kind: SourceKind
    hidden: bool
    archived: bool
    holds: Holding
    admins: tuple[str, ...]  # active admins, by username (empty: orphaned)


def source_details(session: Session, actor: User, name: str) -> SourceDetails:
    """One source as its admins and the platform team see it: kind, classification and owner, admins (its grants:
    `catalog.access_list`, `list_access`)."""
    actor = acting(session, actor)
    source = get_source(session, actor, name)
    check_manages_source(actor, source.name, admin_of_it=is_active_admin(session, actor, source)).enforce()
    owner = session.get(User, source.iao_id) if source.iao_id is not None else None
    return SourceDetails(
        source.name,
        SourceKind(source.kind),
        source.hidden,
        source.archived_at is not None,
        holding(source, owner),
        tuple(active_admins(session, [source.id or 0]).get(source.id or 0, [])),
    )
