"""What every race test shares: Gatehouse on PostgreSQL as production runs it (one engine's pool, a session per
call), calls released together by a barrier, and the one-sentence check of whoever lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from core.adapters.models import User
from core.config import Settings
from core.context import Gatehouse
from core.domain import GatehouseError
from core.queries import get_user
from core.startup import start

NEED = "Quarterly pricing review for the finance committee needs these reports."


def on_postgres(postgres_url: str, moto_reset: str, tmp_path: Path) -> Iterator[Gatehouse]:
    """The body of a race module's `gatehouse` fixture: the demo on a fresh PostgreSQL database."""
    port = int(moto_reset.rsplit(":", 1)[1])
    started = start(Settings(database_url=postgres_url, local_aws_port=port, data_dir=tmp_path))
    yield started
    started.engine.dispose()


def user(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def count(gatehouse: Gatehouse, model: type, *conditions: object) -> int:
    with gatehouse.session() as session:
        return session.exec(select(func.count()).select_from(model).where(*conditions)).one()


def at_once(calls: list[Callable[[], object]]) -> list[BaseException | None]:
    """Run the calls in threads released together by a barrier; each call's exception, or None if it succeeded."""
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], object]) -> None:
        barrier.wait(timeout=30)
        call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(released, call) for call in calls]
        return [future.exception(timeout=120) for future in futures]


def assert_one_sentence(error: BaseException | None) -> None:
    assert isinstance(error, GatehouseError), repr(error)
    message = str(error)
    assert message and "\n" not in message and message.endswith(".") and len(message) < 300, message
