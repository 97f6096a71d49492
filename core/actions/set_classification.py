"""A source's classification and its information asset owner (issue #29), set by its admins or the platform team:
a source holding personal data names an active, non-external member who answers for it; one back to standard names
none. Audited; the new owner and the one before are told."""

from __future__ import annotations

from dataclasses import dataclass

from core import audit
from core.access import check_manages
from core.actor import acting
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import Classification, InvalidInput
from core.notify import NotificationKind, notify
from core.queries import get_source, get_user
from core.rules import check_classification


@dataclass(frozen=True)
class Classified:
    name: str
    classification: Classification
    iao: str | None  # the information asset owner's username (personal data), else None
    changed: bool  # False: it was so already, and nothing was recorded

    @property
    def sentence(self) -> str:
        owner = f", with {self.iao} as its information asset owner" if self.iao else ""
        said = f"{self.name} is {self.classification.label.lower()}{owner}"
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
        return Classified(source.name, classification, owner.username if owner else None, changed=True)


def _described(classification: Classification, owner: User | None) -> dict[str, object]:
    return {"classification": classification.value, "iao": owner.username if owner else None}
