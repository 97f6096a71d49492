"""Parsing a file to preview in a process of its own, bounded in time, memory and width whatever the file holds.

Anyone who can write to a source can leave a file built to make a parser work without end (a row of 200,000 cells,
two million shared strings, a value that unpacks to 400 MB, a zip bomb) and wait for an admin to preview it. What the
file's own metadata says is too big is refused before parsing (core/preview_parse.py); what slips through is stopped
by the limits of the process the parsing runs in (address space, CPU time) and by a wall clock, and is killed. Either
way the person reads one sentence.

Workers are forked from a fork server started once with pandas, pyarrow and openpyxl imported: a preview costs a
fork (milliseconds), not an interpreter start, and no worker is forked from a process running threads."""

from __future__ import annotations

import io
import multiprocessing
import queue
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import pandas as pd

from core import config, preview_parse
from core.domain import InvalidInput, shown

MiB = 1024 * 1024
# Imported once in the fork server, not in each worker: the parent's main module (multiprocessing's default, so that
# a worker need not run it again) and the parsers, warmed up.
_PRELOADED = ["__main__", "core.preview_parse"]
_context: Any = None
_context_lock = threading.Lock()
_slots = threading.BoundedSemaphore(config.PREVIEW_WORKERS)
_spares: queue.SimpleQueue[tuple[Any, Connection]] = queue.SimpleQueue()


@dataclass(frozen=True)
class Job:
    """What a worker parses: the bytes of a text or Excel file, or the size of a Parquet file it reads through the
    parent (which fetches each range from S3 within the budget). Limits are sent with the job so that the parent
    decides them."""

    key: str
    kind: str
    rows: int
    data: bytes = b""
    size: int = 0
    cpu_seconds: int = field(default_factory=lambda: config.PREVIEW_CPU_SECONDS)
    memory_mib: int = field(default_factory=lambda: config.PREVIEW_MEMORY_MIB)


def parse(job: Job, fetch: Callable[[int, int], bytes] | None = None, seconds: float | None = None) -> pd.DataFrame:
    """The first rows of the file, parsed in a worker; `fetch(offset, length)` serves a Parquet worker's reads."""
    seconds = config.PREVIEW_SECONDS if seconds is None else seconds
    if not _slots.acquire(timeout=seconds):
        raise InvalidInput("Gatehouse is busy previewing other files: try again in a moment.")
    try:
        worker, ours = _take()
        try:
            ours.send(job)
            return _serve(job, worker, ours, fetch, time.monotonic() + seconds, seconds)
        finally:
            ours.close()
            if worker.is_alive():  # out of time, refused a read, or done and on its way out: it ends now
                worker.kill()  # the fork server, its parent, reaps it
    finally:
        _slots.release()


def _take() -> tuple[Any, Connection]:
    """A worker forked ahead of time, and another forked in the background for the next preview: the fork and the
    worker's start (20 ms on a busy machine) are not waited for."""
    try:
        worker, ours = _spares.get_nowait()
    except queue.Empty:
        worker, ours = _start()
    if not worker.is_alive():  # ended while it waited (the machine's OOM killer): start a fresh one
        ours.close()
        worker, ours = _start()
    threading.Thread(target=lambda: _spares.put(_start()), daemon=True).start()
    return worker, ours


def _start() -> tuple[Any, Connection]:
    with _context_lock:
        global _context
        if _context is None:
            _context = multiprocessing.get_context("forkserver")
            _context.set_forkserver_preload(_PRELOADED)
    ours, theirs = _context.Pipe()
    worker = _context.Process(target=_work, args=(theirs,), daemon=True)
    worker.start()
    theirs.close()
    return worker, ours


def _serve(
    job: Job, worker: Any, ours: Connection, fetch: Callable[[int, int], bytes] | None, deadline: float, seconds: float
) -> pd.DataFrame:
    """Answer the worker's reads until it sends its rows or its refusal, dies, or runs out of time."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not ours.poll(left):
            raise InvalidInput(
                f"Previewing {shown(job.key)} took longer than {_seconds(seconds)}: read it with code instead "
                "(see Read this data)."
            )
        try:
            tag, value = ours.recv()
        except EOFError:  # the worker died: killed by its CPU limit, or aborted on an allocation it was refused
            worker.join()
            raise InvalidInput(_died(job, worker.exitcode)) from None
        if tag == "read":
            if fetch is None:
                raise RuntimeError("a worker asked to read a file it was given whole")
            ours.send_bytes(fetch(*value))
        elif tag == "rows":
            return value
        else:
            raise InvalidInput(value)


def _died(job: Job, exitcode: int | None) -> str:
    if exitcode == -signal.SIGXCPU:
        return (
            f"Previewing {shown(job.key)} needs more than {_seconds(job.cpu_seconds)} of work: read it with code "
            "instead (see Read this data)."
        )
    return (
        f"Previewing {shown(job.key)} needs more than the {job.memory_mib} MiB of memory a preview may use: read it "
        "with code instead (see Read this data)."
    )


def _seconds(seconds: float) -> str:
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"


# --- in the worker ----------------------------------------------------------------------------------------------


def _work(parent: Connection) -> None:
    try:
        job: Job = parent.recv()
    except EOFError:  # the parent ended before it had a job for this worker
        return
    _limit(job)
    try:
        source = _ParentFile(parent, job) if job.kind == "Parquet" else io.BytesIO(job.data)
        parent.send(("rows", preview_parse.parse(job.key, job.kind, job.rows, source)))
    except InvalidInput as refusal:
        parent.send(("refused", str(refusal)))
    except MemoryError:  # pyarrow's ArrowMemoryError is one too
        parent.send(("refused", _died(job, None)))


def _limit(job: Job) -> None:
    """CPU time counts from the fork; address space from what the worker has mapped already (the preloaded modules),
    so that the limit is what parsing may add."""
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
        self._parent.send(("read", (self._position, end - self._position)))
        chunk = self._parent.recv_bytes()
        self._position += len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)
