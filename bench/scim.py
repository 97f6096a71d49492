"""An identity provider's initial sync through SCIM (issue #27), over HTTP, against `gatehouse serve` on PostgreSQL.

Run from the repository root: `.venv/bin/python bench/scim.py` (10,000 users; `--users 500` for a quick look).

A fresh PostgreSQL database (127.0.0.1:5432, dropped at the end unless --keep), the local AWS emulation in a process
of its own (`gatehouse local-aws`) and `gatehouse serve` in another, both on free ports, with no demo data. Then, as
Entra ID syncs a directory, for each user in turn on `--clients` connections at once: find them by userName (a GET
with a filter), create them (a POST: the member, their IAM role), and give every tenth one the manager made before
it (a PATCH). Groups (teams) are not part of this bench yet: none are sent. Every request is
timed on the client. Target: p95 at most 100 ms. Figures are printed, never asserted; the last line is JSON:
{"users": N, "requests": N, "total_s": S, "median_ms": MS, "p95_ms": MS, "by_kind_p95_ms": {...}, "meets_target": bool}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_ADMIN_URL, free_port, stop

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-" + "t" * 40
TARGET_P95_MS = 100.0
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@contextmanager
def database(keep: bool) -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gatehouse_bench_scim_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def process(arguments: list[str], env: dict[str, str], ready: str) -> Iterator[None]:
    started = subprocess.Popen(
        [sys.executable, "-m", "core.cli", *arguments], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert started.stdout is not None
        line = started.stdout.readline()
        if ready not in line:
            raise SystemExit(f"gatehouse {arguments[0]} did not start: {line!r}")
        yield
    finally:
        stop(started)


def sync(base: str, users: int, clients: int) -> tuple[list[tuple[str, float]], float]:
    """Every user found (not there), created, and every tenth given a manager; (kind, seconds) a request."""
    timings: list[tuple[str, float]] = []
    transport = httpx2.HTTPTransport(retries=10)  # serve binds a moment after it says it started

    def one(http: httpx2.Client, n: int) -> str:
        name = f"user-{n:05d}"

        def timed(kind: str, method: str, path: str, **kwargs: object) -> httpx2.Response:
            began = time.perf_counter()
            answer = http.request(method, path, **kwargs)  # type: ignore[arg-type]
            timings.append((kind, time.perf_counter() - began))
            if answer.is_error:
                raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text}")
            return answer

        timed("find", "GET", "Users", params={"filter": f'userName eq "{name}"'})
        body = {
            "schemas": [CORE],
            "userName": name,
            "displayName": f"User {n}",
            "emails": [{"value": f"{name}@example.org", "primary": True}],
            "externalId": str(uuid.uuid4()),
        }
        return str(timed("create", "POST", "Users", json=body).json()["id"])

    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx2.Client(base_url=base, headers=headers, transport=transport, timeout=120) as http:
        began = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            ids = list(pool.map(lambda n: one(http, n), range(users)))

        def manage(n: int) -> None:
            operation = {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": ids[n - 1]}
            start = time.perf_counter()
            answer = http.patch(f"Users/{ids[n]}", json={"schemas": [PATCH], "Operations": [operation]})
            timings.append(("manager", time.perf_counter() - start))
            if answer.is_error:
                raise SystemExit(f"PATCH: {answer.status_code} {answer.text}")

        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(manage, range(10, users, 10)))
        return timings, time.perf_counter() - began


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4, help="requests in flight at once (Entra ID sends several)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    with database(args.keep) as url:
        aws_port, port = free_port(), free_port()
        env = {
            **os.environ,
            "GATEHOUSE_DATABASE_URL": url,
            "GATEHOUSE_LOCAL_AWS_PORT": str(aws_port),
            "GATEHOUSE_SEED_DEMO": "false",
            "GATEHOUSE_SCIM_TOKEN": TOKEN,
        }
        with (
            process(["local-aws"], env, "local AWS emulation"),
            process(["serve", "--port", str(port)], env, "SCIM 2.0 on"),
        ):
            timings, total = sync(f"http://127.0.0.1:{port}/scim/v2/", args.users, args.clients)
    seconds = [s for _, s in timings]
    by_kind = {k: round(percentile([s for kind, s in timings if kind == k], 95) * 1000, 1) for k in dict(timings)}
    result = {
        "users": args.users,
        "requests": len(timings),
        "total_s": round(total, 1),
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "p95_ms": round(percentile(seconds, 95) * 1000, 1),
        "by_kind_p95_ms": by_kind,
        "meets_target": percentile(seconds, 95) * 1000 <= TARGET_P95_MS,
    }
    print(f"{args.users:,} users, {len(timings):,} requests in {total:.1f} s on {args.clients} connections")
    print(
        f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms (target ≤ {TARGET_P95_MS:.0f} ms); "
        f"p95 by kind: {by_kind}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
