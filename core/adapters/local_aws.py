"""The local AWS emulation: moto's server (S3, IAM, STS) on loopback, for trying Gatehouse and for its tests.

Its objects live in memory; the database state is re-applied to it at start (core.startup).
"""

from __future__ import annotations

import logging
import socket
import urllib.request

from moto.server import ThreadedMotoServer

from core.config import Settings
from core.domain import GatehouseError

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
