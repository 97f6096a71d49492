"""An object's history: its earlier versions (and delete markers), newest first, with who wrote each one where
Gatehouse wrote it.

Who wrote a version is known only from Gatehouse's own record of the VersionId S3 answered each of its writes with
(ObjectWrite): never from the object's metadata, which anyone with write access sets as they like through their own
role. Any other version was written outside Gatehouse, by a role with write access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from core.adapters.models import ObjectWrite, User
from core.context import Gatehouse
from core.queries import source_access
from core.rules import check_can_read

MAX_VERSIONS = 50
OUTSIDE_GATEHOUSE = "written outside Gatehouse (by a role with write access)"


@dataclass(frozen=True)
class VersionEntry:
    version_id: str
    current: bool
    deleted: bool  # a delete marker: the object was deleted at this point
    size: int
    last_modified: datetime
    written_by: str | None  # the mover, when Gatehouse wrote this version
    movement_id: int | None  # the form it was written under (none: a restore, which needs no form)

    @property
    def writer(self) -> str:
        """Who wrote it, in the words of the Versions table."""
        if self.written_by is None:
            return OUTSIDE_GATEHOUSE
        if self.movement_id is None:
            return f"{self.written_by} (restored)"
        return f"{self.written_by} (form {self.movement_id})"


def object_versions(
    gatehouse: Gatehouse, actor: User, source: str, key: str, limit: int = MAX_VERSIONS
) -> list[VersionEntry]:
    with gatehouse.session() as session:
        access = source_access(session, actor, source)
        check_can_read(access, key).enforce()
    listed = gatehouse.aws.versions(access.bucket, key, min(max(limit, 1), MAX_VERSIONS))
    with gatehouse.session() as session:
        written = {
            version_id: (username, movement_id)
            for version_id, username, movement_id in session.exec(
                select(ObjectWrite.version_id, User.username, ObjectWrite.movement_id)
                .join(User, col(User.id) == ObjectWrite.user_id)
                .where(
                    ObjectWrite.bucket == access.bucket,
                    ObjectWrite.key == key,
                    col(ObjectWrite.version_id).in_([v.version_id for v in listed]),
                )
            ).all()
        }
    return [
        VersionEntry(
            v.version_id,
            v.is_latest,
            v.is_delete_marker,
            v.size,
            v.last_modified,
            *written.get(v.version_id, (None, None)),
        )
        for v in listed
    ]
