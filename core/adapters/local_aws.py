"""The local AWS emulation: moto's server (S3, IAM, STS) on loopback, for trying Gatehouse and for its tests.

Its objects live in memory; the database state is re-applied to it at start (core.startup). An emulation belongs to
one database: the instance that first uses it marks it with a bucket named after the database's epoch, and an instance
on another database refuses it (it would rewrite the first one's roles while that one still says "Applied in AWS").
"""

from __future__ import annotations

import logging
import socket
import urllib.request

from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from core.adapters.aws import Aws, aws_call
from core.adapters.boto import error_code
from core.config import Settings
from core.domain import GatehouseError

OWNER_MARK = "gatehouse-emulation-"  # + the epoch of the database whose emulation it is (core.adapters.db)

_servers: dict[str, ThreadedMotoServer] = {}


def answers(endpoint: str) -> bool:
    """True when a moto server already answers at the endpoint (one the CLI or another process started)."""
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def ensure_local_aws(settings: Settings) -> str:
    """Start the emulation in this process unless one already answers on its port; returns its endpoint."""
    endpoint = settings.local_aws_endpoint
    if endpoint in _servers or answers(endpoint):
        return endpoint
    with socket.socket() as probe:
        if probe.connect_ex((settings.local_aws_host, settings.local_aws_port)) == 0:
            raise GatehouseError(
                f"Port {settings.local_aws_port} is taken by something that is not the local AWS emulation: "
                "set GATEHOUSE_LOCAL_AWS_PORT to a free port."
            )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=settings.local_aws_host, port=settings.local_aws_port, verbose=False)
    server.start()
    _servers[endpoint] = server
    return endpoint


def claim_local_aws(aws: Aws, database: str) -> None:
    """Make sure the emulation is this database's, before anything is written to it: an emulation marked with it, or
    an empty one (nothing in it to overwrite: a fresh one, or one reset), which is marked now. Anything else is another
    instance's (or a person's): refused in one sentence, never adopted."""
    mark = OWNER_MARK + database
    buckets = aws.bucket_names()
    if mark in buckets:
        return
    if buckets or aws.role_names(""):
        port = aws.settings.local_aws_port
        raise GatehouseError(
            f"Port {port} already serves the AWS emulation of another Gatehouse, on another database: set "
            "GATEHOUSE_LOCAL_AWS_PORT to a free port to run this one beside it."
        )
    mark_local_aws(aws, database)


def mark_local_aws(aws: Aws, database: str) -> None:
    """Mark the emulation as the database's (also done by those who share one on purpose: the tests, the bench)."""
    mark = OWNER_MARK + database
    with aws_call("CreateBucket", mark):
        try:
            aws.s3.create_bucket(Bucket=mark, CreateBucketConfiguration={"LocationConstraint": aws.settings.region})
        except ClientError as error:
            if error_code(error) != "BucketAlreadyOwnedByYou":  # another process on this database marked it first
                raise
