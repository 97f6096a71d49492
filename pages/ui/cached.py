"""How pages read core, the one way: `read`, kept until the next write to the database (from any process) or for two
minutes, so that every rerun of a page runs one query (the revision) when nothing was written; `read_now` for what is
read once and not kept (a sign-in's lookups, a link's holder), `read_text` for an export made at a click. Each runs
`fn(session, ...)` in a unit of work of its own: a page never opens a session (tests/test_code_quality.py holds it)."""

from __future__ import annotations

import dataclasses
import functools
import pickle
import threading
from collections.abc import Callable, Iterable
from datetime import date
from enum import Enum
from typing import Any, TypeVar

import pyarrow as pa
import streamlit as st
from cachetools import TTLCache

from core.adapters.models import User
from core.config import Settings
from core.context import Gatehouse
from core.reads import audit_trail
from pages.ui.running import gatehouse
from pages.ui.widgets import moment

T = TypeVar("T")
REVISION = "gatehouse-revision"
# A cached read is dropped at the next write to the database (from any process) or after this long: what time alone
# changes (an end date passing) shows within it, and the expiry job's write ends it sooner.
READ_TTL_SECONDS = 120


@dataclasses.dataclass(frozen=True)
class AuditTable:
    """A page of the audit trail as the table a page shows it in, made once a page of events (kept by `read`):
    Arrow, what Streamlit sends, so a rerun neither unpickles the events one by one nor converts them again."""

    total: int
    rows: pa.Table  # When, Actor, Action, Source, Subject, Summary: text, rendered as text by st.dataframe

    def event(self, index: int) -> dict[str, str]:
        """One row of the table, by its column names."""
        return {name: values[0] for name, values in self.rows.slice(index, 1).to_pydict().items()}


def audit_table(
    session: Any, actor: User, filters: audit_trail.AuditFilter, offset: int = 0, limit: int = 50
) -> AuditTable:
    """`audit_trail.search`, as the table the Platform and Admin pages show (for `read`, which gives the session)."""
    page = audit_trail.search(session, actor, filters, offset=offset, limit=limit)
    events = page.items
    return AuditTable(
        page.total,
        pa.table(
            {
                "When": pa.array([moment(e.at, seconds=True) for e in events], pa.string()),
                "Actor": pa.array([e.actor for e in events], pa.string()),
                "Action": pa.array([e.action for e in events], pa.string()),
                "Source": pa.array([e.source or "" for e in events], pa.string()),
                "Subject": pa.array([e.subject or "" for e in events], pa.string()),
                "Summary": pa.array([e.summary for e in events], pa.string()),
            }
        ),
    )


# The reads that show audit events: keyed on every write (adapters.db `trail`). Other reads of the trail belong here.
_READS_THE_TRAIL = frozenset({audit_trail.search, audit_table})


def start_run(gh: Gatehouse) -> None:
    """Read the database's write revision once, at the start of a rerun: every read of the run is keyed on it."""
    revision = gh.revision()
    st.session_state[REVISION] = (gh.instance, *revision) if revision else None


def fragment(fn: Callable[..., None]) -> Callable[..., None]:
    """`st.fragment`, whose reruns read the write revision again (`start_run`): a click inside a fragment reruns it
    alone, not the page, and a read keyed on the revision the page read would show what was kept before a write made
    since (a form signed meanwhile shown as still waiting). Every fragment of a page is one of these."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        start_run(gatehouse())
        fn(*args, **kwargs)

    return st.fragment(run)


def read(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(session, *args, **kwargs)`, a read for the page, kept until the next write to the database.

    The key holds the database's write revision read at the start of this rerun (adapters.db), so a write anywhere, in
    this process or another, is seen at the next rerun (a write of only the audit trail and sign-in bookkeeping is
    seen by the reads of the trail, `_READS_THE_TRAIL`, and no other); and the arguments, so one user's reads are
    never another's (a row by its table and id: the actor's reads are keyed by who they are). A refusal
    (GatehouseError) is raised, never kept. The copy returned is the page's own: the cache keeps the value pickled."""
    revision = st.session_state.get(REVISION)
    if revision is not None:  # (process, epoch, n, trail): the trail's reads move with every write, others with n
        instance, epoch, n, trail = revision
        revision = (instance, epoch, "trail", trail) if fn in _READS_THE_TRAIL else (instance, epoch, n)

    def call() -> T:
        return read_now(fn, *args, **kwargs)

    if revision is None:  # no revision row (a schema made without the migrations): nothing to key on
        return call()
    # One string for Streamlit to hash (it walks a nested tuple element by element, at every call)
    return _cached_read(repr((revision, f"{fn.__module__}.{fn.__qualname__}", _key(args), _key(kwargs))), call)


# Every session of the process shares it: a few MB (pages of rows). A TTL cache of pickles, not st.cache_data: a page
# makes two to six reads a rerun, and st.cache_data hashed each key, looked up its function's signature and its
# callers' arguments at every call, more than the read itself costs when it is kept.
_READS: TTLCache[str, bytes] = TTLCache(maxsize=2000, ttl=READ_TTL_SECONDS)
_READS_LOCK = threading.Lock()  # a Streamlit process runs each session's reruns in a thread of its own


def _cached_read(key: str, call: Callable[[], T]) -> T:
    with _READS_LOCK:
        kept = _READS.get(key)
    if kept is not None:
        return pickle.loads(kept)  # type: ignore[no-any-return]
    value = call()  # two sessions asking at once may both read: the same value, kept once
    with _READS_LOCK:
        _READS[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return value  # the caller's own: what is kept is its pickle


def read_now(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(session, *args, **kwargs)` read now and not kept: what only one run asks for (a refusal is raised)."""
    return gatehouse().run(fn, *args, **kwargs)


def read_text(fn: Callable[..., Iterable[str]], *args: Any, **kwargs: Any) -> str:
    """`read_now` of a read streamed in pieces (an export, a report's CSV), joined while its unit of work is open."""
    return read_now(_joined, fn, *args, **kwargs)


def _joined(session: Any, fn: Callable[..., Iterable[str]], *args: Any, **kwargs: Any) -> str:
    return "".join(fn(session, *args, **kwargs))


@st.cache_data(ttl=300, show_spinner=False)
def audit_action_names() -> list[str]:
    """Every action ever recorded, for the audit trail's filter: a DISTINCT over the whole trail, so read at most
    every five minutes whatever is written meanwhile (defined here, once: a page's module is run at every rerun)."""
    return gatehouse().run(audit_trail.actions)


def _key(value: Any) -> Any:
    """A plain, hashable stand-in for an argument of a cached read."""
    if value is None or isinstance(value, str | int | float | bool | Enum | date):
        return value
    if isinstance(value, tuple | list):
        return tuple(_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    if isinstance(value, Settings):
        return "settings"  # one per process, and so is the cache
    table = getattr(value, "__tablename__", None)
    if table is not None:
        if value.id is None:  # not stored: no id tells it from another
            raise TypeError(f"an unsaved {type(value).__name__} cannot key a cached read")
        return (table, value.id)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__, tuple(_key(getattr(value, f.name)) for f in dataclasses.fields(value)))
    raise TypeError(f"{type(value).__name__} cannot key a cached read")


def read_page(fn: Callable[..., T], *args: Any, key: str, size: int) -> T:
    """`read` of one page of a list paged in the database: the page number is the one `pager(…, key)` turns."""
    return read(fn, *args, offset=int(st.session_state.get(key, 0)) * size, limit=size)
