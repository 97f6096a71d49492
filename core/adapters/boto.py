"""The boto3 clients of one start of Gatehouse, and the one way a failed AWS call becomes an `AwsError` that names
the call in one sentence. One code path for the local emulation and real AWS: only the endpoint and the credentials
differ."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.config import Settings
from core.domain import GatehouseError, InvalidInput

MANAGED_BY_TAG = {"Key": "managed-by", "Value": "gatehouse"}


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


def error_code(error: ClientError) -> str:
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


@dataclass(eq=False)
class WriteAwaited:
    """One managed write Gatehouse is making, and the VersionId S3 answered it with once it has."""

    bucket: str
    key: str
    metadata: dict[str, str]
    version_id: str | None = None
    upload_ids: set[str] = field(default_factory=set)  # a multipart write's, from CreateMultipartUpload


_WRITE_PARAMS = "gatehouse_write"  # the request context's copy of a write's bucket, key, metadata and upload id
_VERSIONED_WRITES = ("PutObject", "CopyObject", "CreateMultipartUpload", "CompleteMultipartUpload")


class VersionsHeard:
    """The VersionId S3 answers each of Gatehouse's managed writes with. boto3's managed transfer (upload_fileobj,
    copy) returns nothing, so the PutObject or CopyObject it makes, or the CompleteMultipartUpload of a multipart one,
    is heard as S3 answers it. Several sessions write through one client at once: a write is told apart by its bucket,
    key and metadata (which carries its movement form's id), a multipart one by the upload id S3 gave it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._awaited: list[WriteAwaited] = []

    def listen(self, client: BaseClient) -> None:
        for operation in _VERSIONED_WRITES:
            client.meta.events.register(f"before-parameter-build.s3.{operation}", self._remember)
            client.meta.events.register(f"after-call.s3.{operation}", self._heard)

    @contextmanager
    def awaiting(self, bucket: str, key: str, metadata: dict[str, str]) -> Iterator[WriteAwaited]:
        write = WriteAwaited(bucket, key, dict(metadata))
        with self._lock:
            self._awaited.append(write)
        try:
            yield write
        finally:
            with self._lock:
                self._awaited.remove(write)

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_WRITE_PARAMS] = (
            params.get("Bucket"),
            params.get("Key"),
            params.get("Metadata"),
            params.get("UploadId"),
        )

    def _heard(self, parsed: dict[str, Any], context: dict[str, Any], model: Any, **_: Any) -> None:
        bucket, key, metadata, upload_id = context.get(_WRITE_PARAMS, (None, None, None, None))
        with self._lock:
            awaited = [w for w in self._awaited if (w.bucket, w.key) == (bucket, key)]
        for write in awaited:
            if model.name == "CreateMultipartUpload":
                if metadata == write.metadata and "UploadId" in parsed:
                    write.upload_ids.add(str(parsed["UploadId"]))
                continue
            ours = (
                upload_id in write.upload_ids if model.name == "CompleteMultipartUpload" else metadata == write.metadata
            )
            if ours:
                write.version_id = parsed.get("VersionId")


# S3 operations that change what a folder lists (a multipart upload's object appears at its completion)
_OBJECT_WRITES = ("PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject", "DeleteObjects")


class ObjectWrites:
    """How many object writes this process's S3 clients have made (answered by S3, refused or not): a folder listing
    kept for the pages is keyed on it, so a write through Gatehouse shows at the next rerun (pages/ui/browse_view.py).
    Counted as S3 answers: a listing made before the write lands is kept under the count before it."""

    _lock = threading.Lock()
    _count = 0

    @classmethod
    def count(cls) -> int:
        return cls._count

    @classmethod
    def listen(cls, client: BaseClient) -> None:
        for operation in _OBJECT_WRITES:
            client.meta.events.register(f"after-call.s3.{operation}", cls._heard)

    @classmethod
    def _heard(cls, **_: Any) -> None:
        with cls._lock:
            cls._count += 1


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    """One reader of botocore's service models for the process: each session's own would read and parse S3's and
    IAM's models again (a third of a second a start, paid by every process, CLI call and test)."""
    return botocore.loaders.create_loader()


@dataclass
class AwsClients:
    """boto3 clients made once from the settings; S3 and Iam add the few operations Gatehouse needs."""

    settings: Settings
    _clients: dict[str, BaseClient] = field(default_factory=dict, repr=False)
    versions_heard: VersionsHeard = field(default_factory=VersionsHeard, repr=False)

    @cached_property
    def session(self) -> boto3.Session:
        botocore_session = botocore.session.Session()
        botocore_session.register_component("data_loader", _shared_loader())
        if self.settings.aws_mode == "local":
            # The emulation accepts any credentials; fixed ones keep a developer's real AWS profile out of it.
            return boto3.Session(
                aws_access_key_id="gatehouse-local",
                aws_secret_access_key="gatehouse-local",
                region_name=self.settings.region,
                botocore_session=botocore_session,
            )
        return boto3.Session(region_name=self.settings.region, botocore_session=botocore_session)

    def client(self, service: str) -> BaseClient:
        if service not in self._clients:
            config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=60)
            client = self.session.client(service, endpoint_url=self.settings.endpoint_url, config=config)
            if service == "s3":
                self.versions_heard.listen(client)
                ObjectWrites.listen(client)
            self._clients[service] = client
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
            self.versions_heard.listen(client)
            ObjectWrites.listen(client)
            self._clients[_CREATE_ONLY] = client
        return self._clients[_CREATE_ONLY]

    @cached_property
    def account_id(self) -> str:
        with aws_call("GetCallerIdentity", "STS"):
            return str(self.client("sts").get_caller_identity()["Account"])
