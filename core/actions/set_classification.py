"""A source's classification and its information asset owner (issue #29), set by its admins or the platform team:
a source holding personal data names an active, non-external member who answers for it; one back to standard names
none. Audited; the new owner and the one before are told. Access to personal data always ends: a grant held (by a
member or a team) that does not end, or ends later than its classification allows, is given the furthest end date it
allows, in the same transaction, its holders told (an app's read-only grant on a webapp source is left as it is)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, or_, select

from core import audit
from core.access import check_manages
from core.actor import acting
from core.adapters.models import DataSource, Grant, Team, User, UserStatus, utcnow
from core.context import Gatehouse
from core.domain import Classification, InvalidInput, day, plural
from core.notify import NotificationKind, notify
from core.queries import get_source, get_user, team_members
from core.rules import check_classification, latest_end


@dataclass(frozen=True)
class Classified:
    name: str
    classification: Classification
    iao: str | None  # the information asset owner's username (personal data), else None
    changed: bool  # False: it was so already, and nothing was recorded
    ended: int = 0  # grants given an end date, as the classification asks
    ends_on: date | None = None  # … this one

    @property
    def sentence(self) -> str:
        owner = f", with {self.iao} as its information asset owner" if self.iao else ""
        said = f"{self.name} is {self.classification.label.lower()}{owner}"
        if self.ended and self.ends_on is not None:
            said += (
                f"; {plural(self.ended, 'grant')} that did not end by then now "
                f"{'ends' if self.ended == 1 else 'end'} on {day(self.ends_on)}, as it asks"
            )
        return said + ("." if self.changed else " already: nothing changed.")


def set_classification(
    gatehouse: Gatehouse, actor: User, source_name: str, classification: Classification, iao: str | None
) -> Classified:
    """Say what the source holds (`classification`) and, for personal data, who its information asset owner is (a
    username); its admins or the platform team. Standard names no owner (the one before is cleared)."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        source = get_source(session, actor, source_name)
        check_manages(session, actor, source)  # takes the source's turn: as every change of its access does
        if source.archived_at is not None:
            raise InvalidInput(f"{source.name} is archived: its classification no longer changes.")
        named = (iao or "").strip()
        if named and not classification.is_personal:
            raise InvalidInput(
                f"Only a source holding personal data has an information asset owner: leave out {named}, or "
                "choose personal data."
            )
        owner = get_user(session, named) if named else None
        if owner is not None:
            session.refresh(owner, with_for_update=True)  # a leaver being marked now leaves first, or after this
        check_classification(classification, owner).enforce(InvalidInput)
        before_owner = session.get(User, source.iao_id) if source.iao_id is not None else None
        before = _described(Classification(source.classification), before_owner)
        after = _described(classification, owner)
        if before == after:
            return Classified(source.name, classification, owner.username if owner else None, changed=False)
        source.classification, source.iao_id = classification, owner.id if owner else None
        session.add(source)
        ends_on = latest_end(gatehouse.settings.classification_rules[classification], utcnow().date())
        ended = _end_by(session, actor, source, ends_on, classification) if ends_on is not None else 0
        owned = f" with {owner.username} as its information asset owner" if owner else ""
        audit.record(
            session,
            actor.username,
            "source-classified",
            f"{actor.username} marked {source.name} as {classification.label.lower()}{owned}",
            source_id=source.id,
            before=before,
            after=after,
        )
        if owner is not None and (before_owner is None or before_owner.id != owner.id) and owner.id != actor.id:
            notify(
                session,
                [owner],
                NotificationKind.SOURCE_CLASSIFIED,
                f"You are the information asset owner of {source.name}",
                f"{actor.username} named you the information asset owner of {source.name}, which holds "
                f"{classification.label.lower()}: you answer for its data, approve access to it after its admins "
                "and sign off data leaving it.",
            )
        if before_owner is not None and (owner is None or before_owner.id != owner.id) and before_owner.id != actor.id:
            notify(
                session,
                [before_owner],
                NotificationKind.SOURCE_CLASSIFIED,
                f"You are no longer the information asset owner of {source.name}",
                f"{actor.username} "
                + (
                    f"named {owner.username} the information asset owner of {source.name} in your place."
                    if owner
                    else f"marked {source.name} as {classification.label.lower()}: it has no information asset owner."
                ),
            )
        return Classified(
            source.name, classification, owner.username if owner else None, changed=True, ended=ended, ends_on=ends_on
        )


def _end_by(session: Session, actor: User, source: DataSource, ends_on: date, classification: Classification) -> int:
    """The grants of members and teams on the source that end later than `ends_on`, or never, end on it: audited,
    their holders (a team's active members) told. IAM is not changed: an end date is the expiry's, not a policy's.
    Returns how many."""
    longer = list(
        session.exec(
            select(Grant).where(
                Grant.source_id == source.id,
                col(Grant.app_id).is_(None),
                or_(col(Grant.expires_on).is_(None), col(Grant.expires_on) > ends_on),
            )
        )
    )
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_({g.user_id for g in longer})))}
    # a leaver's grants stay on record as ended by their leaving: not theirs to be given a date
    longer = [g for g in longer if g.user_id is None or users[g.user_id].status == UserStatus.ACTIVE]
    if not longer:
        return 0
    teams = {t.id: t for t in session.exec(select(Team).where(col(Team.id).in_({g.team_id for g in longer})))}
    before = {g.id: g.expires_on.isoformat() if g.expires_on else None for g in longer}
    now = utcnow()
    for grant in longer:
        grant.expires_on, grant.updated_at, grant.expiry_warned_at = ends_on, now, None
        session.add(grant)
    holders = sorted(
        {users[g.user_id].username for g in longer if g.user_id in users}
        | {f"the {teams[g.team_id].name} team" for g in longer if g.team_id in teams}
    )
    what = classification.label.lower()
    audit.record(
        session,
        actor.username,
        "grants-end-by-classification",
        f"{source.name} holds {what}: {plural(len(longer), 'grant')} of {', '.join(holders)} that did not end by "
        f"{day(ends_on)} now end then",
        source_id=source.id,
        before=before,
        after={"expires_on": ends_on.isoformat()},
    )
    told = [users[g.user_id] for g in longer if g.user_id in users]
    told += team_members(session, [g.team_id for g in longer if g.team_id in teams])
    notify(
        session,
        list({u.id: u for u in told if u.id != actor.id}.values()),
        NotificationKind.ACCESS_CHANGED,
        f"Your access to {source.name} now ends on {day(ends_on)}",
        f"{actor.username} marked {source.name} as holding {what}: access to it always ends, so your access (yours, "
        f"or your team's) now ends on {day(ends_on)}. Before then, you can ask to extend it on My data (Ask to "
        "extend access that ends).",
    )
    return len(longer)


def _described(classification: Classification, owner: User | None) -> dict[str, object]:
    return {"classification": classification.value, "iao": owner.username if owner else None}
