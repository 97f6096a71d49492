"""Each page as each persona, timed against an empty Streamlit page, at several scales, on SQLite and PostgreSQL.

Run from the repository root:

    .venv/bin/python bench/pages.py                                   # scales 1 and 0.01, both databases
    .venv/bin/python bench/pages.py --scales 0.01 --databases sqlite --repeats 3     # a quick look
    .venv/bin/python bench/pages.py --scales 1,0.01 --databases postgresql --keep   # keep the seeded databases

What is timed: one rerun of the page through `streamlit.testing.v1.AppTest` (the real app.py, its navigation and the
page), with the persona already signed in (the session state streamlit-authenticator leaves after a sign-in: bcrypt
is slow on purpose and is not what is measured), with AppTest made to run as a server does: app.py at every rerun
and each script compiled once (see NavigationPagesManager and _SCRIPTS). Each page is run once untimed first; then,
in turns, the empty page (a one-line Streamlit script) and the page. Ratio = page ÷ empty page of the same turn,
median over the repeats; growth = a page's ratio at the largest scale ÷ its ratio at the smallest. Each turn also
times the rerun after a write (the revision row moved on, as any process's write would): the page reads everything
afresh (pages cache their reads until the next write: pages/ui/cached.py `read`); and the rerun after someone else signs
in (core.auth's own write: an audit event and their last sign-in), after which only the audit trail's reads are read
again (core.adapters.db's two counts). Also shown: the
median seconds, and the SQL statements a rerun runs with the seconds their cursors spend executing (SQLAlchemy
cursor events; SQLite steps through rows as they are fetched, so there this undercounts), to tell a page that waits
on the database from one that builds too many elements.

The databases: SQLite files under --work-dir (default: gatehouse-bench in the temporary directory) and PostgreSQL
databases `gatehouse_bench_<scale>` on the server of --postgres, made and filled by bench/seed_scale.py, then
deleted at the end. With --keep they stay, and a database that is already filled is used again as it is.

AWS: a moto server started here on a free port. Before the app starts on a database, every live source's bucket is
made in it, so the app's start-up finds the emulation as it left it and has nothing to re-provision (the seed
recorded every bucket as made and every role as applied); the start-up is not timed. alpha-shared-workspace gets
more than a page of folders and files (FOLDER_KEYS), for Browse to list a folder's table through moto over HTTP.

The access review opened for Admin → Review access has every other report of a personal-data source signed by its
information asset owner (`sign_reports`), so carol's Personal data page lists signed and unsigned reports.

Output: a table a database, then one JSON line a database, the last line for the last of --databases:
{"scale": F, "database": "sqlite|postgresql", "max_page_ratio": X, "max_growth": Y, "pages": {NAME: RATIO, ...},
 "after_sign_in": {"max_page_ratio": X, "max_growth": Y, "pages": {...}}, "after_write": {... the same ...},
 "elements": {NAME: N, ...}}
with the ratios at the largest scale; elements: the elements and blocks a page's rerun draws (`drawn`), which a loaded
machine does not change. Targets (issue 6): every page at most 3 times the empty page at full scale,
growth at most 1.5.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest, app_test, local_script_runner

from core import auth
from core.actions.start_review import open_campaign
from core.adapters.aws import Aws
from core.adapters.db import make_engine, migrate, session_scope
from core.adapters.local_aws import mark_local_aws
from core.adapters.models import DataSource, User, utcnow
from core.adapters.review_models import ReviewCampaign, ReviewSignature
from core.config import Settings
from core.reads.review_signatures import seen_report
from core.startup import database_epoch

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
EMPTY_PAGE = 'import streamlit as st\n\nst.title("Empty page")\n'
SIGN_IN = "Sign in (signed out)"
PERSONAS = ("alice", "bob", "carol", "dave", "erin")
# The folder Browse lists (alice reads and writes the whole bucket): more than a page (50) of folders and files
FOLDER_SOURCE = "alpha-shared-workspace"
FOLDER_KEYS = [f"area-{n}/data.csv" for n in range(8)] + [f"table_{n:03d}.csv" for n in range(60)]


class NavigationPagesManager(PagesManager):
    """Runs app.py at every rerun, as a Streamlit server does.

    A server sees the `pages/` folder at its first run, runs app.py as the main page, and app.py's st.navigation
    turns the folder mode off for good. AppTest forgets that before every run, so from the second run on it would
    run the page alone, without app.py (no sign-in check, navigation or inbox count): not what a user waits for.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        PagesManager.uses_pages_directory = False
        super().__init__(*args, **kwargs)


app_test.PagesManager = NavigationPagesManager  # type: ignore[misc]
# A server compiles each script once and keeps the bytecode; AppTest compiles app.py and the page again at every
# run (with the AST rewrite of "magic"), which would charge a long page for its length rather than for its work.
# Both AppTest and its script runner make a ScriptCache of their own each run: both get the one shared cache.
_SCRIPTS = ScriptCache()
app_test.ScriptCache = lambda: _SCRIPTS  # type: ignore[misc,assignment]
local_script_runner.ScriptCache = lambda: _SCRIPTS  # type: ignore[misc,assignment]


@dataclass(frozen=True)
class Page:
    persona: str | None  # None: nobody signed in
    title: str
    path: str | None  # None: the app's own script, as it is before signing in
    # (key, label) of each lazy tab to open, outer first (a tab within a tab), or of a widget to set (Browse's
    # source); none: the page's first tabs
    tabs: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        title = f"{self.title}: {self.tabs[-1][1]}" if self.tabs else self.title  # the innermost tab names it
        return f"{title} ({self.persona})" if self.persona else SIGN_IN


PAGES = (
    Page("alice", "My data", "pages/my_data.py"),
    Page("alice", "Browse", "pages/browse.py"),
    Page("alice", "Browse", "pages/browse.py", (("source", FOLDER_SOURCE),)),  # a folder listed (S3): FOLDER_KEYS
    Page("alice", "Request access", "pages/request_access.py"),
    Page("alice", "Inbox", "pages/inbox.py"),
    Page("alice", "Upload", "pages/upload.py"),  # measured once the page exists
    Page("bob", "Admin", "pages/admin.py"),
    Page("bob", "Admin", "pages/admin.py", (("admin-section", "Manage access"),)),
    Page("bob", "Admin", "pages/admin.py", (("admin-section", "Manage access"), ("admin-tab", "Grant access"))),
    Page("bob", "Admin", "pages/admin.py", (("admin-section", "Review access"),)),  # issue 17: 300 sources
    Page("bob", "My data", "pages/my_data.py"),
    Page("carol", "Confirmations", "pages/confirmations.py"),
    # issue 29: carol owns personal-data sources (bench/seed_personal.py): requests, sign-offs and review reports
    Page("carol", "Personal data", "pages/personal_data.py"),
    Page("dave", "Platform", "pages/platform.py"),
    Page("dave", "Platform", "pages/platform.py", (("platform-tab", "Audit trail"),)),
    Page("dave", "My data", "pages/my_data.py"),
    Page(None, "Sign in", None),
)


@dataclass
class Measure:
    ratio: float
    seconds: float
    empty_seconds: float
    queries: int
    database_seconds: float
    cold_ratio: float  # the rerun after a write elsewhere: every cached read is read again
    cold_queries: int
    signin_ratio: float  # the rerun after someone else's sign-in: only the audit trail's reads are read again
    elements: int  # elements and blocks the rerun drew, sidebar and navigation included: what Streamlit builds


@dataclass
class QueryCounter:
    """Counts the SQL statements of every engine in this process (the app's included) and the time they take."""

    count: int = 0
    seconds: float = 0.0
    engines: weakref.WeakSet[Engine] = field(default_factory=weakref.WeakSet)

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0

    def _before(self, connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.engines.add(connection.engine)
        connection.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        started = connection.info["bench_started"].pop()
        self.count += 1
        self.seconds += time.perf_counter() - started

    def dispose_all(self) -> None:
        for engine in list(self.engines):
            engine.dispose()


COUNTER = QueryCounter()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scale_tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "_").replace("-", "_")


# --- databases ------------------------------------------------------------------------------------------------


def users_in(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT COUNT(*) FROM users")).scalar_one())
    except Exception:  # no schema yet
        return 0
    finally:
        engine.dispose()


def prepare_sqlite(work_dir: Path, scale: float, keep: bool) -> str:
    path = work_dir / f"scale-{scale_tag(scale)}.db"
    url = f"sqlite:///{path}"
    if path.exists() and not (keep and users_in(url)):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return url


def postgres_admin(admin_url: str) -> Engine:
    return create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


def prepare_postgres(admin_url: str, scale: float, keep: bool) -> str:
    name = f"gatehouse_bench_{scale_tag(scale)}"
    url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
    url_text = url.render_as_string(hide_password=False)
    admin = postgres_admin(admin_url)
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists and keep and users_in(url_text):
                return url_text
            if exists:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url_text


def drop_postgres(admin_url: str, url: str) -> None:
    name = make_url(url).database
    assert name and name.startswith("gatehouse_bench_"), name
    admin = postgres_admin(admin_url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def drop_sqlite(url: str) -> None:
    path = url.removeprefix("sqlite:///")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def fill(url: str, scale: float) -> None:
    """Seed the database in a process of its own: seeding at full scale leaves this process's heap holding millions
    of objects, which made every rerun timed after it a third slower (a server's data came from elsewhere)."""
    if users_in(url):
        print(f"Using {url} as it is (already seeded).", flush=True)
    else:
        seeder = [sys.executable, "-m", "bench.seed_scale", "--database-url", url, "--scale", str(scale)]
        subprocess.run(seeder, cwd=ROOT, check=True)
    open_review(url)


def open_review(url: str) -> None:
    """An access review of every source, open, for Admin → Review access (issue 17); once: a kept database has it.
    On PostgreSQL, the database vacuumed and analysed."""
    engine = make_engine(url)
    try:
        migrate(engine)  # a database kept from before the reviews' migration
        with session_scope(engine) as session:
            if session.exec(select(ReviewCampaign.id)).first() is None:
                today = utcnow().date()
                opened = open_campaign(session, "bench", today + timedelta(days=28), None, today)
                print(f"Started an access review of {opened.grants:,} grants.", flush=True)
                sign_reports(session, opened.campaign_id)
        if engine.dialect.name == "postgresql":
            # What autovacuum would do in the minutes after the seed and the campaign (vacuum and gather statistics),
            # done now: left to itself it takes a core of this machine's two while the first pages are timed.
            # And a checkpoint: the seed's pages written out now, not by the checkpointer while pages are timed.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
                with contextlib.suppress(DBAPIError):  # CHECKPOINT needs a superuser or pg_checkpoint
                    connection.execute(text("CHECKPOINT"))
    finally:
        engine.dispose()


def sign_reports(session: Session, campaign_id: int) -> None:
    """Every other report of the review for a source holding personal data signed by its information asset owner
    (issue 29), as core.actions.sign_review_report records it: carol's page lists signed and unsigned ones."""
    owned = session.exec(
        select(DataSource)
        .where(col(DataSource.iao_id).is_not(None), col(DataSource.archived_at).is_(None))
        .order_by(DataSource.name)
    ).all()
    signed = 0
    for source in owned[::2]:
        seen = seen_report(session, campaign_id, source.id or 0)
        if not seen.counts["grants"]:
            continue
        signed += 1
        session.add(
            ReviewSignature(
                campaign_id=campaign_id,
                source_id=source.id or 0,
                signed_by_id=source.iao_id or 0,
                report_sha256=seen.sha256,
                seen=seen.counts,
            )
        )
    print(f"Signed {signed:,} of {len(owned):,} personal-data sources' review reports.", flush=True)


# --- AWS ------------------------------------------------------------------------------------------------------


def make_buckets(url: str, port: int) -> None:
    """Every live source's bucket exists in the emulation, as if the app had made it (see the docstring): emptied of
    the database before and marked as this one's, which the app's start checks (core.adapters.local_aws)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        names = list(
            connection.execute(
                text("SELECT name FROM data_sources WHERE archived_at IS NULL AND provisioned_at IS NOT NULL")
            ).scalars()
        )
    epoch = database_epoch(engine)
    engine.dispose()
    aws = Aws(Settings(local_aws_port=port, seed_demo=False))
    urllib.request.urlopen(urllib.request.Request(f"{aws.settings.local_aws_endpoint}/moto-api/reset", method="POST"))
    mark_local_aws(aws, epoch)
    location = {"LocationConstraint": aws.settings.region}

    def make(name: str) -> None:
        try:
            aws.s3.create_bucket(Bucket=name, CreateBucketConfiguration=location)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(make, names))
        list(pool.map(lambda key: aws.s3.put_object(Bucket=FOLDER_SOURCE, Key=key, Body=b"a,b\n1,2\n"), FOLDER_KEYS))
    print(f"Made {len(names)} buckets in the emulation in {time.perf_counter() - started:.1f} s.", flush=True)


def bump(engine: Engine) -> None:
    """A write, as any other process's would be (adapters.db moves the revision on as a writing transaction commits)."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE revision SET n = n + 1, trail = trail + 1 WHERE id = 1"))


def sign_in_elsewhere(engine: Engine) -> None:
    """Someone who is not a persona signs in, as core.auth records it: the commonest write on a busy platform."""
    with session_scope(engine) as session:
        someone = session.exec(
            select(User.username).where(col(User.username).notin_(PERSONAS)).order_by(col(User.id)).limit(1)
        ).one()
        auth.record_sign_in(session, someone)


# --- timing ---------------------------------------------------------------------------------------------------


PROFILE: cProfile.Profile | None = None  # --profile: the timed reruns of the pages (not the empty page's), profiled
# --clock cpu: the CPU seconds of this process (every thread: the script's, moto's) instead of the seconds on the wall,
# which on a machine shared with other work count the time the rerun waited for a core
CLOCK: Callable[[], float] = time.perf_counter


def timed(run: Callable[[], Any], profile: cProfile.Profile | None = None) -> float:
    # streamlit-authenticator prints a cookie it cannot read (AppTest has no cookies): kept off the report
    gc.collect()  # the garbage of earlier runs is not this run's
    gc.freeze()  # what survives it is never scanned again: the next collect sees only what came after
    with contextlib.redirect_stdout(io.StringIO()):
        started = CLOCK()
        if profile is not None:  # AppTest runs the script in a thread of its own, made for the run
            threading.setprofile(lambda *_: profile.enable())
        run()
        threading.setprofile(None)
        return CLOCK() - started


def drawn(at: AppTest) -> int:
    """The elements and blocks of the last run (a tab, a container and a form are a block each): unlike the
    seconds, the same on a loaded machine as on a quiet one."""

    def count(node: Any) -> int:
        return 1 + sum(count(child) for child in getattr(node, "children", {}).values())

    return count(at._tree) - 1 - len(at._tree.children)  # the tree and its roots (main, sidebar, …) are not drawn


def check(at: AppTest, page: Page) -> str | None:
    """Why the run is not the page it should be, if it is not."""
    if at.exception:
        return f"exception: {at.exception[0].value}"
    titles = [t.value for t in at.title]
    wanted = "Gatehouse" if page.persona is None else page.title
    if wanted not in titles:
        errors = [e.value for e in at.error]
        return f"expected the title {wanted!r}, got {titles} {errors}"
    return None


def signed_in(persona: str | None, timeout: float) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    if persona is not None:
        # what streamlit-authenticator leaves in the session after a sign-in (pages/ui/signin.py sign_in reads these)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = persona
    return at


def measure_all(
    pages: list[Page],
    empty: AppTest,
    repeats: int,
    timeout: float,
    write: Callable[[], None],
    sign_in: Callable[[], None],
) -> dict[str, Measure | str]:
    results: dict[str, Measure | str] = {}
    sessions: dict[str | None, AppTest] = {}
    for page in pages:
        if page.path is not None and not (ROOT / page.path).exists():
            continue
        at = sessions.get(page.persona)
        if at is None:
            at = sessions[page.persona] = signed_in(page.persona, timeout)
            timed(at.run)  # the first run of the process starts Gatehouse: not timed
        try:
            if page.path is not None:
                at.switch_page(page.path)
        except ValueError as error:  # not in this persona's navigation
            results[page.name] = f"not reachable: {error}"
            continue
        for key, label in page.tabs:
            at.session_state[key] = label
        timed(at.run)  # the page's first run (imports, first queries): not timed
        problem = check(at, page)
        if problem:
            results[page.name] = problem
            print(f"  {page.name}: {problem}", flush=True)
            continue
        ratios, seconds, empties, queries, database, colds, cold_queries, signins = [], [], [], [], [], [], [], []
        for _ in range(repeats):
            empty_seconds = timed(empty.run)
            COUNTER.reset()
            page_seconds = timed(at.run, PROFILE)
            queries.append(COUNTER.count)
            database.append(COUNTER.seconds)
            ratios.append(page_seconds / empty_seconds)
            seconds.append(page_seconds)
            empties.append(empty_seconds)
            if page.persona is not None:
                write()  # as another process would: the next rerun finds every cached read out of date
                empty_seconds = timed(empty.run)
                COUNTER.reset()
                colds.append(timed(at.run) / empty_seconds)
                cold_queries.append(COUNTER.count)
                sign_in()  # someone else signs in: the audit trail moves, nothing a page shows but the trail
                empty_seconds = timed(empty.run)
                signins.append(timed(at.run) / empty_seconds)
        problem = check(at, page)
        if problem:
            results[page.name] = problem
            continue
        results[page.name] = Measure(
            statistics.median(ratios),
            statistics.median(seconds),
            statistics.median(empties),
            int(statistics.median(queries)),
            statistics.median(database),
            statistics.median(colds) if colds else statistics.median(ratios),
            int(statistics.median(cold_queries)) if cold_queries else int(statistics.median(queries)),
            statistics.median(signins) if signins else statistics.median(ratios),
            drawn(at),
        )
        m = results[page.name]
        print(
            f"  {page.name:<36} {m.ratio:6.2f}×  {m.seconds * 1000:7.1f} ms  (empty {m.empty_seconds * 1000:.1f} ms)"
            f"  {m.elements:3d} elements"
            f"  {m.queries:3d} queries, {m.database_seconds * 1000:.1f} ms in SQL"
            f"  · after a write {m.cold_ratio:6.2f}×, {m.cold_queries} queries"
            f"  · after a sign-in {m.signin_ratio:6.2f}×",
            flush=True,
        )
    return results


def run_database(
    database: str, scales: list[float], args: argparse.Namespace, port: int, empty: AppTest
) -> dict[float, dict[str, Measure | str]]:
    by_scale: dict[float, dict[str, Measure | str]] = {}
    for scale in scales:
        print(f"\n== {database}, scale {scale:g} ==", flush=True)
        if database == "sqlite":
            url = prepare_sqlite(args.work_dir, scale, args.keep)
        else:
            url = prepare_postgres(args.postgres, scale, args.keep)
        try:
            fill(url, scale)
            make_buckets(url, port)
            os.environ.update(
                GATEHOUSE_DATABASE_URL=url,
                GATEHOUSE_AWS_MODE="local",
                GATEHOUSE_LOCAL_AWS_PORT=str(port),
                GATEHOUSE_DATA_DIR=str(args.work_dir / "data"),
                GATEHOUSE_SEED_DEMO="false",
            )
            st.cache_resource.clear()
            started = time.perf_counter()
            warm = signed_in("alice", args.timeout).run()
            print(f"Gatehouse started in {time.perf_counter() - started:.1f} s (not timed).", flush=True)
            if warm.exception:
                raise SystemExit(f"The app failed to start: {warm.exception[0].value}")
            writer = make_engine(url)
            try:
                wanted = [w.strip() for w in args.pages.split(",") if w.strip()]
                by_scale[scale] = measure_all(
                    [p for p in PAGES if not wanted or any(w in p.name for w in wanted)],
                    empty,
                    args.repeats,
                    args.timeout,
                    lambda w=writer: bump(w),
                    lambda w=writer: sign_in_elsewhere(w),
                )
            finally:
                writer.dispose()
        finally:
            st.cache_resource.clear()
            COUNTER.dispose_all()
            if not args.keep:
                drop_sqlite(url) if database == "sqlite" else drop_postgres(args.postgres, url)
    return by_scale


KINDS = (  # what a rerun follows, and the Measure field of its ratio
    ("a rerun, nothing written since the last one (what clicking through a page costs)", "ratio"),
    ("the rerun after someone else's sign-in elsewhere (the audit trail's reads afresh)", "signin_ratio"),
    ("the rerun after a write elsewhere (every read afresh)", "cold_ratio"),
)


def summary(database: str, by_scale: dict[float, dict[str, Measure | str]]) -> dict[str, Any]:
    largest, smallest = max(by_scale), min(by_scale)
    scales = sorted(by_scale, reverse=True)
    print(f"\n{database}: ratio page ÷ empty page (median), by scale" + (", and growth" if largest != smallest else ""))
    head = "".join(f"{'scale ' + format(s, 'g'):>12}" for s in scales) + f"{'growth':>9}"
    figures: dict[str, dict[str, Any]] = {}
    for title, field_name in KINDS:
        print(f"  {title}\n  {'page':<36}{head}")
        ratios: dict[str, float] = {}
        growth: dict[str, float] = {}
        for name in by_scale[largest]:
            cells = []
            for scale in scales:
                m = by_scale[scale].get(name)
                cells.append(f"{getattr(m, field_name):11.2f}×" if isinstance(m, Measure) else f"{'failed':>12}")
            m, small = by_scale[largest].get(name), by_scale[smallest].get(name)
            if isinstance(m, Measure):
                ratios[name] = round(getattr(m, field_name), 2)
                if largest != smallest and isinstance(small, Measure):
                    growth[name] = round(getattr(m, field_name) / getattr(small, field_name), 2)
            cells.append(f"{growth[name]:8.2f}×" if name in growth else " " * 9)
            print(f"  {name:<36}" + "".join(cells))
        figures[field_name] = {
            "max_page_ratio": max(ratios.values()) if ratios else None,
            "max_growth": max(growth.values()) if growth else None,
            "pages": ratios,
        }
    for name, why in by_scale[largest].items():
        if not isinstance(why, Measure):
            print(f"  {name}: {why}")
    return {
        "scale": largest,
        "database": database,
        **figures["ratio"],
        "after_sign_in": figures["signin_ratio"],
        "after_write": figures["cold_ratio"],
        "elements": {name: m.elements for name, m in by_scale[largest].items() if isinstance(m, Measure)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,0.01", help="comma-separated scale factors (1 = 10,000 users)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--repeats", type=int, default=9, help="timed turns a page (median taken)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test", help="where to make DBs")
    parser.add_argument(
        "--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "gatehouse-bench", help="SQLite files here"
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases, and reuse them next time")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one page run may take")
    parser.add_argument("--pages", default="", help="only the pages whose name holds one of these (comma-separated)")
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of the pages' timed reruns (nothing written since) here"
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time on the wall (default), or this process's CPU time: steadier on a machine shared with other work",
    )
    args = parser.parse_args()
    global PROFILE, CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    PROFILE = cProfile.Profile() if args.profile else None
    scales = sorted({float(s) for s in args.scales.split(",")}, reverse=True)
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if unknown := set(databases) - {"sqlite", "postgresql"}:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    os.chdir(ROOT)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Outside a script run (clearing the cache, setting session state) Streamlit warns of a missing context: expected.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage()
    )
    COUNTER.install()

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    summaries = []
    try:
        with tempfile.TemporaryDirectory(prefix="gatehouse-bench-") as scratch:
            empty_script = Path(scratch) / "empty.py"
            empty_script.write_text(EMPTY_PAGE)
            empty = AppTest.from_file(str(empty_script), default_timeout=args.timeout)
            empty.run()
            for database in databases:
                summaries.append(summary(database, run_database(database, scales, args, port, empty)))
    finally:
        server.stop()
    if PROFILE is not None:
        PROFILE.dump_stats(args.profile)
        print(f"Profile of the timed reruns: {args.profile} (python -m pstats {args.profile})")
    print()
    for line in summaries:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
