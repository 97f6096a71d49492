"""An object's history: its earlier versions (and delete markers), newest first, with who wrote each one where
Gatehouse moved it (the movement form's id travels in the object's metadata)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from core.adapters.models import DataMovement, User
from core.context import Gatehouse
from core.movement import MOVEMENT_METADATA
from core.queries import source_access
from core.rules import check_can_read

MAX_VERSIONS = 50


@dataclass(frozen=True)
class VersionEntry:
    version_id: str
    current: bool
    deleted: bool  # a delete marker: the object was deleted at this point
    size: int
    last_modified: datetime
    written_by: str | None  # the mover, when Gatehouse wrote this version
    movement_id: int | None


def object_versions(
    gatehouse: Gatehouse, actor: User, source: str, key: str, limit: int = MAX_VERSIONS
) -> list[VersionEntry]:
    with gatehouse.session() as session:
        access = source_access(session, actor, source)
        check_can_read(access, key).enforce()
    listed = gatehouse.aws.versions(access.bucket, key, min(max(limit, 1), MAX_VERSIONS))
    forms: dict[str, int] = {}
    for version in listed:
        if not version.is_delete_marker:
            mark = gatehouse.aws.version_metadata(access.bucket, key, version.version_id).get(MOVEMENT_METADATA, "")
            if mark.isdigit():
                forms[version.version_id] = int(mark)
    with gatehouse.session() as session:
        movers = dict(
            session.exec(
                select(DataMovement.id, User.username)
                .join(User, col(User.id) == DataMovement.user_id)
                .where(col(DataMovement.id).in_(set(forms.values())), DataMovement.source_id == access.source.id)
            ).all()
        )
    return [
        VersionEntry(
            v.version_id,
            v.is_latest,
            v.is_delete_marker,
            v.size,
            v.last_modified,
            movers.get(forms.get(v.version_id, -1)),
            forms.get(v.version_id) if forms.get(v.version_id) in movers else None,
        )
        for v in listed
    ]
