"""SCIM 2.0 provisioning (issue #27), what real tenants send beyond the RFCs' examples: Entra ID's UPN as userName,
test tenants' reserved domains; a leaver's teams; a joiner's IAM role made after the answer; the environment's token
after a revoke. Through the ASGI app of `gatehouse serve` (Starlette's TestClient), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from sqlmodel import select
from starlette.testclient import TestClient

from core import actions, auth
from core.actions.provision_team import change_members, teams
from core.actions.scim_token import create_token, revoke_token
from core.actor import platform_operator
from core.adapters.models import RoleSync
from core.config import Settings
from core.context import Gatehouse
from core.domain import InvalidInput, SyncState
from core.service.app import make_app
from tests.integration.test_scim import GROUP, _events, _id, _member, _patch, _user, scim  # noqa: F401  (fixture)

ISSUER = "https://login.microsoftonline.com/contoso/v2.0"


def _group(client: TestClient, name: str, *members: str) -> str:
    made = client.post(
        "Groups", json={"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _in_group(client: TestClient, group: str) -> list[str]:
    return sorted(m["value"] for m in client.get(f"Groups/{group}").json().get("members", []))


def test_an_entra_upn_is_the_address_its_member_signs_in_with(gatehouse: Gatehouse, scim: TestClient) -> None:  # noqa: F811
    """Entra ID sends userName as the UPN, and its ID token carries the same UPN as preferred_username."""
    upn = "Dana.O_Brien@contoso.example"
    body = _user("x", userName=upn, emails=[{"type": "work", "primary": True, "value": "dana@mail.contoso.example"}])
    created = scim.post("Users", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["userName"] == upn.lower()  # what Entra ID matches on, read back
    dana = _member(gatehouse, "dana-o-brien")
    assert (dana.email, str(dana.id)) == ("dana@mail.contoso.example", created.json()["id"])
    found = scim.get("Users", params={"filter": 'userName eq "DANA.O_BRIEN@CONTOSO.EXAMPLE"'}).json()
    assert [r["id"] for r in found["Resources"]] == [str(dana.id)]
    renamed = scim.patch(f"Users/{dana.id}", json=_patch({"op": "Replace", "path": "displayName", "value": "Dana"}))
    assert renamed.status_code == 200 and renamed.json()["userName"] == upn.lower(), renamed.text

    claims = {"iss": ISSUER, "sub": "dana-sub", "preferred_username": upn, "iat": 1_700_000_000}
    signed_in = gatehouse.run(auth.record_oidc_sign_in, gatehouse.settings, claims)
    assert (signed_in.username, signed_in.refusal) == ("dana-o-brien", None)

    again = scim.post("Users", json=_user("x", userName="dana.o.brien@fabrikam.example"))
    assert again.status_code == 409 and again.json()["scimType"] == "uniqueness"
    assert again.json()["detail"] == "There is already a platform member called dana-o-brien."
    nothing = scim.post("Users", json=_user("x", userName="..@contoso.example"))
    assert nothing.status_code == 400 and "put a letter or digit before its @" in nothing.json()["detail"]


def test_test_tenants_reserved_domains_are_addresses(gatehouse: Gatehouse, scim: TestClient) -> None:  # noqa: F811
    for username, address in [("uma", "uma@contoso.local"), ("vic", "vic@lab.test")]:
        created = scim.post("Users", json=_user(username, emails=[{"value": address, "primary": True}]))
        assert created.status_code == 201, created.text
        assert created.json()["emails"][0]["value"] == address
        assert _member(gatehouse, username).email == address
    refused = scim.post("Users", json=_user("wes", emails=[{"value": "wes@localhost", "primary": True}]))
    assert refused.status_code == 400 and refused.json()["scimType"] == "invalidValue", refused.text


def test_a_leaver_is_taken_out_of_their_teams(gatehouse: Gatehouse, scim: TestClient) -> None:  # noqa: F811
    alice, bob, carol = (_id(gatehouse, n) for n in ("alice", "bob", "carol"))
    analysts = _group(scim, "analysts", alice, bob, carol)
    left = scim.patch(f"Users/{bob}", json=_patch({"op": "Replace", "path": "active", "value": "False"}))
    assert left.status_code == 200, left.text
    assert _in_group(scim, analysts) == sorted([alice, carol])
    (event,) = [e for e in _events(gatehouse, "team-members-changed", None) if e.details["removed"] == ["bob"]]
    assert event.actor == "scim:entra"

    # the identity provider's group still lists him (Okta's PUT of the whole group): kept as its record, shown as
    # having left, never a live member
    members = [{"value": m} for m in (alice, bob, carol)]
    put = scim.put(f"Groups/{analysts}", json={"schemas": [GROUP], "displayName": "analysts", "members": members})
    assert put.status_code == 200, put.text
    (shown,) = teams(gatehouse)
    assert (shown.name, shown.left) == ("analysts", ("bob",))

    # marked as having left by hand (Platform → Users), as by the identity provider; and never added by hand
    actions.mark_left(gatehouse, platform_operator("test"), "carol")
    assert _in_group(scim, analysts) == sorted([alice, bob])
    with pytest.raises(InvalidInput) as refused:  # the platform team's own add (gatehouse teams add-member)
        change_members(gatehouse, platform_operator("test"), "analysts", add=["carol"])
    assert str(refused.value) == "carol has left, and a leaver is in no team."
    assert _in_group(scim, analysts) == sorted([alice, bob])


def test_a_joiners_iam_role_is_made_after_the_answer(gatehouse: Gatehouse, scim: TestClient) -> None:  # noqa: F811
    assert scim.post("Users", json=_user("ivy")).status_code == 201
    gatehouse.settle()
    assert gatehouse.aws.iam.get_role(RoleName="alpha_user_ivy")["Role"]["RoleName"] == "alpha_user_ivy"
    with gatehouse.session() as session:
        (sync,) = session.exec(select(RoleSync).where(RoleSync.role_name == "alpha_user_ivy")).all()
    assert sync.state == SyncState.APPLIED

    # the old platform's role, with its access: kept for import-iam, as the Platform page's joiner keeps it
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    iam = gatehouse.aws.iam
    iam.create_role(RoleName="alpha_user_jon", AssumeRolePolicyDocument=gatehouse.aws.trust_policy())
    iam.put_role_policy(RoleName="alpha_user_jon", PolicyName="s3-access", PolicyDocument=json.dumps(wide))
    assert scim.post("Users", json=_user("jon")).status_code == 201
    gatehouse.settle()
    kept = iam.get_role_policy(RoleName="alpha_user_jon", PolicyName="s3-access")["PolicyDocument"]
    assert kept == wide
    assert len(_events(gatehouse, "user-existing-access-kept", "jon")) == 1


def test_a_revoked_environment_token_is_not_made_again(gatehouse: Gatehouse, settings: Settings) -> None:
    def started(secret: str) -> Gatehouse:
        return Gatehouse(settings.model_copy(update={"scim_token": SecretStr(secret)}), gatehouse.engine, gatehouse.aws)

    first, second = "f" * 40, "g" * 40
    with TestClient(make_app(started(first))) as client:
        assert client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {first}"}).status_code == 200
    revoke_token(gatehouse, platform_operator("test"), "GATEHOUSE_SCIM_TOKEN")
    with TestClient(make_app(started(first))) as client:  # restarted with the variable still set
        assert client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    with TestClient(make_app(started(second))) as client:  # a new value is a new token
        assert client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    assert create_token(gatehouse, platform_operator("test"), "okta")  # others are untouched
