"""How long starting an access review over a whole platform takes (issue #17: ≤ 30 s on PostgreSQL for 5,000 sources
and 100,000 grants). Run from the repository root:

    .venv/bin/python bench/review_start.py                       # full scale on PostgreSQL (seeding takes a minute)
    .venv/bin/python bench/review_start.py --scale 0.01 --keep   # a quick look; keep the seeded database

It seeds `gatehouse_bench_reviews_<scale>` with bench/seed_scale.py (or reuses it with --keep), then starts campaigns
over every source through core (start_review.open_campaign, as `gatehouse reviews start` does: the campaign, one
INSERT … SELECT of its items, the notifications to every holder and reviewer, the audit event, in one transaction),
timing each start to its commit. Figures are printed, never asserted; the last line is JSON."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from bench.pages import drop_postgres, postgres_admin, scale_tag, users_in
from bench.seed_scale import describe, seed
from core.actions.start_review import open_campaign
from core.adapters.db import make_engine, migrate, session_scope
from core.adapters.models import utcnow


def prepare(admin_url: str, scale: float, keep: bool) -> str:
    name = f"gatehouse_bench_reviews_{scale_tag(scale)}"
    url = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    admin = postgres_admin(admin_url)
    try:
        with admin.connect() as connection:
            found = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if found and keep and users_in(url):
                return url
            if found:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    numbers, seconds = seed(url, scale)
    print("\n".join(describe(numbers, seconds, scale)), flush=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 5,000 sources, 100,000 grants")
    parser.add_argument("--repeats", type=int, default=3, help="campaigns started (median taken)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test", help="where to make it")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database, and reuse it next time")
    args = parser.parse_args()
    url = prepare(args.postgres, args.scale, args.keep)
    engine = make_engine(url)
    try:
        migrate(engine)
        today = utcnow().date()
        timings, grants = [], 0
        for _ in range(args.repeats):
            started = time.perf_counter()
            with session_scope(engine) as session:
                opened = open_campaign(session, "bench", today + timedelta(days=28), None, today)
            timings.append(time.perf_counter() - started)
            grants = opened.grants
            print(
                f"  campaign {opened.campaign_id}: {opened.grants:,} grants of {opened.holders:,} people on "
                f"{opened.sources:,} sources in {timings[-1]:.2f} s",
                flush=True,
            )
    finally:
        engine.dispose()
        if not args.keep:
            drop_postgres(args.postgres, url)
    print(f"Starting a review of {grants:,} grants: median {statistics.median(timings):.2f} s (target ≤ 30 s)")
    print(json.dumps({"scale": args.scale, "grants": grants, "median_seconds": round(statistics.median(timings), 2)}))


if __name__ == "__main__":
    main()
