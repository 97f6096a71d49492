"""What every `gatehouse` command group shares (core/cli.py, cli_reviews.py, cli_scim.py): Gatehouse started from
the settings, the operator it acts as, and a date as typed."""

from __future__ import annotations

import getpass
from datetime import date, datetime

from core.actor import platform_operator
from core.adapters.models import User
from core.config import load_settings
from core.context import Gatehouse
from core.domain import GatehouseError
from core.startup import start

STARTED: list[Gatehouse] = []  # what this command started (in-process callers dispose of their engines)


def start_gatehouse() -> Gatehouse:
    gatehouse = start(load_settings())
    STARTED.append(gatehouse)
    return gatehouse


def operator() -> User:
    """The CLI acts as the platform team; the audit trail names the operating-system user who ran it."""
    return platform_operator(getpass.getuser())


def typed_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise GatehouseError(f"{text!r} is not a date: write it as YYYY-MM-DD.") from None
