"""An identity provider's initial sync through SCIM (issue #27), over HTTP, against `gatehouse serve` on PostgreSQL.

Run from the repository root: `.venv/bin/python bench/scim.py` (10,000 users and 200 groups of 50 members; `--users
500 --groups 10` for a quick look).

A fresh PostgreSQL database (127.0.0.1:5432, dropped at the end unless --keep), the local AWS emulation in a process
of its own (`gatehouse local-aws`) and `gatehouse serve` in another, both on free ports, with no demo data. Then, as
Entra ID syncs a directory, on `--clients` connections at once: each user found by userName (a GET with a filter) and
created (a POST: the member; their IAM role is made after the answer, by the service's background thread); every
tenth given the manager made before it (a PATCH); then each group found by displayName, created empty (a POST) and
given its 50 members in PATCHes of 10 (Entra ID's way). Every request is timed on the client. Target: p95 at most
100 ms. Afterwards, the time until every joiner's IAM role is made in the emulation is measured too (the database's
role_sync rows applied). Figures are printed, never asserted; the last line is JSON:
{"users": N, "groups": N, "requests": N, "total_s": S, "median_ms": MS, "p95_ms": MS, "by_kind_p95_ms": {...},
"roles_made": N, "roles_made_s": S, "meets_target": bool}.
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
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
GROUP_SIZE = 50
MEMBERS_A_PATCH = 10


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


def sync(base: str, users: int, groups: int, clients: int) -> tuple[list[tuple[str, float]], float]:
    """Every user found (not there), created, and every tenth given a manager; every group found, created and
    filled; (kind, seconds) a request."""
    timings: list[tuple[str, float]] = []
    transport = httpx2.HTTPTransport(retries=10)  # serve binds a moment after it says it started

    def timed(http: httpx2.Client, kind: str, method: str, path: str, **kwargs: object) -> httpx2.Response:
        began = time.perf_counter()
        answer = http.request(method, path, **kwargs)  # type: ignore[arg-type]
        timings.append((kind, time.perf_counter() - began))
        if answer.is_error:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer

    def one(http: httpx2.Client, n: int) -> str:
        name = f"user-{n:05d}"
        timed(http, "find", "GET", "Users", params={"filter": f'userName eq "{name}"'})
        body = {
            "schemas": [CORE],
            "userName": name,
            "displayName": f"User {n}",
            "emails": [{"value": f"{name}@example.org", "primary": True}],
            "externalId": str(uuid.uuid4()),
        }
        return str(timed(http, "create", "POST", "Users", json=body).json()["id"])

    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx2.Client(base_url=base, headers=headers, transport=transport, timeout=120) as http:
        began = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            ids = list(pool.map(lambda n: one(http, n), range(users)))

        def manage(n: int) -> None:
            operation = {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": ids[n - 1]}
            timed(http, "manager", "PATCH", f"Users/{ids[n]}", json={"schemas": [PATCH], "Operations": [operation]})

        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(manage, range(10, users, 10)))

        def group(g: int) -> None:
            name = f"group-{g:03d}"
            timed(http, "group-find", "GET", "Groups", params={"filter": f'displayName eq "{name}"'})
            body = {"schemas": [GROUP], "displayName": name, "externalId": str(uuid.uuid4())}
            made = str(timed(http, "group-create", "POST", "Groups", json=body).json()["id"])
            size = min(GROUP_SIZE, len(ids))  # a small run's groups: every user, once
            members = [ids[(g * GROUP_SIZE + k) % len(ids)] for k in range(size)]
            for at in range(0, size, MEMBERS_A_PATCH):
                values = [{"value": m} for m in members[at : at + MEMBERS_A_PATCH]]
                operation = {"op": "Add", "path": "members", "value": values}
                timed(
                    http,
                    "group-members",
                    "PATCH",
                    f"Groups/{made}",
                    json={"schemas": [PATCH], "Operations": [operation]},
                )

        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(group, range(groups)))
        return timings, time.perf_counter() - began


def roles_made(url: str, users: int, since: float, wait: float) -> tuple[float, int]:
    """(seconds from `since`, roles applied) once every joiner's IAM role is applied, or `wait` seconds after the
    sync ended."""
    engine = create_engine(url)
    until = time.perf_counter() + wait
    try:
        while True:
            with engine.connect() as connection:
                applied = connection.execute(text("SELECT count(*) FROM role_sync WHERE state = 'applied'")).scalar()
            if (applied or 0) >= users or time.perf_counter() > until:
                return time.perf_counter() - since, applied or 0
            time.sleep(1)
    finally:
        engine.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=200, help=f"groups of {GROUP_SIZE} members (of the users)")
    parser.add_argument("--clients", type=int, default=4, help="requests in flight at once (Entra ID sends several)")
    parser.add_argument("--roles-wait", type=float, default=600, help="seconds to wait for the roles after the sync")
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
            began = time.perf_counter()
            timings, total = sync(f"http://127.0.0.1:{port}/scim/v2/", args.users, args.groups, args.clients)
            made, applied = roles_made(url, args.users, began, args.roles_wait)
    seconds = [s for _, s in timings]
    by_kind = {k: round(percentile([s for kind, s in timings if kind == k], 95) * 1000, 1) for k in dict(timings)}
    result = {
        "users": args.users,
        "groups": args.groups,
        "requests": len(timings),
        "total_s": round(total, 1),
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "p95_ms": round(percentile(seconds, 95) * 1000, 1),
        "by_kind_p95_ms": by_kind,
        "roles_made": applied,
        "roles_made_s": round(made, 1),
        "meets_target": percentile(seconds, 95) * 1000 <= TARGET_P95_MS,
    }
    print(
        f"{args.users:,} users and {args.groups:,} groups, {len(timings):,} requests in {total:.1f} s on "
        f"{args.clients} connections; every joiner's IAM role made "
        + (
            f"{made:.1f} s after the first request"
            if applied >= args.users
            else f"not yet: {applied:,} in {made:.0f} s"
        )
    )
    print(
        f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms (target ≤ {TARGET_P95_MS:.0f} ms); "
        f"p95 by kind: {by_kind}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
