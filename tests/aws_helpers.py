"""Acting as a platform user in the emulation: assume their role, as their notebook would, with IAM enforced."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto.core import enable_iam_authentication

from core.adapters.aws import Aws
from core.adapters.db import make_engine, migrate
from core.adapters.local_aws import mark_local_aws
from core.config import Settings
from core.context import Gatehouse
from core.domain import user_role_name
from core.startup import database_epoch


@dataclass
class AssumedRole:
    s3: BaseClient

    def can(self, operation: str, bucket: str, key: str = "", prefix: str | None = None) -> bool:
        try:
            if operation == "get":
                self.s3.get_object(Bucket=bucket, Key=key)
            elif operation == "put":
                self.s3.put_object(Bucket=bucket, Key=key, Body=b"x")
            elif operation == "delete":
                self.s3.delete_object(Bucket=bucket, Key=key)
            elif operation == "list":
                self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix or "")
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] in ("AccessDenied", "403"):
                return False
            raise


@contextmanager
def as_user(gatehouse: Gatehouse, username: str) -> Iterator[AssumedRole]:
    """Assume the user's role (as their notebook would), then turn moto's IAM enforcement on."""
    role_arn = f"arn:aws:iam::{gatehouse.aws.account_id}:role/{user_role_name(gatehouse.settings.env, username)}"
    credentials = gatehouse.aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=username)["Credentials"]
    s3 = boto3.client(
        "s3",
        endpoint_url=gatehouse.settings.endpoint_url,
        region_name=gatehouse.settings.region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    with enable_iam_authentication():
        yield AssumedRole(s3)


def share_the_emulation(settings: Settings) -> Settings:
    """Every moto server of one process holds the same state: a test that starts Gatehouse on a second database beside
    a first one's marks the emulation as the second's too (an instance refuses one another database uses)."""
    engine = make_engine(settings.db_url)
    try:
        migrate(engine, settings.migration_database_url)
        mark_local_aws(Aws(settings), database_epoch(engine))
    finally:
        engine.dispose()
    return settings
