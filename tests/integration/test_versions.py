"""History is kept: an object's earlier versions are listed with who wrote them, an earlier version can be downloaded
after a download form, and a reader-writer restores one (or undeletes an object) with no form (nothing enters or
leaves the platform), on record.
Nobody's role may delete a version (tests/unit/test_policy.py); Gatehouse's own credentials restore. Who wrote a
version is what Gatehouse recorded of its own writes: a movement form's id put in an object's metadata through
someone's own role credits nobody."""

from __future__ import annotations

import io

import pytest
from boto3.s3.transfer import TransferConfig
from sqlmodel import select

from core import actions
from core.adapters.models import AuditEvent, DataMovement, MovementKind
from core.context import Gatehouse
from core.domain import InvalidInput, NotAllowed, NotFound
from core.movement import MOVEMENT_METADATA
from core.reads.versions import OUTSIDE_GATEHOUSE, object_versions
from tests.aws_helpers import as_user
from tests.integration.test_movement import WORKSPACE, MiB, calls, form, put_direct, user

KEY = "history/prices.csv"
FIRST, SECOND = b"item,price\napple,1\n", b"item,price\napple,2\n"


def upload(gatehouse: Gatehouse, body: bytes, overwrite: bool = False, who: str = "alice") -> int:
    mover = user(gatehouse, who)
    form_id = actions.record_movement(gatehouse, mover, MovementKind.UPLOAD, form(), WORKSPACE)
    actions.upload(gatehouse, mover, form_id, WORKSPACE, KEY, io.BytesIO(body), len(body), overwrite=overwrite)
    return form_id


def current(gatehouse: Gatehouse) -> bytes:
    return gatehouse.aws.open_object(WORKSPACE, KEY).read()


def test_an_overwritten_object_keeps_its_history_and_a_writer_restores_it(gatehouse: Gatehouse) -> None:
    upload(gatehouse, FIRST)
    upload(gatehouse, SECOND, overwrite=True)
    alice = user(gatehouse, "alice")
    versions = object_versions(gatehouse, alice, WORKSPACE, KEY)
    assert [(v.current, v.size, v.written_by) for v in versions] == [
        (True, len(SECOND), "alice"),
        (False, len(FIRST), "alice"),
    ]
    assert versions[0].writer == f"alice (form {versions[0].movement_id})"
    earlier = versions[1].version_id

    downloaded = actions.record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(), WORKSPACE)
    assert b"".join(actions.download(gatehouse, alice, downloaded, WORKSPACE, KEY, earlier)) == FIRST

    with pytest.raises(InvalidInput, match="needs no data movement form"):
        actions.record_movement(gatehouse, alice, MovementKind.RESTORE, form(), WORKSPACE)
    forms = movements(gatehouse)
    restored = actions.restore_version(gatehouse, alice, WORKSPACE, KEY, earlier)
    assert not restored.undeleted and current(gatehouse) == FIRST
    assert movements(gatehouse) == forms  # no form asked for, none made
    after = object_versions(gatehouse, alice, WORKSPACE, KEY)
    assert len(after) == 3 and after[0].current  # nothing lost: a new version
    assert (after[0].written_by, after[0].movement_id, after[0].writer) == ("alice", None, "alice (restored)")
    with pytest.raises(InvalidInput, match="already the current one"):
        actions.restore_version(gatehouse, alice, WORKSPACE, KEY, after[0].version_id)
    with gatehouse.session() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "data-restored")).one()
    assert event.actor == "alice" and event.details["from_version"] == earlier and "restored" in event.summary
    assert (event.details["key"], event.details["version_id"]) == (KEY, after[0].version_id)


def movements(gatehouse: Gatehouse) -> list[int | None]:
    with gatehouse.session() as session:
        return list(session.exec(select(DataMovement.id)))


def test_a_deleted_object_is_undeleted_by_removing_its_delete_marker(gatehouse: Gatehouse) -> None:
    upload(gatehouse, FIRST)
    gatehouse.aws.s3.delete_object(Bucket=WORKSPACE, Key=KEY)  # alice's own tools: a delete leaves a marker
    alice = user(gatehouse, "alice")
    versions = object_versions(gatehouse, alice, WORKSPACE, KEY)
    assert [(v.current, v.deleted) for v in versions] == [(True, True), (False, False)]
    restored = actions.restore_version(gatehouse, alice, WORKSPACE, KEY, versions[1].version_id)
    assert restored.undeleted and current(gatehouse) == FIRST
    assert [(v.current, v.deleted) for v in object_versions(gatehouse, alice, WORKSPACE, KEY)] == [(True, False)]


def test_a_reader_cannot_restore_and_an_unknown_version_is_one_sentence(gatehouse: Gatehouse) -> None:
    upload(gatehouse, FIRST)
    upload(gatehouse, SECOND, overwrite=True)
    alice = user(gatehouse, "alice")
    earlier = object_versions(gatehouse, alice, WORKSPACE, KEY)[1].version_id
    bob = user(gatehouse, "bob")  # reads the workspace, never writes it
    assert object_versions(gatehouse, bob, WORKSPACE, KEY)[1].version_id == earlier  # he sees the history
    with pytest.raises(NotAllowed, match="read-only access"):  # core holds it, whatever a page shows him
        actions.restore_version(gatehouse, bob, WORKSPACE, KEY, earlier)
    with pytest.raises(NotFound, match="has no version"):
        actions.restore_version(gatehouse, alice, WORKSPACE, KEY, "not-a-version")
    assert current(gatehouse) == SECOND
    with gatehouse.session() as session:  # a refused restore leaves nothing on record as done
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "data-restored")).all() == []


def test_an_objects_versions_are_found_in_one_list_call_however_many_keys_follow_it(gatehouse: Gatehouse) -> None:
    """S3 lists every key that starts with the object's (`prices.csv.0001`…, in key order after it): the listing
    stops at the first page that goes past the object, not after paging through them all."""
    upload(gatehouse, FIRST)
    upload(gatehouse, SECOND, overwrite=True)
    for n in range(2_500):  # two and a half pages of S3's 1,000 keys after the object
        put_direct(WORKSPACE, f"{KEY}.{n:04d}", b"x")
    put_direct(WORKSPACE, f"{KEY}/inside", b"x")
    listed = calls(gatehouse, "ListObjectVersions")
    alice = user(gatehouse, "alice")
    versions = object_versions(gatehouse, alice, WORKSPACE, KEY)
    assert [(v.current, v.size) for v in versions] == [(True, len(SECOND)), (False, len(FIRST))]
    assert len(listed) == 1
    actions.restore_version(gatehouse, alice, WORKSPACE, KEY, versions[1].version_id)
    assert current(gatehouse) == FIRST and len(listed) == 2  # restoring looks the version up the same way


def test_a_form_id_forged_through_a_writers_own_role_credits_nobody(gatehouse: Gatehouse) -> None:
    """alice writes with boto3 through her own role, naming carol's upload form in the object's metadata: the version
    is shown as written outside Gatehouse, and Gatehouse's own writes before it keep their writer."""
    carols = upload(gatehouse, FIRST, who="carol")
    with as_user(gatehouse, "alice") as alice_role:
        alice_role.s3.put_object(Bucket=WORKSPACE, Key=KEY, Body=SECOND, Metadata={MOVEMENT_METADATA: str(carols)})
    assert gatehouse.aws.head_object(WORKSPACE, KEY)["Metadata"] == {MOVEMENT_METADATA: str(carols)}  # forged
    versions = object_versions(gatehouse, user(gatehouse, "alice"), WORKSPACE, KEY)
    assert [(v.size, v.written_by, v.movement_id, v.writer) for v in versions] == [
        (len(SECOND), None, None, OUTSIDE_GATEHOUSE),
        (len(FIRST), "carol", carols, f"carol (form {carols})"),
    ]


def test_copies_moves_and_restores_are_credited_to_their_mover(gatehouse: Gatehouse) -> None:
    """Every write Gatehouse makes is recorded by the VersionId S3 answered: a copy's, a move's and the delete
    marker it leaves behind (a restore's: the first test); a delete through someone's own role is outside Gatehouse."""
    upload(gatehouse, FIRST)
    alice = user(gatehouse, "alice")
    copied = actions.record_movement(gatehouse, alice, MovementKind.COPY, form(), WORKSPACE, WORKSPACE)
    actions.copy(gatehouse, alice, copied, WORKSPACE, KEY, WORKSPACE, "history/copy.csv")
    moved = actions.record_movement(gatehouse, alice, MovementKind.MOVE, form(), WORKSPACE, WORKSPACE)
    actions.move(gatehouse, alice, moved, WORKSPACE, "history/copy.csv", WORKSPACE, "history/moved.csv")

    def writers(key: str) -> list[tuple[bool, str | None, int | None]]:
        return [(v.deleted, v.written_by, v.movement_id) for v in object_versions(gatehouse, alice, WORKSPACE, key)]

    assert writers("history/moved.csv") == [(False, "alice", moved)]
    assert writers("history/copy.csv") == [(True, "alice", moved), (False, "alice", copied)]

    with as_user(gatehouse, "alice") as alice_role:
        alice_role.s3.delete_object(Bucket=WORKSPACE, Key="history/moved.csv")
    assert writers("history/moved.csv") == [(True, None, None), (False, "alice", moved)]


def test_a_multipart_upload_is_credited_by_the_version_its_completion_answered(gatehouse: Gatehouse) -> None:
    alice = user(gatehouse, "alice")
    body = bytes(11 * MiB)
    parts = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    form_id = actions.record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
    moved = actions.upload(gatehouse, alice, form_id, WORKSPACE, KEY, io.BytesIO(body), len(body), config=parts)
    [version] = object_versions(gatehouse, alice, WORKSPACE, KEY)
    assert moved.version_id == version.version_id
    assert (version.size, version.written_by, version.movement_id) == (len(body), "alice", form_id)
