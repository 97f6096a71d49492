"""Restore: an earlier version of an object becomes the current one again, by a reader-writer of that object. Nothing
enters or leaves the platform, so no data movement form is asked for: a restore is a write in the same bucket, on
record in the audit trail, with its new version credited to whoever restored it.

S3 copies that version over the object (a new version: nothing is lost); an object deleted since (its latest version
is a delete marker) is undeleted by removing the marker when the version restored is the one it hid. Gatehouse does
both with its own credentials: nobody's role may delete a version."""

from __future__ import annotations

from dataclasses import dataclass

from core import audit
from core.adapters.models import ObjectWrite, User
from core.context import Gatehouse
from core.domain import InvalidInput, NotFound, moment, plural, shown
from core.movement import validate_key
from core.queries import source_access
from core.rules import check_can_write


@dataclass(frozen=True)
class Restored:
    key: str
    version_id: str
    undeleted: bool  # the object had been deleted: its delete marker was removed


def restore_version(gatehouse: Gatehouse, actor: User, source: str, key: str, version_id: str) -> Restored:
    key = validate_key(key)
    with gatehouse.session() as session:
        access = source_access(session, actor, source)
        check_can_write(access, key).enforce()
    versions = gatehouse.aws.versions(access.bucket, key, 1000)
    chosen = next((v for v in versions if v.version_id == version_id and not v.is_delete_marker), None)
    if chosen is None:
        raise NotFound(f"{shown(key)} in {access.bucket} has no version {shown(str(version_id), 40)}.")
    if chosen.is_latest:
        raise InvalidInput(f"That version of {shown(key)} is already the current one.")
    hidden = versions[0].is_delete_marker and next(v for v in versions if not v.is_delete_marker) == chosen
    if hidden:  # the version hidden is the object again: no new version, its writer stays who it was
        gatehouse.aws.remove_delete_marker(access.bucket, key, versions[0].version_id)
        written = None
    else:  # the version as it was, its metadata (the form it was first written under) too
        written = gatehouse.aws.copy_version(access.bucket, key, version_id, {})
    size, sha256 = gatehouse.aws.checksum(access.bucket, key, written or version_id)  # what is now the object
    how = "undeleted" if hidden else "restored"
    with gatehouse.session() as session:
        if written is not None:  # the new version is Gatehouse's write, credited to the restorer (under no form)
            session.add(ObjectWrite(bucket=access.bucket, key=key, version_id=written, user_id=actor.id))
        audit.record(
            session,
            actor.username,
            "data-restored",
            f"{actor.username} {how} {shown(key)} in {access.bucket} from its version of "
            f"{moment(chosen.last_modified)} ({plural(size, 'byte')})",
            source_id=access.source.id,
            bucket=access.bucket,
            key=key,
            size=size,
            sha256=sha256,
            version_id=written,
            from_version=version_id,
            undeleted=hidden,
        )
    return Restored(key, version_id, hidden)
