"""The first page of a huge folder through Gatehouse against one raw ListObjectsV2 call.

Run from the repository root: `python bench/listing.py` (200,000 objects under one prefix: creating them takes
minutes, progress is printed) or `python bench/listing.py --objects 20000` for a quicker run. moto runs as a separate
process; the objects are made by parallel PutObject calls with tiny bodies. Gatehouse's `list_folder` (the actor's
grant read from the database, then one S3 call) and boto3's `list_objects_v2` with the same prefix, delimiter and
page size alternate; the figure is the ratio of their medians. Printed, never asserted; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config
from upload import SOURCE, local_gatehouse, raw_client  # bench/upload.py, beside this script

from core.reads.browse import list_folder

PREFIX = "bench/listing/"
PAGE = 100


def fill(client: Any, objects: int, workers: int) -> None:
    """Put `objects` tiny objects under PREFIX, in parallel, printing progress."""
    started, done = time.perf_counter(), 0

    def put(number: int) -> None:
        client.put_object(Bucket=SOURCE, Key=f"{PREFIX}{number:07d}.csv", Body=b"n\n1\n")

    with ThreadPoolExecutor(workers) as pool:
        for start in range(0, objects, 10_000):
            list(pool.map(put, range(start, min(objects, start + 10_000))))
            done = min(objects, start + 10_000)
            rate = done / (time.perf_counter() - started)
            print(f"  {done:,} of {objects:,} objects ({rate:,.0f} a second)", flush=True)


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=200_000, help="objects under the prefix (default 200,000)")
    parser.add_argument("--runs", type=int, default=7, help="runs of each, alternating (default 7)")
    parser.add_argument("--workers", type=int, default=32, help="parallel PutObject calls while filling (default 32)")
    args = parser.parse_args()

    with local_gatehouse() as (gatehouse, alice):
        filler = gatehouse.aws.session.client(
            "s3", endpoint_url=gatehouse.settings.endpoint_url, config=Config(max_pool_connections=args.workers)
        )
        print(f"Putting {args.objects:,} objects under {SOURCE}/{PREFIX} …", flush=True)
        fill(filler, args.objects, args.workers)
        raw = raw_client(gatehouse)
        ways: dict[str, Callable[[], object]] = {
            "gatehouse": lambda: list_folder(gatehouse, alice, SOURCE, PREFIX, page_size=PAGE),
            "boto3": lambda: raw.list_objects_v2(Bucket=SOURCE, Prefix=PREFIX, Delimiter="/", MaxKeys=PAGE),
        }
        page = list_folder(gatehouse, alice, SOURCE, PREFIX, page_size=PAGE)
        assert len(page.objects) == PAGE and page.next_token, "the folder must be bigger than one page"
        for way in ways.values():  # first calls make connections: not part of the figures
            way()
        seconds: dict[str, list[float]] = {name: [] for name in ways}
        for number in range(args.runs):
            order = list(ways) if number % 2 == 0 else list(reversed(ways))
            for name in order:
                seconds[name].append(timed(ways[name]))
            print(f"run {number + 1}: " + ", ".join(f"{n} {seconds[n][-1] * 1000:.1f} ms" for n in ways), flush=True)

    median = {name: statistics.median(runs) for name, runs in seconds.items()}
    ratio = median["gatehouse"] / median["boto3"]
    print(f"median first page: Gatehouse {median['gatehouse'] * 1000:.1f} ms, boto3 {median['boto3'] * 1000:.1f} ms")
    print(f"first-page ratio (Gatehouse / boto3): {ratio:.2f}")
    print(json.dumps({"objects": args.objects, "first_page_ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
