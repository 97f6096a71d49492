"""S3: hardened buckets for data sources, and objects read, written, copied, listed and deleted for the people who
move data through Gatehouse. Writes can be made create-only (S3 refuses them if the key was taken meanwhile)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from core.adapters.boto import MANAGED_BY_TAG, AwsClients, BucketNameTaken, aws_call, error_code
from core.config import Settings
from core.domain import NotFound, SourceKind, shown

MiB = 1024 * 1024
_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
MAX_PARTS = 10_000  # S3's most parts in one multipart upload
# Parts of 8 MiB, 6 in memory at once (being sent or read ahead): memory stays near 6 parts whatever the file's size
# (boto3's default holds 10), and the throughput is boto3's own (bench/upload.py measures both).
UPLOAD_PART = 8 * MiB
UPLOAD_CONCURRENCY = 6
# A server-side copy moves no bytes through Gatehouse: large parts mean few calls.
COPY_CONFIG = TransferConfig(multipart_threshold=256 * MiB, multipart_chunksize=256 * MiB, max_concurrency=8)


class S3(AwsClients):
    def bucket_exists(self, bucket: str) -> bool:
        with aws_call("HeadBucket", bucket):
            try:
                self.s3.head_bucket(Bucket=bucket)
                return True
            except ClientError as error:
                if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
                    return False
                if error_code(error) in ("403", "Forbidden", "AccessDenied"):
                    return True  # it exists, in someone else's account
                raise

    def create_bucket(self, bucket: str, kind: SourceKind, created_by: str) -> None:
        """A hardened bucket (IAM.md): private, encrypted, versioned, TLS-only, tagged; a taken name is a form error."""
        location = {} if self.settings.region == "us-east-1" else {"LocationConstraint": self.settings.region}
        with aws_call("CreateBucket", bucket):
            try:
                self.s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
            except ClientError as error:
                if error_code(error) in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
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
        calls.append(
            (
                "PutBucketLifecycleConfiguration",
                self.s3.put_bucket_lifecycle_configuration,
                {"LifecycleConfiguration": {"Rules": lifecycle_rules(self.settings)}},
            )
        )
        for operation, call, arguments in calls:
            with aws_call(operation, bucket):
                call(Bucket=bucket, **arguments)

    def bucket_kms_key(self, bucket: str) -> str | None:
        """The ARN of the customer KMS key the bucket encrypts with by default, or None (S3-managed keys, or none)."""
        with aws_call("GetBucketEncryption", bucket):
            try:
                rules = self.s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
            except ClientError as error:
                if error_code(error) == "ServerSideEncryptionConfigurationNotFoundError":
                    return None
                raise
        for rule in rules:
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            key = default.get("KMSMasterKeyID")
            if default.get("SSEAlgorithm", "").startswith("aws:kms") and key:
                if not _KEY_ARN.fullmatch(key):  # a key id or an alias: the policy needs the key's ARN
                    with aws_call("DescribeKey", key):
                        key = self.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Arn"]
                return str(key)
        return None

    def tag_bucket(self, bucket: str, tags: dict[str, str]) -> None:
        """Add or change tags, keeping the others."""
        with aws_call("PutBucketTagging", bucket):
            try:
                current = self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
            except ClientError as error:
                if error_code(error) != "NoSuchTagSet":
                    raise
                current = []
            merged = {t["Key"]: t["Value"] for t in current} | tags
            self.s3.put_bucket_tagging(
                Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(merged.items())]}
            )

    def bucket_names(self) -> set[str]:
        """The names of the account's buckets, in one call."""
        with aws_call("ListBuckets", "the account's buckets"):
            return {bucket["Name"] for bucket in self.s3.list_buckets().get("Buckets", [])}

    def bucket_is_empty(self, bucket: str) -> bool:
        with aws_call("ListObjectsV2", bucket):
            return self.s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0) == 0

    def put_object(self, bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        with aws_call("PutObject", f"{bucket}/{key}"):
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata or {})

    # --- objects, for the people who move data ----------------------------------------------------------------

    def head_object(self, bucket: str, key: str) -> dict[str, Any] | None:
        """The object's metadata, or None when there is no such object."""
        with aws_call("HeadObject", f"{bucket}/{key}"):
            try:
                return dict(self.s3.head_object(Bucket=bucket, Key=key))
            except ClientError as error:
                if error_code(error) in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise

    def open_object(
        self, bucket: str, key: str, byte_range: str | None = None, version_id: str | None = None
    ) -> ObjectBody:
        """The object's bytes as S3 sends them (a range of them: `bytes=0-99`; an earlier version of them); no
        such object is NotFound."""
        with aws_call("GetObject", f"{bucket}/{key}"):
            try:
                extra = {"Range": byte_range} if byte_range else {}
                extra |= {"VersionId": version_id} if version_id else {}
                response = self.s3.get_object(Bucket=bucket, Key=key, **extra)
            except ClientError as error:
                if error_code(error) in ("NoSuchKey", "404"):
                    raise NotFound(f"There is no object {shown(key)} in {bucket}.") from None
                raise
        return ObjectBody(response["Body"], f"{bucket}/{key}", str(response.get("ContentRange", "")))

    def upload(
        self,
        bucket: str,
        key: str,
        fileobj: BinaryIO,
        extra: dict[str, Any],
        config: TransferConfig,
        progress: Callable[[int], None] | None,
        *,
        create_only: bool,
    ) -> str | None:
        """Stream a file into S3 with the managed transfer (multipart when large); `create_only`: S3 refuses it if
        the key was taken meanwhile (AwsError with code PreconditionFailed). The VersionId S3 gave what it wrote (None
        in a bucket without versioning)."""
        client = self.s3_create_only if create_only else self.s3
        with (
            aws_call("Upload", f"{bucket}/{key}"),
            self.versions_heard.awaiting(bucket, key, extra["Metadata"]) as write,
        ):
            client.upload_fileobj(fileobj, bucket, key, ExtraArgs=extra, Config=config, Callback=progress)
        return write.version_id

    def copy_object(
        self, bucket: str, key: str, to_bucket: str, to_key: str, extra: dict[str, Any], *, create_only: bool
    ) -> str | None:
        """S3 copies the object itself (in parts when large): no byte passes through Gatehouse. The VersionId of the
        copy."""
        client = self.s3_create_only if create_only else self.s3
        with (
            aws_call("CopyObject", f"{to_bucket}/{to_key}"),
            self.versions_heard.awaiting(to_bucket, to_key, extra["Metadata"]) as write,
        ):
            client.copy({"Bucket": bucket, "Key": key}, to_bucket, to_key, ExtraArgs=extra, Config=COPY_CONFIG)
        return write.version_id

    def versions(self, bucket: str, key: str, limit: int) -> list[ObjectVersion]:
        """The object's versions, newest first (delete markers too), at most `limit`; each with the movement form
        it was written under, when Gatehouse wrote it.

        S3 lists every key that starts with `key` (`k.csv` brings `k.csv.bak` and `k.csv/…`), in key order, the key
        itself first: the pages stop at the first that goes past it, not at the end of all those keys."""
        found: list[ObjectVersion] = []
        with aws_call("ListObjectVersions", f"{bucket}/{key}"):
            pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key)
            for page in pages:
                entries = [(v, False) for v in page.get("Versions", [])]
                entries += [(m, True) for m in page.get("DeleteMarkers", [])]
                for entry, marker in entries:
                    if entry["Key"] == key:
                        found.append(
                            ObjectVersion(
                                str(entry["VersionId"]),
                                bool(entry["IsLatest"]),
                                marker,
                                int(entry.get("Size", 0)),
                                entry["LastModified"],
                            )
                        )
                if len(found) >= limit or page.get("NextKeyMarker", key) != key:
                    break  # enough, or the next page starts past the key (its versions are all here)
        found.sort(key=lambda v: (v.is_latest, v.last_modified), reverse=True)  # stable: S3 lists newest first
        return found[:limit]

    def copy_version(self, bucket: str, key: str, version_id: str, metadata: dict[str, str]) -> str | None:
        """Make an earlier version the current one again: S3 copies it over the object (a new version, whose VersionId
        this returns), with its content type and metadata, and `metadata` added."""
        with aws_call("CopyObject", f"{bucket}/{key}"):
            head = self.s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
            copied = self.s3.copy_object(
                Bucket=bucket,
                Key=key,
                CopySource={"Bucket": bucket, "Key": key, "VersionId": version_id},
                Metadata={**head.get("Metadata", {}), **metadata},
                MetadataDirective="REPLACE",
                ContentType=head.get("ContentType") or "binary/octet-stream",
            )
        return copied.get("VersionId")

    def remove_delete_marker(self, bucket: str, key: str, marker_version_id: str) -> None:
        """Undelete: the delete marker goes, and the version before it is the object again. Gatehouse's own
        credentials do this: nobody's role may delete a version."""
        with aws_call("DeleteObject", f"{bucket}/{key}"):
            self.s3.delete_object(Bucket=bucket, Key=key, VersionId=marker_version_id)

    def checksum(self, bucket: str, key: str, version_id: str | None = None) -> tuple[int, str]:
        """The size and SHA-256 of what S3 holds under the key (of that version of it), read through once in chunks."""
        sha256, size = hashlib.sha256(), 0
        for chunk in self.open_object(bucket, key, version_id=version_id).chunks(MiB):
            sha256.update(chunk)
            size += len(chunk)
        return size, sha256.hexdigest()

    def delete_object(self, bucket: str, key: str) -> str | None:
        """Delete the object: in a versioned bucket a delete marker, whose VersionId this returns."""
        with aws_call("DeleteObject", f"{bucket}/{key}"):
            return self.s3.delete_object(Bucket=bucket, Key=key).get("VersionId")

    def list_folder(self, bucket: str, prefix: str, page_size: int, token: str | None) -> FolderListing:
        """One ListObjectsV2 page of a folder: its subfolders' prefixes and its objects."""
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/", "MaxKeys": page_size}
        if token:
            request["ContinuationToken"] = token
        with aws_call("ListObjectsV2", f"{bucket}/{prefix}"):
            response = self.s3.list_objects_v2(**request)
        return FolderListing(
            [p["Prefix"] for p in response.get("CommonPrefixes", [])],
            [(o["Key"], int(o["Size"]), o["LastModified"]) for o in response.get("Contents", [])],
            response.get("NextContinuationToken"),
        )


@dataclass(frozen=True)
class ObjectVersion:
    version_id: str
    is_latest: bool
    is_delete_marker: bool
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class FolderListing:
    prefixes: list[str]
    objects: list[tuple[str, int, datetime]]  # key, size, last modified
    next_token: str | None


class ObjectBody:
    """An object's bytes as S3 sends them, read in chunks or whole; AWS's failures mid-way become AwsError."""

    def __init__(self, body: Any, target: str, content_range: str) -> None:
        self._body, self._target = body, target
        self.content_range = content_range  # "bytes 0-99/1234" for a ranged read

    def chunks(self, size: int) -> Iterator[bytes]:
        with aws_call("GetObject", self._target):
            yield from self._body.iter_chunks(size)

    def read(self) -> bytes:
        with aws_call("GetObject", self._target):
            return bytes(self._body.read())

    def close(self) -> None:
        self._body.close()


def upload_config(size: int) -> TransferConfig:
    """Parts big enough that even the largest object needs at most S3's 10,000 of them."""
    config = TransferConfig(
        multipart_threshold=UPLOAD_PART,
        multipart_chunksize=max(UPLOAD_PART, -(-size // MAX_PARTS)),
        max_concurrency=UPLOAD_CONCURRENCY,
    )
    # Parts read ahead of the network wait in memory: no more of them than are being sent (boto3's own default is 10,
    # and its constructor does not take this setting, which s3transfer reads from the attribute).
    config.max_in_memory_upload_chunks = UPLOAD_CONCURRENCY
    return config


def lifecycle_rules(settings: Settings) -> list[dict[str, Any]]:
    """What every bucket Gatehouse makes keeps, and for how long: uploads that never completed go after 7 days,
    earlier versions after `noncurrent_version_days`; and, if set, objects move to Intelligent-Tiering."""
    everything = {"Prefix": ""}
    rules: list[dict[str, Any]] = [
        {
            "ID": "abort-incomplete-uploads",
            "Status": "Enabled",
            "Filter": everything,
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        },
        {
            "ID": "expire-noncurrent-versions",
            "Status": "Enabled",
            "Filter": everything,
            "NoncurrentVersionExpiration": {"NoncurrentDays": settings.noncurrent_version_days},
        },
    ]
    if settings.intelligent_tiering:
        rules.append(
            {
                "ID": "intelligent-tiering",
                "Status": "Enabled",
                "Filter": everything,
                "Transitions": [{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}],
            }
        )
    return rules
