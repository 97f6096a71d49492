"""What every use case is given: the settings, the database and the AWS adapter of one start of Gatehouse, and
the unit of work (one transaction) a use case opens on them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import uuid4

from sqlalchemy import Engine
from sqlmodel import Session

from core.adapters.aws import Aws
from core.adapters.db import session_scope
from core.config import Settings


@dataclass
class Gatehouse:
    """What every use case needs from the outside world, made once per process."""

    settings: Settings
    engine: Engine
    aws: Aws
    # Tells this start from any other in the process (tests start many): reads cached by one are not another's.
    instance: str = field(default_factory=lambda: uuid4().hex)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session
