"""The benchmarks keep running as the code changes: bench/seed_scale.py fills a small database with every kind of
row (a new word in the model, such as a kind of movement, once left it failing unnoticed)."""

from __future__ import annotations

from pathlib import Path

from bench.seed_scale import seed


def test_the_scale_seeder_fills_a_small_database(tmp_path: Path) -> None:
    numbers, _ = seed(f"sqlite:///{tmp_path / 'bench.db'}", scale=0.001)
    assert all(count > 0 for count in numbers.values()), numbers
