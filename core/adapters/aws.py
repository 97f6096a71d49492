"""The AWS adapter: the only place boto3 is called (S3 in s3.py, IAM in iam.py, the clients and errors in boto.py).
Pages and use cases never import boto3; they use `Aws` through `Gatehouse.aws`."""

from __future__ import annotations

from core.adapters.boto import AwsError, BucketNameTaken, aws_call
from core.adapters.iam import Iam, LivePolicies
from core.adapters.s3 import S3

__all__ = ["Aws", "AwsError", "BucketNameTaken", "LivePolicies", "aws_call"]


class Aws(S3, Iam):
    """S3 and IAM, on one set of clients made once from the settings."""
