"""A team's grants as policies of its own, and a member's role laid out around them (pure: core/team_policies.py)."""

from __future__ import annotations

import pytest

from core.adapters.aws import LivePolicies
from core.domain import AccessLevel
from core.paths import Paths
from core.policy import MANAGED_LIMIT, BucketGrant, PolicyTooLarge, minify
from core.team_policies import TeamShare, role_layout, team_documents, team_policy_names
from tests.iam_eval import is_allowed

ROOM = LivePolicies(role_exists=True)


def share(team_id: int, *grants: BucketGrant) -> TeamShare:
    return TeamShare(team_id, grants, team_policy_names(team_id, len(team_documents(grants))))


def many_paths(bucket: str, count: int) -> BucketGrant:
    return BucketGrant(bucket, AccessLevel.READ_ONLY, Paths(f"/project-{n:04d}/reference" for n in range(count)))


def test_a_teams_policies_hold_its_grants_without_the_account_statements_and_spill_past_6144_characters() -> None:
    one = team_documents([BucketGrant("alpha-x", AccessLevel.READ_ONLY, Paths(["/published"]))])
    assert len(one) == 1
    assert is_allowed(list(one), "s3:GetObject", "arn:aws:s3:::alpha-x/published/a.csv", {})
    assert not is_allowed(list(one), "s3:ListAllMyBuckets", "*", {})  # every role has it in its own document
    spilled = team_documents([many_paths("alpha-x", 200)])
    assert len(spilled) > 1 and all(len(minify(d)) <= MANAGED_LIMIT for d in spilled)
    assert team_documents([]) == ()
    assert team_policy_names(7, 2) == ("gatehouse-team-7-1", "gatehouse-team-7-2")  # by id: a rename changes nothing


def test_a_members_teams_are_attached_while_room_is_left_and_the_rest_folded_into_their_own_documents() -> None:
    own = [BucketGrant("alpha-own", AccessLevel.READ_WRITE)]
    teams = [share(t, BucketGrant(f"alpha-team-{t}", AccessLevel.READ_ONLY)) for t in (1, 2, 3)]

    roomy = role_layout(own, teams, ROOM, managed_quota=10)
    assert roomy.attached == ("gatehouse-team-1-1", "gatehouse-team-2-1", "gatehouse-team-3-1")
    assert roomy.folded == ()
    assert not is_allowed(list(roomy.documents), "s3:GetObject", "arn:aws:s3:::alpha-team-1/a.csv", {})

    others = LivePolicies(role_exists=True, attached_by_others=8)  # two attachments left
    tight = role_layout(own, teams, others, managed_quota=10)
    assert tight.attached == ("gatehouse-team-1-1", "gatehouse-team-2-1") and tight.folded == (3,)
    assert is_allowed(list(tight.documents), "s3:GetObject", "arn:aws:s3:::alpha-team-3/a.csv", {})
    assert is_allowed(list(tight.documents), "s3:PutObject", "arn:aws:s3:::alpha-own/a.csv", {})

    full = role_layout(own, teams, LivePolicies(role_exists=True, attached_by_others=10), managed_quota=10)
    assert full.attached == () and full.folded == (1, 2, 3)


def test_a_member_whose_own_grants_need_the_room_folds_teams_before_refusing() -> None:
    team = share(1, BucketGrant("alpha-team", AccessLevel.READ_ONLY))
    two_left = LivePolicies(role_exists=True, attached_by_others=8)
    some = role_layout([many_paths("alpha-own", 100)], [team], two_left, managed_quota=10)  # one spilled policy
    assert (len(some.managed), some.attached, some.folded) == (1, ("gatehouse-team-1-1",), ())
    more = role_layout([many_paths("alpha-own", 130)], [team], two_left, managed_quota=10)  # two: none left
    assert (len(more.managed), more.attached, more.folded) == (2, (), (1,))
    assert is_allowed(list(more.documents), "s3:GetObject", "arn:aws:s3:::alpha-team/a.csv", {})
    with pytest.raises(PolicyTooLarge, match="do not fit"):
        role_layout([many_paths("alpha-own", 400)], [team], LivePolicies(role_exists=True), managed_quota=1)


def test_a_teams_grants_past_its_policies_are_refused_naming_the_limit() -> None:
    with pytest.raises(PolicyTooLarge, match="A team's grants must fit in 1 managed policy of 6,144 characters"):
        team_documents([many_paths("alpha-x", 200)], most=1)
