"""Copy and move: an object the person may read (move: write) goes to a place they may write, under their copy or
move form; S3 copies the bytes itself, and the copy is read back once for its checksum."""

from __future__ import annotations

from core.actions.upload import raced, refuse_replacing
from core.adapters.aws import AwsError
from core.adapters.models import MovementKind, User
from core.context import Gatehouse
from core.domain import InvalidInput, NotFound, plural, shown
from core.movement import MOVEMENT_METADATA, MovedObject, add_object, check_signed, usable_movement, validate_key
from core.queries import source_access
from core.rules import check_can_read, check_can_write


def copy(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int | None,
    source: str,
    key: str,
    target: str,
    target_key: str,
    overwrite: bool = False,
) -> MovedObject:
    """Copy an object the actor may read to a place they may write, under their copy form (S3 copies it itself)."""
    return _transfer(gatehouse, actor, movement_id, source, key, target, target_key, overwrite, remove=False)


def move(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int | None,
    source: str,
    key: str,
    target: str,
    target_key: str,
    overwrite: bool = False,
) -> MovedObject:
    """Copy, then delete the original: needs write access to both places and a move form."""
    return _transfer(gatehouse, actor, movement_id, source, key, target, target_key, overwrite, remove=True)


def _transfer(
    gatehouse: Gatehouse,
    actor: User,
    movement_id: int | None,
    source: str,
    key: str,
    target: str,
    target_key: str,
    overwrite: bool,
    *,
    remove: bool,
) -> MovedObject:
    target_key = validate_key(target_key)
    kind = MovementKind.MOVE if remove else MovementKind.COPY
    done = "moved" if remove else "copied"
    with gatehouse.session() as session:
        origin = source_access(session, actor, source)
        (check_can_write if remove else check_can_read)(origin, key).enforce()
        destination = source_access(session, actor, target)
        check_can_write(destination, target_key).enforce()
        movement = usable_movement(session, actor, movement_id, (kind,), origin.source, destination.source)
        check_signed(gatehouse.settings, movement, origin.source, destination.source)  # out of personal data: signed
    if (origin.bucket, key) == (destination.bucket, target_key):
        raise InvalidInput(f"{shown(key)} would be {done} onto itself: choose another name or data source.")
    head = gatehouse.aws.head_object(origin.bucket, key)
    if head is None:
        raise NotFound(f"There is no object {shown(key)} in {origin.bucket}.")
    replaced = refuse_replacing(gatehouse.aws, destination.bucket, target_key, overwrite)
    extra = {
        "Metadata": {**head.get("Metadata", {}), MOVEMENT_METADATA: str(movement.id)},
        "MetadataDirective": "REPLACE",
        "ContentType": head.get("ContentType") or "binary/octet-stream",
    }
    try:
        version_id = gatehouse.aws.copy_object(
            origin.bucket, key, destination.bucket, target_key, extra, create_only=not overwrite
        )
    except AwsError as error:
        raise raced(error, destination.bucket, target_key) from error
    # S3 copied the bytes itself; reading the copy back once gives the checksum of what it wrote.
    size, sha256 = gatehouse.aws.checksum(destination.bucket, target_key, version_id)
    deleted = (origin.bucket, key, gatehouse.aws.delete_object(origin.bucket, key)) if remove else None
    moved = MovedObject(destination.bucket, target_key, size, sha256, version_id)
    summary = (
        f"{actor.username} {done} {shown(key)} from {origin.bucket} to {destination.bucket} as "
        f"{shown(target_key)} ({plural(size, 'byte')}) under form {movement.id}"
    )
    add_object(
        gatehouse,
        actor,
        movement.id or 0,
        moved,
        f"data-{done}",
        summary,
        origin.source.id,
        from_bucket=origin.bucket,
        from_key=key,
        replaced=replaced,
        deleted=deleted,
    )
    return moved
