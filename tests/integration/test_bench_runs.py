"""The benchmarks keep running as the code changes: bench/seed_scale.py fills a small database with every kind of
row (a new word in the model, such as a kind of movement, once left it failing unnoticed)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from bench.seed_scale import seed
from core import audit
from core.adapters.db import make_engine


def test_the_scale_seeder_fills_a_small_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    numbers, _ = seed(url, scale=0.001)
    assert all(count > 0 for count in numbers.values()), numbers
    engine = make_engine(url)
    with Session(engine) as session:  # its audit trail is chained as the app's is
        check = audit.verify(session)
        assert (check.events, check.broken_at) == (numbers["audit_events"], None)
    engine.dispose()
