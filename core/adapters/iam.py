"""IAM: each user's (and app's) role, and the S3 access policies Gatehouse writes on it (inline `s3-access` and, when
it does not fit, numbered customer-managed policies under /gatehouse/)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from core.adapters.boto import MANAGED_BY_TAG, AwsClients, aws_call, error_code
from core.policy import INLINE_POLICY_NAME, RolePolicies, minify

# Customer-managed policies Gatehouse owns live under this IAM path, so they are never confused with others'.
POLICY_PATH = "/gatehouse/"


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

    def ensure_role(self, role_name: str) -> bool:
        """Create the role if it is missing; returns True when it was created. Other policies on it are left alone."""
        with aws_call("GetRole", role_name):
            try:
                self.iam.get_role(RoleName=role_name)
                return False
            except ClientError as error:
                if error_code(error) != "NoSuchEntity":
                    raise
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

    def read_role_policies(self, role_name: str) -> LivePolicies:
        """What AWS has now: the s3-access inline policy, Gatehouse's attached managed policies by number, and how
        many managed policies others attached (they count against the role's quota)."""
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
        ours = {self.managed_policy_arn(role_name, n): n for n in range(1, 21)}
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
            attached_by_others=len(attached) - len(managed),
            inline_by_others=others,
        )

    def write_role_policies(self, role_name: str, desired: RolePolicies, live: LivePolicies) -> int:
        """Write only the policies that differ from what AWS has; returns how many writes were made."""
        writes = 0
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
            self._put_managed_policy(role_name, number, minify(document))
            writes += 1
        for number in sorted(set(live.managed) - set(range(1, len(desired.managed) + 1))):
            self._delete_managed_policy(role_name, number)
            writes += 1
        return writes

    def _put_managed_policy(self, role_name: str, number: int, document: str) -> None:
        arn = self.managed_policy_arn(role_name, number)
        with aws_call("CreatePolicyVersion", arn):
            try:
                versions = self.iam.list_policy_versions(PolicyArn=arn)["Versions"]
            except ClientError as error:
                if error_code(error) != "NoSuchEntity":
                    raise
                self.iam.create_policy(
                    PolicyName=self.managed_policy_name(role_name, number),
                    Path=POLICY_PATH,
                    PolicyDocument=document,
                    Description=f"S3 access of {role_name}, part {number}, written by Gatehouse",
                    Tags=[MANAGED_BY_TAG],
                )
            else:
                # IAM keeps at most five versions: drop the oldest non-default one first.
                old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
                if len(versions) >= 5 and old:
                    self.iam.delete_policy_version(PolicyArn=arn, VersionId=old[0]["VersionId"])
                self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
        with aws_call("AttachRolePolicy", role_name):
            self.iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)

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


def _as_dict(document: Any) -> dict[str, Any] | None:
    """IAM returns documents URL-encoded JSON on the wire; boto3 usually decodes them, some endpoints don't."""
    if document is None or isinstance(document, dict):
        return document
    return dict(json.loads(unquote(document)))
