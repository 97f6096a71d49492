"""The AWS adapter: the only module that talks to S3, IAM and STS. Pages never import boto3.

One code path for the local emulation and real AWS: only the endpoint and the credentials differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.config import Settings
from core.domain import GatehouseError, InvalidInput, SourceKind
from core.policy import INLINE_POLICY_NAME, RolePolicies, minify

MANAGED_BY_TAG = {"Key": "managed-by", "Value": "gatehouse"}
# Customer-managed policies Gatehouse owns live under this IAM path, so they are never confused with others'.
POLICY_PATH = "/gatehouse/"


class AwsError(GatehouseError):
    """An AWS call failed; the message names the call and AWS's reason in one line."""

    def __init__(self, operation: str, target: str, reason: str, code: str = "") -> None:
        super().__init__(f"AWS refused {operation} on {target}: {reason}")
        self.operation = operation
        self.code = code


class BucketNameTaken(InvalidInput):
    pass


def _error(operation: str, target: str, error: Exception) -> AwsError:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = str(info.get("Code", "Error"))
        return AwsError(operation, target, f"{code} ({info.get('Message', '')})".replace(" ()", ""), code)
    return AwsError(operation, target, str(error) or type(error).__name__)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_call(operation: str, target: str) -> Iterator[None]:
    """Turn any boto3 failure inside the block into one AwsError naming the call."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise _error(operation, target, error) from error


_CREATE_ONLY = "s3/create-only"


def _if_none_match(params: dict[str, Any], **_: Any) -> None:
    params["IfNoneMatch"] = "*"


@dataclass
class Aws:
    """boto3 clients made once from the settings, and the few operations Gatehouse needs."""

    settings: Settings
    _clients: dict[str, BaseClient] = field(default_factory=dict, repr=False)

    @cached_property
    def session(self) -> boto3.Session:
        if self.settings.aws_mode == "local":
            # The emulation accepts any credentials; fixed ones keep a developer's real AWS profile out of it.
            return boto3.Session(
                aws_access_key_id="gatehouse-local",
                aws_secret_access_key="gatehouse-local",
                region_name=self.settings.region,
            )
        return boto3.Session(region_name=self.settings.region)

    def client(self, service: str) -> BaseClient:
        if service not in self._clients:
            config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=60)
            self._clients[service] = self.session.client(
                service, endpoint_url=self.settings.endpoint_url, config=config
            )
        return self._clients[service]

    @property
    def s3(self) -> BaseClient:
        return self.client("s3")

    @property
    def iam(self) -> BaseClient:
        return self.client("iam")

    @property
    def s3_create_only(self) -> BaseClient:
        """An S3 client each of whose writes succeeds only if the key is free (IfNoneMatch='*'): S3 refuses the
        write of an object that appeared after Gatehouse looked, so nothing is replaced without the mover's
        confirmation.

        boto3's managed transfer does not pass IfNoneMatch on (s3transfer 0.19 filters it out of PutObject and
        CompleteMultipartUpload), so this client adds it to every write as the request is built. moto 5.2.5
        honours it on PutObject and CompleteMultipartUpload but ignores it on CopyObject, where AWS honours it."""
        if _CREATE_ONLY not in self._clients:
            client = self.session.client("s3", endpoint_url=self.settings.endpoint_url, config=self.s3.meta.config)
            for operation in ("PutObject", "CompleteMultipartUpload", "CopyObject"):
                client.meta.events.register(f"before-parameter-build.s3.{operation}", _if_none_match)
            self._clients[_CREATE_ONLY] = client
        return self._clients[_CREATE_ONLY]

    @cached_property
    def account_id(self) -> str:
        with aws_call("GetCallerIdentity", "STS"):
            return str(self.client("sts").get_caller_identity()["Account"])

    # --- buckets ---------------------------------------------------------------------------------------

    def bucket_exists(self, bucket: str) -> bool:
        with aws_call("HeadBucket", bucket):
            try:
                self.s3.head_bucket(Bucket=bucket)
                return True
            except ClientError as error:
                if _code(error) in ("404", "NoSuchBucket", "NotFound"):
                    return False
                if _code(error) in ("403", "Forbidden", "AccessDenied"):
                    return True  # it exists, in someone else's account
                raise

    def create_bucket(self, bucket: str, kind: SourceKind, created_by: str) -> None:
        """A hardened bucket (IAM.md): private, encrypted, versioned, TLS-only, tagged; a taken name is a form error."""
        location = {} if self.settings.region == "us-east-1" else {"LocationConstraint": self.settings.region}
        with aws_call("CreateBucket", bucket):
            try:
                self.s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
            except ClientError as error:
                if _code(error) in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
                    raise BucketNameTaken(f"The name {bucket} is already taken in S3: choose another.") from error
                raise
        self.harden_bucket(bucket, kind, created_by)

    def harden_bucket(self, bucket: str, kind: SourceKind, created_by: str) -> None:
        buckettype = "datawarehouse" if kind is SourceKind.WAREHOUSE else "webapp"
        tls_only = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
        calls: list[tuple[str, Any, dict[str, Any]]] = [
            (
                "PutPublicAccessBlock",
                self.s3.put_public_access_block,
                {
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "IgnorePublicAcls": True,
                        "BlockPublicPolicy": True,
                        "RestrictPublicBuckets": True,
                    }
                },
            ),
            (
                "PutBucketEncryption",
                self.s3.put_bucket_encryption,
                {
                    "ServerSideEncryptionConfiguration": {
                        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                    }
                },
            ),
            ("PutBucketVersioning", self.s3.put_bucket_versioning, {"VersioningConfiguration": {"Status": "Enabled"}}),
            (
                "PutBucketTagging",
                self.s3.put_bucket_tagging,
                {
                    "Tagging": {
                        "TagSet": [
                            {"Key": "buckettype", "Value": buckettype},
                            {"Key": "created-by", "Value": created_by},
                            MANAGED_BY_TAG,
                        ]
                    }
                },
            ),
        ]
        if self.settings.deny_insecure_transport:
            calls.append(("PutBucketPolicy", self.s3.put_bucket_policy, {"Policy": json.dumps(tls_only)}))
        if self.settings.logs_bucket:
            calls.append(
                (
                    "PutBucketLogging",
                    self.s3.put_bucket_logging,
                    {
                        "BucketLoggingStatus": {
                            "LoggingEnabled": {"TargetBucket": self.settings.logs_bucket, "TargetPrefix": f"{bucket}/"}
                        }
                    },
                )
            )
        if self.settings.intelligent_tiering:
            calls.append(
                (
                    "PutBucketLifecycleConfiguration",
                    self.s3.put_bucket_lifecycle_configuration,
                    {
                        "LifecycleConfiguration": {
                            "Rules": [
                                {
                                    "ID": "intelligent-tiering",
                                    "Status": "Enabled",
                                    "Filter": {"Prefix": ""},
                                    "Transitions": [{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}],
                                }
                            ]
                        }
                    },
                )
            )
        for operation, call, arguments in calls:
            with aws_call(operation, bucket):
                call(Bucket=bucket, **arguments)

    def tag_bucket(self, bucket: str, tags: dict[str, str]) -> None:
        """Add or change tags, keeping the others."""
        with aws_call("PutBucketTagging", bucket):
            try:
                current = self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
            except ClientError as error:
                if _code(error) != "NoSuchTagSet":
                    raise
                current = []
            merged = {t["Key"]: t["Value"] for t in current} | tags
            self.s3.put_bucket_tagging(
                Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(merged.items())]}
            )

    # --- roles -----------------------------------------------------------------------------------------

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
                if _code(error) != "NoSuchEntity":
                    raise
        with aws_call("CreateRole", role_name):
            try:
                self.iam.create_role(
                    RoleName=role_name, AssumeRolePolicyDocument=self.trust_policy(), Tags=[MANAGED_BY_TAG]
                )
            except ClientError as error:
                if _code(error) == "EntityAlreadyExists":
                    return False
                raise
        return True

    def role_arn(self, role_name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{role_name}"

    # --- objects ---------------------------------------------------------------------------------------

    def bucket_is_empty(self, bucket: str) -> bool:
        with aws_call("ListObjectsV2", bucket):
            return self.s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0) == 0

    def put_object(self, bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        with aws_call("PutObject", f"{bucket}/{key}"):
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata or {})

    # --- role policies ---------------------------------------------------------------------------------

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
                if _code(error) == "NoSuchEntity":
                    return LivePolicies(role_exists=False)
                raise
        inline: dict[str, Any] | None = None
        with aws_call("GetRolePolicy", role_name):
            try:
                inline = self.iam.get_role_policy(RoleName=role_name, PolicyName=INLINE_POLICY_NAME)["PolicyDocument"]
            except ClientError as error:
                if _code(error) != "NoSuchEntity":
                    raise
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
                if _code(error) != "NoSuchEntity":
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


def _as_dict(document: Any) -> dict[str, Any] | None:
    """IAM returns documents URL-encoded JSON on the wire; boto3 usually decodes them, some endpoints don't."""
    if document is None or isinstance(document, dict):
        return document
    return dict(json.loads(unquote(document)))
