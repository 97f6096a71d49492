"""Demo data for an empty database in local mode: the five accounts of the README and their sources."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, select

from core import audit
from core.access import all_principals, mark_changed
from core.adapters.aws import Aws
from core.adapters.models import App, DataSource, Grant, User, UserStatus, utcnow
from core.auth import hash_password
from core.config import Settings
from core.domain import AccessLevel, SourceKind
from core.paths import Paths

DEMO_PASSWORD = "gatehouse-demo"
DEMO_USERNAMES = ("alice", "bob", "carol", "dave", "erin")  # the accounts seed_demo_database makes


@functools.cache
def demo_password_hash() -> str:
    """The demo accounts' bcrypt hash, made once a process (cost 12 takes a quarter of a second; tests seed often)."""
    return hash_password(DEMO_PASSWORD)


@dataclass(frozen=True)
class DemoSource:
    suffix: str
    kind: SourceKind
    admin: str
    hidden: bool = False
    description: str = ""


DEMO_SOURCES = (
    DemoSource("sales-analysis", SourceKind.WAREHOUSE, "bob", description="Monthly sales, published and draft"),
    DemoSource("pricing-models", SourceKind.WAREHOUSE, "bob", description="Pricing models and their reports"),
    DemoSource("shared-workspace", SourceKind.WAREHOUSE, "carol", description="The team's shared working area"),
    DemoSource("legacy-orphan", SourceKind.WAREHOUSE, "erin", description="An old project whose admin has left"),
    DemoSource("de-raw-intake", SourceKind.WAREHOUSE, "dave", hidden=True, description="Data engineering raw intake"),
    DemoSource("court-dashboard-data", SourceKind.WEBAPP, "carol", description="Data behind the court dashboard app"),
)

# (username, source suffix, level, paths) beyond each source's admin
DEMO_GRANTS = (
    ("alice", "sales-analysis", AccessLevel.READ_ONLY, Paths(("/published",))),
    ("alice", "shared-workspace", AccessLevel.READ_WRITE, Paths.WHOLE),
    ("bob", "shared-workspace", AccessLevel.READ_ONLY, Paths.WHOLE),
)


def _frame(rows: int, seed: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [f"2025-{(i % 12) + 1:02d}" for i in range(rows)],
            "region": [["North", "South", "East", "West", "Wales"][(i * seed) % 5] for i in range(rows)],
            "orders": [(i * 37 + seed * 11) % 500 for i in range(rows)],
            "revenue_gbp": [round(((i * 53 + seed) % 9000) * 1.17, 2) for i in range(rows)],
        }
    )


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


# (source suffix, key, body maker)
DEMO_OBJECTS = (
    ("sales-analysis", "published/sales_2025.csv", lambda: _csv(_frame(120, 1))),
    ("sales-analysis", "published/sales_2025.parquet", lambda: _parquet(_frame(120, 1))),
    ("sales-analysis", "drafts/forecast_2026.csv", lambda: _csv(_frame(24, 2))),
    ("pricing-models", "reports/prices_q3.csv", lambda: _csv(_frame(60, 3))),
    ("pricing-models", "models/elasticity.parquet", lambda: _parquet(_frame(40, 4))),
    ("shared-workspace", "notes/regions.csv", lambda: _csv(_frame(10, 5))),
    ("legacy-orphan", "archive/legacy_2019.csv", lambda: _csv(_frame(30, 6))),
    ("de-raw-intake", "incoming/raw_feed.csv", lambda: _csv(_frame(50, 7))),
    ("court-dashboard-data", "dashboard/cases.parquet", lambda: _parquet(_frame(80, 8))),
)


def database_is_empty(session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is None


def seed_demo_database(session: Session, settings: Settings) -> None:
    """Fill an empty database with the demo accounts, sources, app and grants (in one unit of work)."""
    password_hash = demo_password_hash()
    people = {
        "carol": User(username="carol", email="carol@example.org", display_name="Carol Jones"),
        "dave": User(username="dave", email="dave@example.org", display_name="Dave Singh", is_platform_admin=True),
        "bob": User(username="bob", email="bob@example.org", display_name="Bob Okafor"),
        "erin": User(
            username="erin",
            email="erin@example.org",
            display_name="Erin Walsh",
            status=UserStatus.LEFT,
            left_at=utcnow(),
        ),
    }
    for user in people.values():
        user.password_hash = password_hash
        session.add(user)
    session.flush()
    people["alice"] = User(
        username="alice",
        email="alice@example.org",
        display_name="Alice Moreau",
        line_manager_id=people["carol"].id,
        password_hash=password_hash,
    )
    people["bob"].line_manager_id = people["carol"].id
    session.add(people["alice"])
    app = App(name="court-dashboard", description="Court caseload dashboard")
    session.add(app)
    session.flush()

    sources: dict[str, DataSource] = {}
    for demo in DEMO_SOURCES:
        source = DataSource(
            name=settings.bucket_prefix + demo.suffix,
            kind=demo.kind,
            hidden=demo.hidden,
            region=settings.region,
            description=demo.description,
            created_by_id=people[demo.admin].id,
        )
        session.add(source)
        session.flush()
        sources[demo.suffix] = source
        session.add(Grant(source_id=source.id, user_id=people[demo.admin].id, level=AccessLevel.ADMIN))
        if demo.kind is SourceKind.WEBAPP:
            session.add(Grant(source_id=source.id, app_id=app.id, level=AccessLevel.READ_ONLY))
    for username, suffix, level, paths in DEMO_GRANTS:
        session.add(Grant(source_id=sources[suffix].id, user_id=people[username].id, level=level, paths=paths))
    mark_changed(session, all_principals(session, settings.env))
    audit.record(session, audit.SYSTEM, "demo-seeded", "Demo accounts, sources and grants were created")


def seed_demo_objects(aws: Aws, settings: Settings) -> None:
    """Put the demo files into buckets that are empty (the emulation keeps objects in memory only). One listing of the
    buckets, then one look into each demo bucket there: every restart runs this."""
    made = aws.bucket_names()
    for suffix in {suffix for suffix, _, _ in DEMO_OBJECTS}:
        bucket = settings.bucket_prefix + suffix
        if bucket not in made or not aws.bucket_is_empty(bucket):
            continue
        for _, key, body in (o for o in DEMO_OBJECTS if o[0] == suffix):
            aws.put_object(bucket, key, body(), metadata={"gatehouse-demo": "true"})
