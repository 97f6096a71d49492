"""The two commands of the README, for a fresh machine with only python3 and pip.

    python3 dev.py run     # Gatehouse on http://127.0.0.1:8501 with SQLite, a local AWS emulation and demo data
    python3 dev.py test    # every test, PostgreSQL and Chromium included where the machine has them, a worker a core

Both create `.venv` (or reuse it) and install the project into it when pyproject.toml changes.
Extra arguments go to streamlit or pytest.
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


def say(message: str) -> None:
    print(f"[gatehouse] {message}", flush=True)


def ensure_environment() -> None:
    """Create the virtual environment and install the project (with its test tools) when pyproject changes."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing Gatehouse and its test tools into .venv (first run takes a minute or two)")
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


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
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    os.chdir(ROOT)
    if command == "run":
        return subprocess.call([str(PYTHON), "-m", "streamlit", "run", "app.py", *rest])
    ensure_postgres()
    ensure_chromium()
    return subprocess.call([str(PYTHON), "-m", "pytest", *parallel(rest), *rest])


def parallel(arguments: list[str]) -> list[str]:
    """One pytest worker a core (pytest-xdist), unless the arguments choose (`-n 0` runs in this process). Each
    worker has its own moto server and PostgreSQL databases, and every test its own data directory."""
    if any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in arguments):
        return []
    return ["-n", "auto", "--dist", "worksteal"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
