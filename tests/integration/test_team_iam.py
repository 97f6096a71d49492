"""A team's grants in IAM (issue #28), where access is enforced (moto, on the member's assumed role): a member reads
through their team, a member's own grant and their team's on overlapping paths at different levels make their union,
a member removed from the team is denied, a team's grant lowered denies writing. And how it is written: a team's
policies, a new version for a change whatever its size, one attach or detach for a member joining or leaving,
folded into a member's own documents where no attachment is left, retried when AWS fails, and reconciled."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlmodel import col, select

from core import actions, effects, iam_sync
from core.actions.add_user import add_user
from core.actor import platform_operator
from core.adapters.aws import AwsError
from core.adapters.models import RoleSync, SyncState
from core.context import Gatehouse
from core.domain import AccessLevel, user_role_name
from core.domain import SyncState as Sync
from core.reads import platform
from core.team_policies import folded_teams, team_policy_stem
from tests.aws_helpers import as_user
from tests.teams import change_team_level, grant_team, join, leave, make_team, revoke_team

pytestmark = pytest.mark.both_databases  # a team's policy count and its folded members are read in SQL

SOURCE, OTHER = "alpha-prisons", "alpha-courts"


def setup(gatehouse: Gatehouse, members: list[str]) -> int:
    actor = platform_operator("test")
    add_user(gatehouse, actor, "owner", "owner@example.org")
    for name in [*members, "outsider"]:
        add_user(gatehouse, actor, name, f"{name}@example.org")
    for source in (SOURCE, OTHER):
        actions.create_source(gatehouse, actor, source, admin="owner")
        for key in ("published/a.csv", "drafts/b.csv"):
            gatehouse.aws.put_object(source, key, b"1")
    return make_team(gatehouse, "prisons", members)


def attached(gatehouse: Gatehouse, username: str) -> set[str]:
    return set(gatehouse.aws.read_role_policies(user_role_name(gatehouse.settings.env, username)).teams)


def test_a_member_reads_through_their_team_and_a_member_removed_cannot(bare_gatehouse: Gatehouse) -> None:
    gatehouse = bare_gatehouse
    team = setup(gatehouse, ["ann", "ben"])
    outcomes = grant_team(gatehouse, team, SOURCE, AccessLevel.READ_ONLY, "/published")
    assert not [o for o in outcomes if o.error]
    with as_user(gatehouse, "ann") as ann:
        assert ann.can("get", SOURCE, "published/a.csv")
        assert not ann.can("get", SOURCE, "drafts/b.csv")
        assert not ann.can("put", SOURCE, "published/new.csv")
        assert not ann.can("get", OTHER, "published/a.csv")
    with as_user(gatehouse, "outsider") as outsider:
        assert not outsider.can("get", SOURCE, "published/a.csv")
    assert attached(gatehouse, "ann") == {f"{team_policy_stem(team)}-1"}

    leave(gatehouse, team, "ann")
    with as_user(gatehouse, "ann") as ann:
        assert not ann.can("get", SOURCE, "published/a.csv")
    with as_user(gatehouse, "ben") as ben:  # the team's access is untouched for the others
        assert ben.can("get", SOURCE, "published/a.csv")
    assert attached(gatehouse, "ann") == set()

    join(gatehouse, team, "outsider")
    with as_user(gatehouse, "outsider") as joiner:  # at once
        assert joiner.can("get", SOURCE, "published/a.csv")


def test_own_and_team_grants_on_overlapping_paths_unite_and_a_lowered_team_grant_denies_writing(
    bare_gatehouse: Gatehouse,
) -> None:
    gatehouse, actor = bare_gatehouse, platform_operator("test")
    team = setup(gatehouse, ["ann", "ben"])
    grant_team(gatehouse, team, SOURCE, AccessLevel.READ_WRITE)  # the whole source
    actions.grant_access(gatehouse, actor, OTHER, ["ann"], AccessLevel.READ_WRITE, "/drafts")
    grant_team(gatehouse, team, OTHER, AccessLevel.READ_ONLY)  # the whole of it, read only: overlaps ann's /drafts
    with as_user(gatehouse, "ann") as ann:
        assert ann.can("put", OTHER, "drafts/mine.csv")  # her own
        assert ann.can("get", OTHER, "published/a.csv")  # the team's
        assert not ann.can("put", OTHER, "published/new.csv")  # neither
        assert ann.can("put", SOURCE, "published/new.csv")
    with as_user(gatehouse, "ben") as ben:
        assert not ben.can("put", OTHER, "drafts/mine.csv")
        assert ben.can("get", OTHER, "drafts/b.csv")

    change_team_level(gatehouse, team, SOURCE, AccessLevel.READ_ONLY)
    with as_user(gatehouse, "ben") as ben:
        assert not ben.can("put", SOURCE, "published/newer.csv")
        assert ben.can("get", SOURCE, "published/a.csv")
    with as_user(gatehouse, "ann") as ann:
        assert not ann.can("put", SOURCE, "published/newer.csv")
        assert ann.can("put", OTHER, "drafts/still-mine.csv")  # her own grant stands


def test_a_change_to_a_team_that_holds_access_writes_its_policy_not_its_members_roles(
    bare_gatehouse: Gatehouse,
) -> None:
    gatehouse = bare_gatehouse
    team = setup(gatehouse, ["ann", "ben", "cat"])
    first = grant_team(gatehouse, team, SOURCE, AccessLevel.READ_ONLY, "/published")
    assert sorted(o.role_name for o in first) == sorted(
        [team_policy_stem(team), *(user_role_name(gatehouse.settings.env, n) for n in ("ann", "ben", "cat"))]
    )  # the first grant attaches the policy to every member's role
    for change in (
        lambda: grant_team(gatehouse, team, OTHER, AccessLevel.READ_ONLY),
        lambda: change_team_level(gatehouse, team, OTHER, AccessLevel.READ_WRITE),
        lambda: revoke_team(gatehouse, team, OTHER),
    ):
        outcomes = change()
        assert [o.role_name for o in outcomes] == [team_policy_stem(team)]  # no member's role is touched
        assert outcomes[0].writes == 1 and outcomes[0].error is None
    with as_user(gatehouse, "cat") as cat:
        assert not cat.can("get", OTHER, "published/a.csv")
        assert cat.can("get", SOURCE, "published/a.csv")

    last = revoke_team(gatehouse, team, SOURCE)  # the last revoke: detached from every member, the policy deleted
    assert not [o for o in last if o.error]
    assert all(attached(gatehouse, n) == set() for n in ("ann", "ben", "cat"))
    assert gatehouse.aws.read_team_policies(team) == {}
    with as_user(gatehouse, "ann") as ann:
        assert not ann.can("get", SOURCE, "published/a.csv")


def test_a_member_without_room_for_the_team_holds_it_in_their_own_documents_and_is_told(
    bare_gatehouse: Gatehouse,
) -> None:
    gatehouse = bare_gatehouse
    team = setup(gatehouse, ["ann", "ben"])
    iam = gatehouse.aws.iam
    role = user_role_name(gatehouse.settings.env, "ann")
    for n in range(gatehouse.settings.managed_policy_quota):  # others took every attachment of ann's role
        arn = iam.create_policy(PolicyName=f"theirs-{n}", PolicyDocument=json.dumps(_nothing()))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    grant_team(gatehouse, team, SOURCE, AccessLevel.READ_ONLY, "/published")
    assert attached(gatehouse, "ann") == set() and attached(gatehouse, "ben") == {f"{team_policy_stem(team)}-1"}
    with gatehouse.session() as session:
        assert folded_teams(session, _user(session, "ann")) == ["prisons"]
        assert folded_teams(session, _user(session, "ben")) == []
    with as_user(gatehouse, "ann") as ann:
        assert ann.can("get", SOURCE, "published/a.csv")

    outcomes = change_team_level(gatehouse, team, SOURCE, AccessLevel.READ_WRITE)  # ann's own documents follow
    assert sorted(o.role_name for o in outcomes) == sorted([team_policy_stem(team), role])
    with as_user(gatehouse, "ann") as ann:
        assert ann.can("put", SOURCE, "published/new.csv")


def test_a_team_policy_aws_refused_is_pending_with_its_reason_and_retried(
    bare_gatehouse: Gatehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    gatehouse = bare_gatehouse
    team = setup(gatehouse, ["ann"])
    grant_team(gatehouse, team, SOURCE, AccessLevel.READ_ONLY, "/published")

    def refuse(*args: object) -> int:
        raise AwsError("CreatePolicyVersion", "gatehouse-team", "Rate exceeded", "Throttling")

    monkeypatch.setattr(type(gatehouse.aws), "write_team_policies", refuse)
    outcomes = grant_team(gatehouse, team, OTHER, AccessLevel.READ_ONLY)
    assert outcomes[0].error and "Rate exceeded" in outcomes[0].error
    with gatehouse.session() as session:
        rows = platform.unapplied_roles(session, _admin(session))
    assert [(r.state, "prisons" in r.role_name, "Rate exceeded" in (r.last_error or "")) for r in rows] == [
        (Sync.FAILED, True, True)
    ]
    with as_user(gatehouse, "ann") as ann:  # not yet
        assert not ann.can("get", OTHER, "published/a.csv")
    monkeypatch.undo()
    assert not [o for o in iam_sync.sync_pending(gatehouse) if o.error]
    with as_user(gatehouse, "ann") as ann:
        assert ann.can("get", OTHER, "published/a.csv")
    with gatehouse.session() as session:
        row = session.exec(select(RoleSync).where(RoleSync.team_id == team)).one()
        assert row.state == SyncState.APPLIED


def test_a_drifted_team_policy_and_a_detached_one_are_shown_and_repaired(bare_gatehouse: Gatehouse) -> None:
    gatehouse, actor = bare_gatehouse, platform_operator("test")
    team = setup(gatehouse, ["ann", "ben"])
    grant_team(gatehouse, team, SOURCE, AccessLevel.READ_ONLY, "/published")
    assert actions.find_drift(gatehouse, actor) == []
    iam = gatehouse.aws.iam
    arn = gatehouse.aws.policy_arn(f"{team_policy_stem(team)}-1")
    widened = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{SOURCE}/*"}],
    }
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(widened), SetAsDefault=True)
    iam.detach_role_policy(RoleName=user_role_name(gatehouse.settings.env, "ben"), PolicyArn=arn)

    drift = actions.find_drift(gatehouse, actor)
    by_name = {d.role_name: d.what for d in drift}
    assert "the prisons team's policies" in by_name[team_policy_stem(team)]
    assert f"{SOURCE}/*" in by_name[team_policy_stem(team)]  # the read of the whole source IAM has
    assert "not attached" in by_name[user_role_name(gatehouse.settings.env, "ben")]
    actions.repair(gatehouse, drift, actor)
    assert actions.find_drift(gatehouse, actor) == []
    with as_user(gatehouse, "ben") as ben:
        assert ben.can("get", SOURCE, "published/a.csv")
        assert not ben.can("get", SOURCE, "drafts/b.csv")


def _nothing() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetBucketTagging", "Resource": "*"}],
    }


def _user(session, name: str):  # type: ignore[no-untyped-def]
    from core.queries import get_user

    return get_user(session, name)


def _admin(session):  # type: ignore[no-untyped-def]
    from core.actor import acting

    return acting(session, platform_operator("test"))


def test_a_leaver_holds_nothing_through_their_team(bare_gatehouse: Gatehouse) -> None:
    gatehouse, actor = bare_gatehouse, platform_operator("test")
    team = setup(gatehouse, ["ann", "ben"])
    grant_team(gatehouse, team, SOURCE, AccessLevel.READ_ONLY, "/published")
    actions.mark_left(gatehouse, actor, "ann")
    assert attached(gatehouse, "ann") == set()
    with as_user(gatehouse, "ann") as ann:
        assert not ann.can("get", SOURCE, "published/a.csv")
    with as_user(gatehouse, "ben") as ben:
        assert ben.can("get", SOURCE, "published/a.csv")


def test_a_roles_own_spilled_policy_rewritten_is_not_attached_again(bare_gatehouse: Gatehouse) -> None:
    gatehouse, actor = bare_gatehouse, platform_operator("test")
    setup(gatehouse, ["ann"])
    long = "/".join(["a-long-folder-name-of-the-project"] * 3)
    paths = "\n".join(f"/{long}/part-{n:02d}" for n in range(50))
    actions.grant_access(gatehouse, actor, SOURCE, ["ann"], AccessLevel.READ_ONLY, paths)
    role = user_role_name(gatehouse.settings.env, "ann")
    assert gatehouse.aws.read_role_policies(role).managed  # spilled past the inline policy
    calls: list[str] = []
    gatehouse.aws.iam.meta.events.register("before-call.iam", lambda model, **_: calls.append(model.name))
    actions.revoke_access(gatehouse, actor, SOURCE, "ann", paths="\n".join(paths.splitlines()[:5]))
    assert "CreatePolicyVersion" in calls  # its spilled policy rewritten
    assert "AttachRolePolicy" not in calls  # attached already: no write for nothing
    for n in ("00", "49"):
        gatehouse.aws.put_object(SOURCE, f"{long}/part-{n}/f.csv", b"1")
    with as_user(gatehouse, "ann") as ann:
        assert ann.can("get", SOURCE, f"{long}/part-49/f.csv")
        assert not ann.can("get", SOURCE, f"{long}/part-00/f.csv")


def test_a_team_whose_grants_spill_into_a_second_policy_has_both_attached_and_back(bare_gatehouse: Gatehouse) -> None:
    gatehouse = bare_gatehouse
    team = setup(gatehouse, ["ann", "ben"])
    grant_team(gatehouse, team, OTHER, AccessLevel.READ_ONLY, "/published")
    long = "/".join(["a-long-folder-name-of-the-project"] * 3)
    many = "\n".join(f"/{long}/part-{n:02d}" for n in range(50))
    outcomes = grant_team(gatehouse, team, SOURCE, AccessLevel.READ_WRITE, many)
    assert not [o for o in outcomes if o.error]
    stem = team_policy_stem(team)
    assert len(gatehouse.aws.read_team_policies(team)) >= 2
    assert attached(gatehouse, "ben") == set(f"{stem}-{n}" for n in gatehouse.aws.read_team_policies(team))
    gatehouse.aws.put_object(SOURCE, f"{long}/part-49/f.csv", b"1")
    with as_user(gatehouse, "ben") as ben:
        assert ben.can("put", SOURCE, f"{long}/part-49/new.csv")
        assert ben.can("get", OTHER, "published/a.csv")

    revoke_team(gatehouse, team, SOURCE)  # back to one policy: the others detached from every member and deleted
    assert list(gatehouse.aws.read_team_policies(team)) == [1]
    assert attached(gatehouse, "ann") == attached(gatehouse, "ben") == {f"{stem}-1"}
    with as_user(gatehouse, "ben") as ben:
        assert not ben.can("put", SOURCE, f"{long}/part-49/newer.csv")
        assert ben.can("get", OTHER, "published/a.csv")
    assert actions.find_drift(gatehouse, platform_operator("test")) == []


def test_a_large_teams_first_grant_answers_after_its_policy_and_writes_the_rest_in_the_background(
    bare_gatehouse: Gatehouse,
) -> None:
    """A first grant reaches every member's role: past GATEHOUSE_ROLES_IN_ANSWER of them, the team's policy and the
    first roles are written before the answer, which says plainly that the rest are still being written; they are."""
    team = setup(bare_gatehouse, ["ann", "ben", "cat", "dan"])
    gatehouse = replace(bare_gatehouse, settings=bare_gatehouse.settings.model_copy(update={"roles_in_answer": 1}))
    outcome = actions.grant_team_access(
        gatehouse, platform_operator("test"), SOURCE, "prisons", AccessLevel.READ_ONLY, "/published"
    )
    assert outcome.aws_pending == (
        "3 more members' roles are being written in the background; each shows as pending until it is"
    )
    assert next(o.role_name for o in outcome.synced if not o.error) == team_policy_stem(team)  # the policy first
    effects.wait_for_background()
    with gatehouse.session() as session:
        states = session.exec(select(RoleSync.state).where(col(RoleSync.user_id).is_not(None))).all()
    assert states and set(states) == {Sync.APPLIED}
    for name in ("ann", "ben", "cat", "dan"):
        with as_user(gatehouse, name) as member:
            assert member.can("get", SOURCE, "published/a.csv")

    revoked = actions.revoke_team_access(gatehouse, platform_operator("test"), SOURCE, "prisons")  # the last revoke
    assert [o.error for o in revoked.failed] == [
        "3 more members' roles are being written in the background; each shows as pending until it is"
    ]  # nothing refused: the team's policy is detached from every member and deleted by its own sync
    effects.wait_for_background()
    iam_sync.sync_pending(gatehouse)  # what a start or reconcile does: nothing may be left failed or pending
    with gatehouse.session() as session:
        assert set(session.exec(select(RoleSync.state))) == {Sync.APPLIED}
    assert gatehouse.aws.read_team_policies(team) == {}
    for name in ("ann", "ben", "cat", "dan"):
        assert attached(gatehouse, name) == set()
        with as_user(gatehouse, name) as member:
            assert not member.can("get", SOURCE, "published/a.csv")
