"""History is kept: an object's earlier versions are listed with who wrote them, an earlier version can be downloaded
after a download form, and a reader-writer restores one (or undeletes an object) after a restore form, on record.
Nobody's role may delete a version (tests/unit/test_policy.py); Gatehouse's own credentials restore."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from core import actions
from core.adapters.models import AuditEvent, MovementKind
from core.context import Gatehouse
from core.domain import InvalidInput, NotAllowed, NotFound
from core.movement import FormNeeded
from core.reads.versions import object_versions
from tests.integration.test_movement import WORKSPACE, calls, form, put_direct, user

KEY = "history/prices.csv"
FIRST, SECOND = b"item,price\napple,1\n", b"item,price\napple,2\n"


def upload(gatehouse: Gatehouse, body: bytes, overwrite: bool = False) -> None:
    alice = user(gatehouse, "alice")
    form_id = actions.record_movement(gatehouse, alice, MovementKind.UPLOAD, form(), WORKSPACE)
    actions.upload(gatehouse, alice, form_id, WORKSPACE, KEY, io.BytesIO(body), len(body), overwrite=overwrite)


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
    earlier = versions[1].version_id

    downloaded = actions.record_movement(gatehouse, alice, MovementKind.DOWNLOAD, form(), WORKSPACE)
    assert b"".join(actions.download(gatehouse, alice, downloaded, WORKSPACE, KEY, earlier)) == FIRST

    with pytest.raises(FormNeeded):
        actions.restore_version(gatehouse, alice, None, WORKSPACE, KEY, earlier)
    restore = actions.record_movement(gatehouse, alice, MovementKind.RESTORE, form(), WORKSPACE)
    restored = actions.restore_version(gatehouse, alice, restore, WORKSPACE, KEY, earlier)
    assert not restored.undeleted and current(gatehouse) == FIRST
    after = object_versions(gatehouse, alice, WORKSPACE, KEY)
    assert len(after) == 3 and after[0].current and after[0].written_by == "alice"  # nothing lost: a new version
    with pytest.raises(InvalidInput, match="already the current one"):
        actions.restore_version(gatehouse, alice, restore, WORKSPACE, KEY, after[0].version_id)
    with gatehouse.session() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "data-restored")).one()
    assert event.actor == "alice" and event.details["from_version"] == earlier and "restored" in event.summary


def test_a_deleted_object_is_undeleted_by_removing_its_delete_marker(gatehouse: Gatehouse) -> None:
    upload(gatehouse, FIRST)
    gatehouse.aws.s3.delete_object(Bucket=WORKSPACE, Key=KEY)  # alice's own tools: a delete leaves a marker
    alice = user(gatehouse, "alice")
    versions = object_versions(gatehouse, alice, WORKSPACE, KEY)
    assert [(v.current, v.deleted) for v in versions] == [(True, True), (False, False)]
    restore = actions.record_movement(gatehouse, alice, MovementKind.RESTORE, form(), WORKSPACE)
    restored = actions.restore_version(gatehouse, alice, restore, WORKSPACE, KEY, versions[1].version_id)
    assert restored.undeleted and current(gatehouse) == FIRST
    assert [(v.current, v.deleted) for v in object_versions(gatehouse, alice, WORKSPACE, KEY)] == [(True, False)]


def test_a_reader_cannot_restore_and_an_unknown_version_is_one_sentence(gatehouse: Gatehouse) -> None:
    upload(gatehouse, FIRST)
    upload(gatehouse, SECOND, overwrite=True)
    alice = user(gatehouse, "alice")
    with pytest.raises(NotAllowed, match="read-only access"):  # alice reads alpha-sales-analysis, never writes it
        actions.record_movement(gatehouse, alice, MovementKind.RESTORE, form(), "alpha-sales-analysis")
    restore = actions.record_movement(gatehouse, alice, MovementKind.RESTORE, form(), WORKSPACE)
    with pytest.raises(NotFound, match="has no version"):
        actions.restore_version(gatehouse, alice, restore, WORKSPACE, KEY, "not-a-version")
    assert current(gatehouse) == SECOND


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
    restore = actions.record_movement(gatehouse, alice, MovementKind.RESTORE, form(), WORKSPACE)
    actions.restore_version(gatehouse, alice, restore, WORKSPACE, KEY, versions[1].version_id)
    assert current(gatehouse) == FIRST and len(listed) == 2  # restoring looks the version up the same way
