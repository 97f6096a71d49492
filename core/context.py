"""What every use case is given: the settings, the database and the AWS adapter of one start of Gatehouse, and
the unit of work (one transaction) a use case opens on them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar
from uuid import uuid4

from sqlalchemy import Engine
from sqlmodel import Session

from core import effects, iam_sync, notify
from core.adapters.aws import Aws
from core.adapters.boto import ObjectWrites
from core.adapters.db import current_revision, session_scope
from core.config import Settings
from core.domain import plural
from core.team_policies import TEAM_POLICIES

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Gatehouse:
    """What every use case needs from the outside world, made once per process."""

    settings: Settings
    engine: Engine
    aws: Aws
    # Tells this start from any other in the process (tests start many): reads cached by one are not another's.
    instance: str = field(default_factory=lambda: uuid4().hex)
    # Work that follows an answer already given (`afterwards`): one thread, in the order it was handed over
    _after: ThreadPoolExecutor | None = field(default=None, repr=False, compare=False)
    _after_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """The unit of work of one use case: committed as it ends, rolled back if anything in it raises; what it
        declared must follow its commit (roles to apply in AWS, email) is done then (core/effects.py)."""
        with session_scope(self.engine) as session:
            yield session
        self._after_commit(session)

    def _after_commit(self, session: Session) -> None:
        """What the committed unit of work declared (core/effects.py): its roles applied in AWS (a failure is
        recorded on the role, shown and retried, never raised: the decision stands), then its email started."""
        roles, mail = effects.due(session)
        if roles:
            now, later = effects.in_answer(roles, self.settings.roles_in_answer, first=TEAM_POLICIES)
            applied = iam_sync.sync_pending(self, now)
            if later:
                effects.in_background(partial(iam_sync.sync_pending, role_names=later), self, "gatehouse-roles")
                applied.append(iam_sync.SyncOutcome(plural(len(later), "role"), 0, _being_written(len(later))))
            effects.record_applied(session, applied)
        if mail and self.settings.smtp_host:
            effects.in_background(notify.deliver_email, self)

    def run(self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(session, ...)` in a unit of work of its own: how the CLI, and pages through pages/ui/cached.py, run a
        read of core/reads, and pages the bookkeeping of a sign-in (core/auth), never opening a session themselves."""
        with self.session() as session:
            return fn(session, *args, **kwargs)

    def afterwards(self, fn: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        """Run `fn` after the caller has answered, on this start's one background thread, in the order handed over
        (the service's joiners' IAM roles). Only what is safe to lose goes here: whatever fails, or is still waiting
        when the process is killed, is left for the retry path (it is logged, never raised to anyone)."""
        with self._after_lock:
            if self._after is None:
                self._after = ThreadPoolExecutor(1, thread_name_prefix="gatehouse-afterwards")
            self._after.submit(_logged, fn, *args, **kwargs)

    def settle(self) -> None:
        """Wait until everything handed to `afterwards` so far is done."""
        with self._after_lock:
            after = self._after
        if after is not None:
            after.submit(lambda: None).result()

    def revision(self) -> tuple[str, int, int] | None:
        """The database's write revision (adapters/db.py): what a page's cached reads are keyed on."""
        return current_revision(self.engine)

    def objects_written(self) -> int:
        """How many object writes this process has made in S3 (adapters/boto.py `ObjectWrites`): what a folder's
        listing kept for the pages is keyed on, beside the revision, so that Gatehouse's own writes show at once."""
        return ObjectWrites.count()


def _being_written(count: int) -> str:
    roles = plural(count, "more member's role", "more members' roles")
    return f"{roles} {'is' if count == 1 else 'are'} being written in the background; each shows as pending until it is"


def _logged(fn: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except Exception:
        logging.getLogger("gatehouse").exception("Work done after an answer failed; the retry path repairs it")
