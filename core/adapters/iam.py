"""IAM: each user's (and app's) role, and the S3 access policies Gatehouse writes on it (inline `s3-access` and, when
it does not fit, numbered customer-managed policies under /gatehouse/); each team's policies (`gatehouse-team-<id>-N`
under /gatehouse/), attached to its members' roles."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from core.adapters.boto import MANAGED_BY_TAG, AwsClients, aws_call, error_code
from core.policy import INLINE_POLICY_NAME, RolePolicies, minify

# Customer-managed policies Gatehouse owns live under this IAM path, so they are never confused with others'.
POLICY_PATH = "/gatehouse/"
_TEAM_POLICY = re.compile(r"gatehouse-team-(\d+)-(\d+)")  # core/team_policies.py names them
MOST_POLICIES = 20  # IAM's most managed policies on a role: no numbered policy of Gatehouse's goes beyond it


class Iam(AwsClients):
    def trust_policy(self) -> str:
        if self.settings.role_trust_policy:
            return self.settings.role_trust_policy
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{self.account_id}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )

    def make_role(self, role_name: str) -> bool:
        """Create the role (read as missing); returns False when another made it meanwhile. Other policies on a role
        are left alone."""
        with aws_call("CreateRole", role_name):
            try:
                self.iam.create_role(
                    RoleName=role_name, AssumeRolePolicyDocument=self.trust_policy(), Tags=[MANAGED_BY_TAG]
                )
            except ClientError as error:
                if error_code(error) == "EntityAlreadyExists":
                    return False
                raise
        return True

    def role_names(self, prefix: str) -> list[str]:
        """Every role whose name starts with `prefix`, sorted."""
        with aws_call("ListRoles", "IAM"):
            pages = self.iam.get_paginator("list_roles").paginate()
            return sorted(r["RoleName"] for page in pages for r in page["Roles"] if r["RoleName"].startswith(prefix))

    def managed_policy_name(self, role_name: str, number: int) -> str:
        return f"gatehouse-{role_name}-{number}"

    def managed_policy_arn(self, role_name: str, number: int) -> str:
        return f"arn:aws:iam::{self.account_id}:policy{POLICY_PATH}{self.managed_policy_name(role_name, number)}"

    def policy_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:policy{POLICY_PATH}{name}"

    def read_role_policies(self, role_name: str) -> LivePolicies:
        """What AWS has now: the s3-access inline policy, Gatehouse's attached managed policies by number, the teams'
        policies attached (by name), and how many managed policies others attached (they count against the role's
        quota)."""
        with aws_call("GetRole", role_name):
            try:
                self.iam.get_role(RoleName=role_name)
            except ClientError as error:
                if error_code(error) == "NoSuchEntity":
                    return LivePolicies(role_exists=False)
                raise
        inline: dict[str, Any] | None = None
        with aws_call("GetRolePolicy", role_name):
            try:
                inline = self.iam.get_role_policy(RoleName=role_name, PolicyName=INLINE_POLICY_NAME)["PolicyDocument"]
            except ClientError as error:
                if error_code(error) != "NoSuchEntity":
                    raise
        others = 0
        with aws_call("ListRolePolicies", role_name):
            names = [
                n
                for page in self.iam.get_paginator("list_role_policies").paginate(RoleName=role_name)
                for n in page["PolicyNames"]
                if n != INLINE_POLICY_NAME
            ]
            for name in names:  # they share the role's inline quota with s3-access
                document = self.iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                others += len(minify(_as_dict(document) or {}))
        attached: list[dict[str, str]] = []
        with aws_call("ListAttachedRolePolicies", role_name):
            for page in self.iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
                attached.extend(page["AttachedPolicies"])
        ours = {self.managed_policy_arn(role_name, n): n for n in range(1, MOST_POLICIES + 1)}
        teams = {
            p["PolicyName"]
            for p in attached
            if _TEAM_POLICY.fullmatch(p["PolicyName"]) and p["PolicyArn"] == self.policy_arn(p["PolicyName"])
        }
        managed: dict[int, dict[str, Any]] = {}
        for policy in attached:
            number = ours.get(policy["PolicyArn"])
            if number is None:
                continue
            with aws_call("GetPolicyVersion", policy["PolicyArn"]):
                version = self.iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
                managed[number] = self.iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)[
                    "PolicyVersion"
                ]["Document"]
        return LivePolicies(
            role_exists=True,
            inline=_as_dict(inline),
            managed={n: _as_dict(d) or {} for n, d in managed.items()},
            attached_by_others=len(attached) - len(managed) - len(teams),
            inline_by_others=others,
            teams=frozenset(teams),
        )

    def write_role_policies(self, role_name: str, desired: RolePolicies, live: LivePolicies) -> int:
        """Write only the policies that differ from what AWS has, and attach or detach only the teams' policies that
        are not, or no longer, wanted; returns how many writes were made. Attachments come first and detachments last,
        so that access moving between a team's policy and the role's own documents is never missing in between."""
        writes = 0
        for name in sorted(set(desired.attached) - live.teams):
            with aws_call("AttachRolePolicy", role_name):
                self.iam.attach_role_policy(RoleName=role_name, PolicyArn=self.policy_arn(name))
            writes += 1
        if live.inline is None or minify(live.inline) != minify(desired.inline):
            with aws_call("PutRolePolicy", role_name):
                self.iam.put_role_policy(
                    RoleName=role_name, PolicyName=INLINE_POLICY_NAME, PolicyDocument=minify(desired.inline)
                )
            writes += 1
        for number, document in enumerate(desired.managed, start=1):
            current = live.managed.get(number)
            if current is not None and minify(current) == minify(document):
                continue
            writes += self._put_managed_policy(role_name, number, minify(document), attached=current is not None)
        for number in sorted(set(live.managed) - set(range(1, len(desired.managed) + 1))):
            self._delete_managed_policy(role_name, number)
            writes += 1
        for name in sorted(live.teams - set(desired.attached)):
            with aws_call("DetachRolePolicy", role_name):
                try:
                    self.iam.detach_role_policy(RoleName=role_name, PolicyArn=self.policy_arn(name))
                except ClientError as error:
                    if error_code(error) != "NoSuchEntity":  # detached meanwhile (the team's last revoke)
                        raise
            writes += 1
        return writes

    def read_team_policies(self, team_id: int) -> dict[int, dict[str, Any]]:
        """A team's policies as AWS has them now (their default versions), by number; one read a policy and one more."""
        found: dict[int, dict[str, Any]] = {}
        for number in range(1, MOST_POLICIES + 1):
            arn = self.policy_arn(f"gatehouse-team-{team_id}-{number}")
            with aws_call("GetPolicy", arn):
                try:
                    version = self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                except ClientError as error:
                    if error_code(error) != "NoSuchEntity":
                        raise
                    break  # written from 1 up and deleted from the last down: none beyond a missing one
                document = self.iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
            found[number] = _as_dict(document) or {}
        return found

    def write_team_policies(self, team_id: int, desired: tuple[dict, ...], live: dict[int, dict[str, Any]]) -> int:
        """Make a team's policies what `desired` says: a new version of each that differs (the oldest deleted first
        when IAM's five are there), a policy made where one is missing, and those no longer needed detached from the
        roles that still hold them and deleted (the last first). Returns how many writes were made."""
        writes = 0
        for number, document in enumerate(desired, start=1):
            current = live.get(number)
            if current is not None and minify(current) == minify(document):
                continue
            name = f"gatehouse-team-{team_id}-{number}"
            writes += self._put_policy(name, minify(document), f"S3 access of team {team_id}, part {number}")
        for number in sorted(set(live) - set(range(1, len(desired) + 1)), reverse=True):
            writes += self._delete_policy(self.policy_arn(f"gatehouse-team-{team_id}-{number}"))
        return writes

    def _put_policy(self, name: str, document: str, description: str) -> int:
        """A new default version of a Gatehouse policy, or the policy made; returns the writes it took."""
        arn = self.policy_arn(name)
        with aws_call("CreatePolicyVersion", arn):
            try:
                versions = self.iam.list_policy_versions(PolicyArn=arn)["Versions"]
            except ClientError as error:
                if error_code(error) != "NoSuchEntity":
                    raise
                self.iam.create_policy(
                    PolicyName=name,
                    Path=POLICY_PATH,
                    PolicyDocument=document,
                    Description=f"{description}, written by Gatehouse",
                    Tags=[MANAGED_BY_TAG],
                )
                return 1
            writes = 1
            # IAM keeps at most five versions: drop the oldest non-default one first.
            old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
            if len(versions) >= 5 and old:
                self.iam.delete_policy_version(PolicyArn=arn, VersionId=old[0]["VersionId"])
                writes += 1
            self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
        return writes

    def _delete_policy(self, arn: str) -> int:
        """Detach a Gatehouse policy from every role that holds it, then delete it; returns the writes it took."""
        writes = 0
        with aws_call("DeletePolicy", arn):
            for page in self.iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn):
                for role in page["PolicyRoles"]:
                    self.iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
                    writes += 1
            for version in self.iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    self.iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
                    writes += 1
            self.iam.delete_policy(PolicyArn=arn)
        return writes + 1

    def _put_managed_policy(self, role_name: str, number: int, document: str, attached: bool) -> int:
        """A role's numbered policy written, and attached unless it is already (another write for nothing)."""
        writes = self._put_policy(
            self.managed_policy_name(role_name, number), document, f"S3 access of {role_name}, part {number}"
        )
        if not attached:
            with aws_call("AttachRolePolicy", role_name):
                self.iam.attach_role_policy(RoleName=role_name, PolicyArn=self.managed_policy_arn(role_name, number))
            writes += 1
        return writes

    def _delete_managed_policy(self, role_name: str, number: int) -> None:
        arn = self.managed_policy_arn(role_name, number)
        with aws_call("DeletePolicy", arn):
            self.iam.detach_role_policy(RoleName=role_name, PolicyArn=arn)
            for version in self.iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    self.iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
            self.iam.delete_policy(PolicyArn=arn)


@dataclass(frozen=True)
class LivePolicies:
    role_exists: bool
    inline: dict[str, Any] | None = None
    managed: dict[int, dict[str, Any]] = field(default_factory=dict)
    attached_by_others: int = 0
    inline_by_others: int = 0  # characters of the role's other inline policies: IAM's quota is for all of them
    teams: frozenset[str] = frozenset()  # the names of the teams' policies attached to the role


def _as_dict(document: Any) -> dict[str, Any] | None:
    """IAM returns documents URL-encoded JSON on the wire; boto3 usually decodes them, some endpoints don't."""
    if document is None or isinstance(document, dict):
        return document
    return dict(json.loads(unquote(document)))
