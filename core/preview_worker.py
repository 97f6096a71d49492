"""Parsing a file to preview in a process of its own, bounded in time, memory and width whatever the file holds.

Anyone who can write to a source can leave a file built to make a parser work without end (a row of 200,000 cells,
two million shared strings, a value that unpacks to 400 MB, a zip bomb) and wait for an admin to preview it. What the
file's own metadata says is too big is refused before parsing (core/preview_parse.py); what slips through is stopped
by the limits of the process the parsing runs in (address space, CPU time) and by a wall clock, and is killed. Either
way the person reads one sentence.

Workers are forked from a fork server of our own, started once (`python -m core.preview_worker`) with pandas, pyarrow
and openpyxl imported and warmed up: a preview costs a fork, not an interpreter start, and no worker is forked from
the app's process, which runs threads. (multiprocessing's fork server would run the parent's __main__ again in every
worker, and under Streamlit __main__ is the page script.)"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import Pipe, reduction
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from core import config
from core.domain import InvalidInput, shown

MiB, INSTEAD = config.MiB, config.PREVIEW_INSTEAD
_server: subprocess.Popen[bytes] | None = None
_control: Connection | None = None
_server_lock = threading.Lock()
_slots = threading.BoundedSemaphore(config.PREVIEW_WORKERS)


@dataclass(frozen=True)
class Job:
    """What a worker parses: the bytes of a text or Excel file, or the size and the last bytes (where the footer is)
    of a Parquet file, whose other parts it reads through the parent (which fetches each range from S3 within the
    budget). Limits are sent with the job so that the parent decides them."""

    key: str
    kind: str
    rows: int
    data: bytes = b""
    size: int = 0
    cpu_seconds: int = field(default_factory=lambda: config.PREVIEW_CPU_SECONDS)
    memory_mib: int = field(default_factory=lambda: config.PREVIEW_MEMORY_MIB)


def parse(job: Job, fetch: Callable[[int, int], bytes] | None = None) -> pd.DataFrame:
    """The first rows of the file, parsed in a worker; `fetch(offset, length)` serves a Parquet worker's reads."""
    seconds = config.PREVIEW_SECONDS
    deadline = time.monotonic() + seconds
    if not _slots.acquire(timeout=seconds):
        raise InvalidInput("Gatehouse is busy previewing other files: try again in a moment.")
    try:
        worker = _fork()
        pid = None
        try:
            pid = _answer(job, worker, None, deadline)  # a worker's first word is its process id
            worker.send(job)
            return _answer(job, worker, fetch, deadline)
        except _Ended:
            raise
        except BaseException:
            if pid is not None:  # out of time, refused a read, or the page went away: it ends now
                _kill(pid)
            raise
        finally:
            worker.close()
    finally:
        _slots.release()


def prepare() -> None:
    """Start the fork server (seconds: pandas, pyarrow and openpyxl imported), which the app does when it starts so
    that the first preview need not wait for it."""
    threading.Thread(target=_fork_server, daemon=True, name="gatehouse-preview").start()


def _fork_server() -> tuple[Connection, int]:
    global _server, _control
    with _server_lock:
        if _server is None or _server.poll() is not None or _control is None:
            ours, theirs = Pipe()  # a Unix socket pair: it carries the workers' sockets to the server
            _server = subprocess.Popen(
                [sys.executable, "-m", "core.preview_worker", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                cwd=Path(__file__).resolve().parent.parent,
            )
            theirs.close()
            _control = ours
        return _control, _server.pid


class _Ended(InvalidInput):
    """The sentence a worker ended with: it has ended, or is ending, by itself."""


def _fork() -> Connection:
    """A new worker, talking over a socket pair of its own."""
    ours, theirs = Pipe()
    with theirs:
        try:
            _send(theirs)
        except OSError:  # the fork server ended (killed by someone): start another
            with _server_lock:
                _stop_server()
            _send(theirs)
    return ours


def _send(theirs: Connection) -> None:
    control, pid = _fork_server()
    with _server_lock:
        reduction.send_handle(control, theirs.fileno(), pid)


def _stop_server() -> None:
    global _server, _control
    if _control is not None:
        _control.close()
    if _server is not None and _server.poll() is None:
        _server.kill()
    _server = _control = None


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it had ended already
        os.kill(pid, signal.SIGKILL)


def _answer(job: Job, worker: Connection, fetch: Callable[[int, int], bytes] | None, deadline: float) -> Any:
    """Answer the worker's reads until it says something else: its id, its rows, or its refusal."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not worker.poll(left):
            raise InvalidInput(
                f"Previewing {shown(job.key)} took longer than {_seconds(config.PREVIEW_SECONDS)}: {INSTEAD}."
            )
        try:
            tag, value = _heard(worker.recv_bytes(_MAX_ANSWER_BYTES))
        except (
            EOFError,
            ConnectionResetError,
            OSError,
        ):  # killed by its hard CPU limit, or aborted on a refused allocation
            raise _Ended(
                f"Previewing {shown(job.key)} needs more time or memory than a preview may use: {INSTEAD}."
            ) from None
        if tag == "read" and fetch is not None:
            worker.send_bytes(fetch(*value))
        elif tag == "refused":
            raise _Ended(value)
        else:
            return value


# --- what a worker says: never a pickle, which would run whatever a worker a hostile file took over chose to send ---


def _say(parent: Connection, tag: str, value: Any) -> None:
    """A worker's word to the app: its rows as an Arrow IPC stream; anything else (its id, a read, a refusal), JSON."""
    if tag == "rows":
        parent.send_bytes(b"R" + _arrow(value))
    else:
        parent.send_bytes(b"J" + json.dumps([tag, value]).encode())


def _heard(raw: bytes) -> tuple[str, Any]:
    """What the app makes of a worker's word: data only (JSON, or an Arrow table checked in full before use)."""
    try:
        if raw[:1] == b"R":
            table = pa.ipc.open_stream(raw[1:]).read_all()
            table.validate(full=True)
            return "rows", table.to_pandas()
        if raw[:1] == b"J":
            tag, value = json.loads(raw[1:])
            if tag in ("pid", "read", "refused"):
                return str(tag), value
    except (ValueError, TypeError, pa.ArrowException):
        pass
    raise _Ended("The preview's worker answered what no worker says: try again, or read the file with code.")


def _arrow(frame: pd.DataFrame) -> bytes:
    """The frame as an Arrow IPC stream, column by column (a name may repeat); a column of mixed kinds (a JSON lines
    field that is a number here and text there) goes as text."""
    arrays, names = [], []
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        try:
            array = pa.array(column, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            array = pa.array(column.map(lambda v: None if _missing(v) else str(v)), type=pa.string(), from_pandas=True)
        arrays.append(array)
        names.append(str(frame.columns[position]))
    table = pa.Table.from_arrays(arrays, names=names)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    return sink.getvalue().to_pybytes()


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or a dict from a JSON lines field
        return False


# a preview's rows hold at most config.PREVIEW_RESULT_MIB in pandas; an answer far larger is no preview's
_MAX_ANSWER_BYTES = 2 * config.PREVIEW_RESULT_MIB * MiB + MiB


def _seconds(seconds: float) -> str:
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"


# --- in the fork server and its workers -------------------------------------------------------------------------


def _serve_forks(control: Connection) -> None:
    """Fork a worker for each socket the app sends; end when the app does (its end of the control socket closes)."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped as they end
    while True:
        try:
            fd = reduction.recv_handle(control)
        except (EOFError, OSError):
            return
        if os.fork() == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _work(Connection(fd))
            finally:
                os._exit(0)
        os.close(fd)


class _OutOfTime(BaseException):
    """Raised by the soft CPU limit's signal: a BaseException, so that no parser's `except Exception` takes it."""


def _out_of_time(*_: Any) -> None:
    raise _OutOfTime


def _work(parent: Connection) -> None:
    from core import preview_parse  # imported by the fork server already; the app never needs it

    _say(parent, "pid", os.getpid())
    job: Job = parent.recv()  # from the app: trusted
    _limit(job)
    try:
        source = _ParentFile(parent, job) if job.kind == "Parquet" else io.BytesIO(job.data)
        _say(parent, "rows", preview_parse.parse(job.key, job.kind, job.rows, source))
    except InvalidInput as refusal:
        _say(parent, "refused", str(refusal))
    except _OutOfTime:
        _say(
            parent,
            "refused",
            f"Previewing {shown(job.key)} needs more than {_seconds(job.cpu_seconds)} of work: {INSTEAD}.",
        )
    except MemoryError:  # pyarrow's ArrowMemoryError is one too
        _say(
            parent,
            "refused",
            f"Previewing {shown(job.key)} needs more than the {job.memory_mib} MiB of memory a preview may use: "
            f"{INSTEAD}.",
        )
    except Exception as error:  # a parser failing as nobody foresaw: the operator reads why, the person a sentence
        traceback.print_exc()
        _say(parent, "refused", str(preview_parse.unreadable(job.key, job.kind, error)))


def _limit(job: Job) -> None:
    """CPU time counts from the fork (the soft limit raises _OutOfTime, the hard one a second later kills); address
    space from what the worker has mapped already (the preloaded modules), so that the limit is what parsing adds."""
    signal.signal(signal.SIGXCPU, _out_of_time)
    resource.setrlimit(resource.RLIMIT_CPU, (job.cpu_seconds, job.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a worker its CPU limit ends leaves no core file behind
    try:
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:  # not Linux: the CPU limit and the parent's clock still hold
        return
    limit = mapped + job.memory_mib * MiB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class _ParentFile(io.RawIOBase):
    """A Parquet file as the worker sees it: seekable, each read fetched by the parent within its budget."""

    def __init__(self, parent: Connection, job: Job) -> None:
        super().__init__()
        self._parent, self._size, self._position = parent, job.size, 0
        self._tail, self._tail_at = job.data, job.size - len(job.data)  # sent with the job: the footer is in it

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._position + size)
        if end <= self._position:
            return b""
        if self._position >= self._tail_at:
            chunk = self._tail[self._position - self._tail_at : end - self._tail_at]
            self._position += len(chunk)
            return chunk
        _say(self._parent, "read", [self._position, end - self._position])
        chunk = self._parent.recv_bytes()
        self._position += len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


if __name__ == "__main__":
    # The workers run this module's code as `core.preview_worker` (as the app pickles their jobs), imported here once
    # with the parsers; what is alive now is frozen out of the garbage collector's reach, so that a worker's
    # collections do not touch (and so copy) the fork server's memory.
    from core import preview_parse, preview_worker  # noqa: F401

    gc.freeze()
    preview_worker._serve_forks(Connection(int(sys.argv[1])))
