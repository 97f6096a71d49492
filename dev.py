"""The two commands of the README, for a fresh machine with only python3 and pip, and the lock's refresh.

    python3 dev.py run     # Gatehouse on http://127.0.0.1:8501 with SQLite, a local AWS emulation and demo data
    python3 dev.py test    # every test, PostgreSQL and Chromium included where the machine has them, a worker a core
    python3 dev.py lock    # requirements.lock moved to today's releases (within pyproject's ranges), then every test

Each creates `.venv` (or reuses it) and installs exactly the versions of requirements.lock (hash-checked) when the lock
or pyproject.toml changes. Extra arguments go to streamlit or pytest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".gatehouse-installed"
LOCK = ROOT / "requirements.lock"


def say(message: str) -> None:
    print(f"[gatehouse] {message}", flush=True)


def ensure_environment() -> None:
    """Create the virtual environment and install the locked versions (the project with its test tools) when the lock
    or pyproject changes: a fresh clone gets what CI last passed with, not whatever was released this morning."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + LOCK.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing Gatehouse and its test tools into .venv from requirements.lock (first run takes a minute or two)")
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--require-hashes", "-r", str(LOCK)], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(wanted)


def refresh_lock() -> None:
    """Resolve pyproject's ranges (with the test tools) to today's releases, with every file's hash, for every
    platform. Upgrading is this deliberate step, followed by the whole suite."""
    ensure_environment()
    say("resolving requirements.lock afresh")
    subprocess.run(
        [
            str(BIN / "uv"),
            "pip",
            "compile",
            str(ROOT / "pyproject.toml"),
            "--extra",
            "test",
            "--upgrade",
            "--generate-hashes",
            "--universal",
            "--python-version",
            "3.11",
            "--quiet",
            "--custom-compile-command",
            "python3 dev.py lock",
            "-o",
            str(LOCK),
        ],
        check=True,
    )
    ensure_environment()


def freeze() -> None:
    """What is installed, as pip sees it: CI prints it so that a run says which versions it tested."""
    subprocess.run(
        [str(PYTHON), "-m", "pip", "freeze", "--disable-pip-version-check", "--exclude-editable"], check=True
    )


def ensure_postgres() -> None:
    """Tests use the machine's PostgreSQL (127.0.0.1:5432, trust auth); start the local cluster if it is down."""
    if shutil.which("pg_isready") is None:
        return
    if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0:
        return
    clusters = Path("/etc/postgresql")
    if shutil.which("pg_ctlcluster") and clusters.is_dir():
        for version in sorted(p.name for p in clusters.iterdir()):
            say(f"starting PostgreSQL {version}")
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False)


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium; as root on Debian, install it if it is missing."""
    if Path("/usr/bin/chromium").exists() or shutil.which("apt-get") is None or os.geteuid() != 0:
        return
    say("installing Debian's chromium for the browser tests")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium"],
        check=False,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "lock", "freeze"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "lock":
        refresh_lock()
        command = "test"
    ensure_environment()
    if command == "freeze":
        freeze()
        return 0
    os.chdir(ROOT)
    if command == "run":
        return subprocess.call([str(PYTHON), "-m", "streamlit", "run", "app.py", *rest])
    ensure_postgres()
    ensure_chromium()
    return subprocess.call([str(PYTHON), "-m", "pytest", *parallel(rest), *rest])


def parallel(arguments: list[str]) -> list[str]:
    """One pytest worker a core and one more (pytest-xdist), unless the arguments choose (`-n 0` runs in this
    process): a browser test's worker mostly waits while Chromium and `streamlit run` work, so a worker a core left
    a core idle for part of the run (on 2 cores: 9 min 54 s with 2 workers, 9 min 15 s with 3 and one test's 3-minute
    stall among them; bench/README.md). Each worker has its own moto server and PostgreSQL databases, and every test
    its own data directory. A worker takes the next test when it is nearly done with its own (`load`, one or two at a
    time): the longest come first (tests/conftest.py), so none is left to run alone at the end."""
    if any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in arguments):
        return []
    return ["-n", str((os.cpu_count() or 1) + 1), "--dist", "load", "--maxschedchunk", "1"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
