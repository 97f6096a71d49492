"""Fill an empty Gatehouse database with a platform's worth of data, shaped like a real platform.

Run from the repository root:

    .venv/bin/python bench/seed_scale.py --database-url sqlite:///.gatehouse/bench/scale.db --scale 0.01
    .venv/bin/python bench/seed_scale.py --database-url postgresql://postgres@127.0.0.1:5432/gatehouse_bench_1

At scale 1: 10,000 users (line managers, about 20 platform admins, 5% external, 5% left), 5,000 sources (one in ten
a webapp source read by an app, a few hidden, some archived, some orphaned), 100,000 grants (a tenth on paths, a few
heavy sources and users with thousands, many light ones), 300 teams of 5 to 200 members holding 5,000 grants (alice
in two, bob in one), 50,000 access requests in every state, 500,000 audit events, 20,000 data movements and 50,000
notifications. A tenth of the sources hold personal data and a fiftieth special-category data, each with an
information asset owner (bench/seed_personal.py: their grants end within a year; 300 requests an admin approved wait
for their owner, 100 wait for an answer, 300 movement forms for a sign-off). The database is migrated first and must
hold no user yet.

The demo accounts come first (core.seed), so alice, bob, carol and dave sign in with the demo password. Their shape:
- alice is a typical analyst whatever the scale: about a dozen grants, requests and a few dozen notifications;
- bob is a heavy admin: hundreds of sources at scale 1 (a handful at 1/100), most with requests waiting for him;
- carol is the line manager with the most reports, some of whose requests wait for her confirmation; and the
  information asset owner of 50 personal-data sources (3 at 1/100), with requests and forms waiting for her;
- dave is in the platform team: he sees every source, user, request and audit event.

No AWS call is made: every source is recorded as provisioned and every role as applied, so pages show "applied".
The bench must therefore give the app an emulation where the buckets exist (bench/pages.py does).
Random choices are seeded: the same scale and seed give the same data (times are relative to now).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from sqlalchemy import Engine, Table, bindparam, func, insert, select, text, update

from bench import seed_personal
from core import audit
from core.adapters.db import make_engine, migrate, session_scope
from core.adapters.models import (
    AccessRequest,
    App,
    AuditEvent,
    DataMovement,
    DataSource,
    Grant,
    MovementKind,
    Notification,
    RequestQuestion,
    RequestStatus,
    RoleSync,
    SourceRequest,
    SyncState,
    Team,
    TeamMember,
    User,
    UserStatus,
)
from core.config import Settings
from core.domain import AccessLevel, Classification, SourceKind, app_role_name, user_role_name
from core.seed import database_is_empty, seed_demo_database
from core.team_policies import team_policy_stem

BATCH = 10_000  # rows a round trip
FULL = {
    "users": 10_000,
    "sources": 5_000,
    "grants": 100_000,
    "requests": 50_000,
    "audit_events": 500_000,
    "data_movements": 20_000,
    "notifications": 50_000,
    "source_requests": 500,
    "platform_admins": 20,
    "bob_sources": 300,
    "teams": 300,
    "team_grants": 5_000,
    # personal data (issue #29): sources holding it, each with an information asset owner (IAO), and what waits for them
    "personal_sources": 500,
    "special_sources": 100,
    "carol_sources": 50,  # carol is the owner of these
    "iao_requests": 300,  # an admin approved: waiting for the owner
    "carol_requests": 30,
    "answer_requests": 100,  # waiting for the requester's answer to a question
    "signoffs": 300,  # movement forms waiting for the owner's sign-off
    "carol_signoffs": 25,
}
YEARS = 3  # how far back the history goes


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    "amara ben chloe dev elena femi grace hamid isla jonas kiran lena malik nadia omar priya quinn rosa sami tara "
    "uma victor wen xavier yara zoe aled bryony cai dara eoin fatima gethin hana idris joy"
)
LAST = _words(
    "okoro smith patel jones nguyen evans khan murphy walsh davies singh brown wilson taylor hughes ahmed "
    "roberts kowalski lewis morgan price thomas osei wright green hall clarke baker"
)
TOPICS = _words(
    "sales pricing claims courts prisons probation finance payroll estates fleet tribunals legal-aid casework "
    "people procurement risk forecasts surveys census reoffending sentencing custody bail family"
)
FLAVOURS = _words("raw curated analysis models reports staging archive exports dashboard features intake")
# Every kind of movement, the commonest first: naming them keeps the weights with their kinds.
MOVEMENT_MIX = (MovementKind.UPLOAD, MovementKind.DOWNLOAD, MovementKind.COPY, MovementKind.MOVE, MovementKind.RESTORE)
PATHS = (
    "/published",
    "/drafts",
    "/reports/2024",
    "/reports/2025",
    "/models",
    "/exports/monthly",
    "/team/finance",
    "/team/operations",
    "/raw/incoming",
    "/curated",
    "/archive/2019",
)
NEEDS = (
    "I need to read the {s} data to build the quarterly {t} report for the board.",
    "Our team is modelling {t} trends and needs the {s} extracts for the analysis.",
    "Joining {s} with our own tables to answer a ministerial question about {t}.",
    "Maintaining the {t} dashboard, which reads from {s} every night.",
    "Validating the {t} figures published last month against the source data in {s}.",
)
REFUSALS = (
    "Please ask for read only: write access is not needed for a report.",
    "This data is restricted to the project team; talk to me first.",
    "The business need does not say which tables you need.",
    "Use the published extract instead of the raw data.",
)


@dataclass(frozen=True)
class Sizes:
    users: int
    sources: int
    grants: int
    requests: int
    audit_events: int
    data_movements: int
    notifications: int
    source_requests: int
    platform_admins: int
    bob_sources: int
    teams: int
    team_grants: int
    personal_sources: int
    special_sources: int
    carol_sources: int
    iao_requests: int
    carol_requests: int
    answer_requests: int
    signoffs: int
    carol_signoffs: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        minimum = {"users": 60, "sources": 30, "platform_admins": 2, "bob_sources": 4, "source_requests": 6, "teams": 3,
                   "personal_sources": 4, "special_sources": 2, "carol_sources": 3, "iao_requests": 4,
                   "carol_requests": 3, "answer_requests": 3, "signoffs": 4, "carol_signoffs": 2}  # fmt: skip
        return cls(**{k: max(minimum.get(k, 0), round(v * scale)) for k, v in FULL.items()})


@dataclass
class Person:
    id: int
    username: str
    active: bool
    external: bool
    platform_admin: bool
    manager_id: int | None


@dataclass
class Source:
    id: int
    name: str
    kind: SourceKind
    hidden: bool
    archived: bool
    created_at: datetime
    admins: list[int] = field(default_factory=list)
    classification: Classification = Classification.STANDARD
    iao: int | None = None  # its information asset owner, for personal data


@dataclass
class Plan:
    """Everything generated in memory before one bulk insert a table."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)


def zipf(count: int, exponent: float, offset: float = 1.0) -> np.ndarray:
    """Weights of a Zipf-like law: a few heavy, many light."""
    weights = 1.0 / np.power(np.arange(count) + offset, exponent)
    return weights / weights.sum()


class Seeder:
    def __init__(self, engine: Engine, settings: Settings, scale: float, seed: int) -> None:
        self.engine = engine
        self.settings = settings
        self.sizes = Sizes.at(scale)
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.now = datetime.now(UTC)
        self.plan = Plan()
        self.people: dict[int, Person] = {}
        self.sources: dict[int, Source] = {}
        self.demo: dict[str, int] = {}
        self.grants: dict[tuple[int, int], dict[str, Any]] = {}  # (source, user) -> row
        self.open_pairs: set[tuple[int, int]] = set()
        self.next_ids: dict[str, int] = {}

    # --- helpers ------------------------------------------------------------------------------------------

    def new_id(self, table: str) -> int:
        self.next_ids[table] += 1
        return self.next_ids[table]

    def past(self, days: float = 365 * YEARS, recent: float = 0.0) -> datetime:
        """A moment in the last `days` days (and before `recent` days ago)."""
        return self.now - timedelta(days=recent + self.rng.random() * (days - recent))

    def need(self, source: str) -> str:
        return self.rng.choice(NEEDS).format(s=source, t=self.rng.choice(TOPICS))

    def paths(self) -> list[str]:
        return sorted(self.rng.sample(PATHS, self.rng.choice((1, 1, 1, 2, 3))))

    def weighted(self, items: Sequence[int], exponent: float, offset: float = 1.0) -> tuple[list[int], np.ndarray]:
        """The items in a random order of popularity, with their Zipf-like weights."""
        order = list(items)
        self.rng.shuffle(order)
        return order, zipf(len(order), exponent, offset)

    def draw(self, items: list[int], weights: np.ndarray, count: int) -> list[int]:
        return [items[i] for i in self.np.choice(len(items), size=count, p=weights)]

    def active_admins(self, source: Source) -> list[int]:
        return [a for a in source.admins if self.people[a].active]

    # --- the whole ----------------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        with session_scope(self.engine) as session:
            seed_demo_database(session, self.settings)
        with self.engine.connect() as connection:
            for table in ("users", "apps", "data_sources", "grants", "access_requests", "source_requests",
                          "data_movements", "audit_events", "notifications", "role_sync", "teams",
                          "request_questions"):  # fmt: skip
                self.next_ids[table] = connection.execute(
                    text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                ).scalar_one()
            # the trail is a hash chain (core/audit.py): the events made here carry on from the demo's last one
            self.audit_hash = (
                connection.execute(text("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1")).scalar()
                or audit.GENESIS
            )
            self.load_demo(connection)
        self.demo_source_ids = set(self.sources)
        self.personal: dict[int, Source] = {}
        self.carol_sources: list[int] = []
        self.make_users()
        self.make_sources()
        self.make_grants()
        self.make_teams()
        seed_personal.classify(self)
        self.make_requests()
        seed_personal.make_open_requests(self)
        self.make_source_requests()
        self.make_movements()
        self.make_notifications()
        self.make_audit_events()
        self.make_role_sync()
        self.write()
        return counts(self.engine)

    def load_demo(self, connection: Any) -> None:
        users = User.__table__  # type: ignore[attr-defined]
        for row in connection.execute(select(users)).mappings():
            self.demo[row["username"]] = row["id"]
            self.people[row["id"]] = Person(
                row["id"],
                row["username"],
                row["status"] == UserStatus.ACTIVE,
                row["is_external"],
                row["is_platform_admin"],
                row["line_manager_id"],
            )
        self.password_hash = connection.execute(
            select(users.c.password_hash).where(users.c.username == "alice")
        ).scalar_one()
        sources = DataSource.__table__  # type: ignore[attr-defined]
        for row in connection.execute(select(sources)).mappings():
            self.sources[row["id"]] = Source(
                row["id"], row["name"], SourceKind(row["kind"]), row["hidden"], False, row["created_at"]
            )
        self.demo_grants = 0
        for row in connection.execute(select(Grant.__table__)).mappings():  # type: ignore[attr-defined]
            self.demo_grants += 1
            if row["user_id"] is not None:
                self.grants[(row["source_id"], row["user_id"])] = {**row, "demo": True}
                if row["level"] == AccessLevel.ADMIN:
                    self.sources[row["source_id"]].admins.append(row["user_id"])
        self.demo_app_ids = list(connection.execute(select(App.__table__.c.id)).scalars())  # type: ignore[attr-defined]

    # --- people -------------------------------------------------------------------------------------------

    def make_users(self) -> None:
        count = self.sizes.users - len(self.people)
        ids = [self.new_id("users") for _ in range(count)]
        left = set(self.rng.sample(ids, round(count * 0.05)))
        external = set(self.rng.sample([i for i in ids if i not in left], round(count * 0.05)))
        internal = [i for i in ids if i not in external]
        platform = set(self.rng.sample([i for i in internal if i not in left], self.sizes.platform_admins - 1))
        managers = self.rng.sample(internal, max(4, round(count * 0.08)))
        # carol manages the most people; the others follow a Zipf-like law
        manager_order, manager_weights = self.weighted(managers, 0.7, 2.0)
        manager_order = [self.demo["carol"], *manager_order[:-1]]
        chosen = self.draw(manager_order, manager_weights, count)
        for number, (user_id, manager) in enumerate(zip(ids, chosen, strict=True), start=1):
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            username = f"{first}-{last}-{number}"
            created = self.past()
            manager_id = None if manager == user_id or self.rng.random() < 0.02 else manager
            self.people[user_id] = Person(
                user_id, username, user_id not in left, user_id in external, user_id in platform, manager_id
            )
            self.plan.add(
                "users",
                {
                    "id": user_id,
                    "username": username,
                    "email": f"{username}@example.org",
                    "display_name": f"{first.title()} {last.title()}",
                    "line_manager_id": manager_id,
                    "is_platform_admin": user_id in platform,
                    "is_external": user_id in external,
                    "status": UserStatus.LEFT if user_id in left else UserStatus.ACTIVE,
                    "left_at": self.past(recent=0, days=(self.now - created).days + 1) if user_id in left else None,
                    "password_hash": self.password_hash,
                    "last_sign_in_at": self.past(days=60) if user_id not in left else None,
                    "created_at": created,
                },
            )
        self.generated_users = ids
        self.generated = set(ids)

    # --- sources ------------------------------------------------------------------------------------------

    def make_sources(self) -> None:
        count = self.sizes.sources - len(self.sources)
        ids = [self.new_id("data_sources") for _ in range(count)]
        pool = [p.id for p in self.people.values() if not p.external and p.id in self.generated]
        admin_order, admin_weights = self.weighted(pool, 1.0)
        leavers = [p.id for p in self.people.values() if not p.active and p.id in self.generated]
        platform = [p.id for p in self.people.values() if p.platform_admin and p.active]
        live_warehouse = []
        apps: list[int] = []
        for number, source_id in enumerate(ids, start=1):
            kind = SourceKind.WEBAPP if self.rng.random() < 0.1 else SourceKind.WAREHOUSE
            hidden = self.rng.random() < 0.01
            archived = self.rng.random() < 0.03
            name = f"{self.settings.bucket_prefix}{self.rng.choice(TOPICS)}-{self.rng.choice(FLAVOURS)}-{number}"
            source = Source(source_id, name, kind, hidden, archived, self.past())
            if hidden:
                source.admins = [self.rng.choice(platform)]
            elif self.rng.random() < 0.04:  # its only admin has left: orphaned
                source.admins = [self.rng.choice(leavers)]
            else:
                wanted = self.rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
                source.admins = list(dict.fromkeys(self.draw(admin_order, admin_weights, wanted)))
            self.sources[source_id] = source
            if kind is SourceKind.WAREHOUSE and not hidden and not archived:
                live_warehouse.append(source_id)
            if kind is SourceKind.WEBAPP:
                if not apps or self.rng.random() < 0.7:
                    app_id = self.new_id("apps")
                    apps.append(app_id)
                    self.plan.add(
                        "apps",
                        {
                            "id": app_id,
                            "name": f"{name.removeprefix(self.settings.bucket_prefix)}-app",
                            "description": f"The app that reads {name}",
                            "created_at": source.created_at,
                        },
                    )
                self.add_grant(source, None, AccessLevel.READ_ONLY, app_id=self.rng.choice(apps))
        # bob administers hundreds of sources (a handful at 1/100), alone on most of them
        for source_id in self.rng.sample(live_warehouse, min(self.sizes.bob_sources, len(live_warehouse))):
            source = self.sources[source_id]
            source.admins = [self.demo["bob"]] + (source.admins[:1] if self.rng.random() < 0.2 else [])
        for source_id in ids:
            source = self.sources[source_id]
            for admin in source.admins:
                self.add_grant(source, admin, AccessLevel.ADMIN)
            self.plan.add(
                "data_sources",
                {
                    "id": source_id,
                    "name": source.name,
                    "kind": source.kind,
                    "hidden": source.hidden,
                    "region": self.settings.region,
                    "description": f"{source.kind.label} data for {source.name.split('-')[1]}",
                    "created_by_id": source.admins[0],
                    "created_at": source.created_at,
                    "archived_at": self.past(days=300) if source.archived else None,
                    "archived_by_id": source.admins[0] if source.archived else None,
                    "provisioned_at": source.created_at + timedelta(minutes=1),
                    "provision_error": None,
                    "classification": Classification.STANDARD,  # seed_personal.classify marks some
                    "iao_id": None,
                },
            )
        self.app_ids = [*self.demo_app_ids, *apps]

    # --- grants -------------------------------------------------------------------------------------------

    def add_grant(
        self,
        source: Source,
        user_id: int | None,
        level: AccessLevel,
        paths: list[str] | None = None,
        app_id: int | None = None,
        expires_on: date | None = None,
        team_id: int | None = None,
    ) -> dict[str, Any]:
        created = max(source.created_at, self.past()) if app_id is None else source.created_at
        row = {
            "id": self.new_id("grants"),
            "source_id": source.id,
            "user_id": user_id,
            "app_id": app_id,
            "team_id": team_id,
            "level": level,
            "paths": paths or [],
            "expires_on": expires_on,
            "granted_by_id": source.admins[0] if source.admins else None,
            "request_id": None,
            "created_at": created,
            "updated_at": created,
            "expiry_warned_at": None,
        }
        self.plan.add("grants", row)
        if user_id is not None:
            self.grants[(source.id, user_id)] = row
        return row

    def grant_for_someone(self, source: Source, user_id: int) -> None:
        level = AccessLevel.READ_WRITE if self.rng.random() < 0.3 else AccessLevel.READ_ONLY
        paths = self.paths() if self.rng.random() < 0.11 else []
        # past the warning horizon: the app's start-up finds nothing to warn about or expire
        expires = (self.now + timedelta(days=self.rng.randint(10, 365))).date() if self.rng.random() < 0.1 else None
        self.add_grant(source, user_id, level, paths, expires_on=expires)

    def make_grants(self) -> None:
        visible = [s.id for s in self.sources.values() if not s.hidden and not s.archived]
        alice = self.demo["alice"]
        for source_id in self.rng.sample(visible, min(10, len(visible))):  # a typical analyst at every scale
            if (source_id, alice) not in self.grants:
                self.grant_for_someone(self.sources[source_id], alice)
        target = self.sizes.grants - len(self.plan.rows["grants"]) - self.demo_grants
        source_order, source_weights = self.weighted(list(self.sources), 0.85)
        user_order, user_weights = self.weighted(self.generated_users, 0.75, 5.0)
        # externals hold less
        user_weights = user_weights * np.array([0.3 if self.people[u].external else 1.0 for u in user_order])
        user_weights /= user_weights.sum()
        made = fruitless = 0
        while made < target and fruitless < 20:  # a tiny scale may run out of pairs
            wanted = target - made
            before = made
            sources = self.draw(source_order, source_weights, wanted * 2)
            users = self.draw(user_order, user_weights, wanted * 2)
            for source_id, user_id in zip(sources, users, strict=True):
                if (source_id, user_id) in self.grants:
                    continue
                self.grant_for_someone(self.sources[source_id], user_id)
                made += 1
                if made == target:
                    break
            fruitless = fruitless + 1 if made == before else 0

    def make_teams(self) -> None:
        """Teams of 5 to 200 of the active members (a few large, many small), holding `team_grants` grants on the
        visible sources, one a team a source, a tenth on paths and a few as admin; alice is in two teams, bob in one,
        so that My data shows access through a team."""
        active = [u for u in self.generated_users if self.people[u].active]
        visible = [s.id for s in self.sources.values() if not s.hidden and not s.archived]
        source_order, source_weights = self.weighted(visible, 0.85)
        self.team_ids: list[int] = []
        for number in range(self.sizes.teams):
            team_id = self.new_id("teams")
            self.team_ids.append(team_id)
            self.plan.add("teams", {"id": team_id, "name": f"team-{number:03d}", "external_id": None,
                                    "scim_managed": number % 2 == 0, "created_at": self.past()})  # fmt: skip
            size = min(len(active), max(5, int(200 / (1 + number) ** 0.6)))
            members = set(self.rng.sample(active, size))
            if number < 2:
                members.add(self.demo["alice"])
            if number == 2:
                members.add(self.demo["bob"])
            for user_id in sorted(members):
                self.plan.add("team_members", {"team_id": team_id, "user_id": user_id})
        held: set[tuple[int, int]] = set()
        target = self.sizes.team_grants if self.sizes.teams else 0
        firsts = self.team_ids[:3]  # alice's and bob's teams hold access at every scale
        for source_id, team_id in zip(
            self.rng.sample(visible, len(firsts)) + self.draw(source_order, source_weights, target * 3),
            firsts + [self.rng.choice(self.team_ids) for _ in range(target * 3)],
            strict=True,
        ):
            if len(held) == target:
                break
            if (source_id, team_id) in held:
                continue
            held.add((source_id, team_id))
            roll = self.rng.random()
            level = (
                AccessLevel.ADMIN if roll < 0.02 else AccessLevel.READ_WRITE if roll < 0.25 else AccessLevel.READ_ONLY
            )
            paths = self.paths() if self.rng.random() < 0.1 else []
            self.add_grant(self.sources[source_id], None, level, paths, team_id=team_id)

    # --- requests -----------------------------------------------------------------------------------------

    def add_request(
        self,
        source: Source,
        requester: int,
        status: RequestStatus,
        level: AccessLevel = AccessLevel.READ_ONLY,
        paths: list[str] | None = None,
        created: datetime | None = None,
        **values: Any,
    ) -> int:
        created = created or max(source.created_at, self.past())
        paths = seed_personal.request_terms(self, source, paths, values)
        decided = status in (RequestStatus.APPROVED, RequestStatus.REFUSED)
        admins = self.active_admins(source) or source.admins
        decider = values.pop("decided_by_id", self.rng.choice(admins) if decided and admins else None)
        if decided and decider == requester:
            decider = self.rng.choice(self.platform_team)
        closed_at = created + timedelta(hours=self.rng.randint(1, 96))
        row = {
            "id": self.new_id("access_requests"),
            "requester_id": requester,
            "source_id": source.id,
            "level": level,
            "paths": paths or [],
            "business_need": self.need(source.name),
            "expires_on": None,
            "status": status,
            "line_manager_id": None,
            "no_line_manager": False,
            "confirmed_by_id": None,
            "confirmed_at": None,
            "decided_by_id": decider,
            "decided_at": closed_at if decided else None,
            "decision_reason": self.rng.choice(REFUSALS) if status is RequestStatus.REFUSED else None,
            "granted_level": None,
            "granted_paths": None,
            "granted_expires_on": None,
            "admin_approved_by_id": None,
            "admin_approved_at": None,
            "version": 1 if status.is_open else 2,
            "created_at": created,
            "updated_at": closed_at if not status.is_open else created,
        }
        row.update(values)
        self.plan.add("access_requests", row)
        if status.is_open:
            self.open_pairs.add((source.id, requester))
        return row["id"]

    def approved_from(self, grant: dict[str, Any]) -> None:
        level, paths = AccessLevel(grant["level"]), list(grant["paths"])
        asked = AccessLevel.READ_WRITE if level is AccessLevel.READ_ONLY and self.rng.random() < 0.1 else level
        source = self.sources[grant["source_id"]]
        request_id = self.add_request(
            source,
            grant["user_id"],
            RequestStatus.APPROVED,
            asked,
            paths,
            created=grant["created_at"] - timedelta(hours=self.rng.randint(1, 72)),
            granted_level=level,
            granted_paths=paths,
            **seed_personal.two_steps(self, source, grant),
        )
        grant["request_id"] = request_id

    def can_ask(self, source: Source, user_id: int) -> bool:
        person = self.people[user_id]
        return (
            person.active
            and (source.id, user_id) not in self.grants
            and (source.id, user_id) not in self.open_pairs
            and (not source.hidden or person.platform_admin)
            and not source.archived
        )

    def make_requests(self) -> None:
        total = self.sizes.requests
        self.platform_team = [p.id for p in self.people.values() if p.platform_admin and p.active]
        active = [p.id for p in self.people.values() if p.active and p.id in self.generated]
        everyone = [p.id for p in self.people.values() if p.id in self.generated]
        orphaned = [
            s
            for s in self.sources.values()
            if not self.active_admins(s) and not s.archived and not s.hidden and s.kind is SourceKind.WAREHOUSE
        ]
        adminned = [s for s in self.sources.values() if self.active_admins(s) and not s.archived and not s.hidden]
        source_order, source_weights = self.weighted([s.id for s in adminned], 0.85)
        alice, bob = self.demo["alice"], self.demo["bob"]

        # alice, the same at every scale: her grants came from requests; a few refused, withdrawn and open ones
        for grant in [g for (s, u), g in self.grants.items() if u == alice and g["level"] != AccessLevel.ADMIN]:
            if not grant.get("demo") and self.rng.random() < 0.8:
                self.approved_from(grant)
        for status in (RequestStatus.REFUSED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN):
            source = self.sources[self.draw(source_order, source_weights, 1)[0]]
            self.add_request(source, alice, status)
        bob_sources = [s for s in adminned if bob in s.admins]
        if bob_sources and self.can_ask(bob_sources[0], alice):
            self.add_request(bob_sources[0], alice, RequestStatus.PENDING_ADMIN, created=self.past(days=14))

        # bob: most of his sources have someone waiting for him
        for source in bob_sources:
            if self.rng.random() < 0.7:
                for requester in self.rng.sample(active, self.rng.choice((1, 1, 2))):
                    if self.can_ask(source, requester) and requester != bob:
                        self.add_request(source, requester, RequestStatus.PENDING_ADMIN, created=self.past(days=45))

        mix = {
            RequestStatus.PENDING_LINE_MANAGER: 0.01,
            RequestStatus.PENDING_PLATFORM: 0.01,
            RequestStatus.REFUSED: 0.18,
            RequestStatus.WITHDRAWN: 0.10,
        }
        # Orphaned sources: the requester's line manager confirms, then the platform team grants.
        with_manager = [
            u for u in active if self.people[u].manager_id and self.people[self.people[u].manager_id].active
        ]
        for status in (RequestStatus.PENDING_LINE_MANAGER, RequestStatus.PENDING_PLATFORM):
            wanted = max(2, round(total * mix[status]))
            for _ in range(wanted * 3):
                if wanted == 0 or not orphaned:
                    break
                source = self.rng.choice(orphaned)
                requester = self.rng.choice(with_manager if status is RequestStatus.PENDING_LINE_MANAGER else active)
                if not self.can_ask(source, requester):
                    continue
                manager = self.people[requester].manager_id
                if status is RequestStatus.PENDING_LINE_MANAGER:
                    self.add_request(source, requester, status, created=self.past(days=30), line_manager_id=manager)
                elif self.rng.random() < 0.3 or manager is None or not self.people[manager].active:
                    self.add_request(source, requester, status, created=self.past(days=30), no_line_manager=True)
                else:
                    created = self.past(days=30, recent=2)
                    self.add_request(
                        source,
                        requester,
                        status,
                        created=created,
                        line_manager_id=manager,
                        confirmed_by_id=manager,
                        confirmed_at=created + timedelta(hours=20),
                        version=2,
                    )
                wanted -= 1
        # carol always has someone to confirm
        carol_reports = [u for u in with_manager if self.people[u].manager_id == self.demo["carol"]]
        if (
            orphaned
            and carol_reports
            and not any(
                r["line_manager_id"] == self.demo["carol"] and r["status"] is RequestStatus.PENDING_LINE_MANAGER
                for r in self.plan.rows["access_requests"]
            )
        ):
            source = orphaned[0]
            requester = next((u for u in carol_reports if self.can_ask(source, u)), None)
            if requester is not None:
                self.add_request(
                    source,
                    requester,
                    RequestStatus.PENDING_LINE_MANAGER,
                    created=self.past(days=10),
                    line_manager_id=self.demo["carol"],
                )

        for status in (RequestStatus.REFUSED, RequestStatus.WITHDRAWN):
            for _ in range(round(total * mix[status])):
                source = self.sources[self.draw(source_order, source_weights, 1)[0]]
                self.add_request(source, self.rng.choice(everyone), status)

        # the rest: approved ones (each behind a grant) and requests waiting for an admin
        remaining = total - len(self.plan.rows["access_requests"])
        approvable = [g for g in self.plan.rows["grants"] if g["user_id"] is not None and g["level"] != "admin"]
        approvable = [g for g in approvable if g["request_id"] is None and g["user_id"] != alice]
        approved = min(len(approvable), round(remaining * 0.72))
        for grant in self.rng.sample(approvable, approved):
            self.approved_from(grant)
        waiting = total - len(self.plan.rows["access_requests"])
        while waiting > 0:
            sources = self.draw(source_order, source_weights, waiting * 2)
            for source_id in sources:
                source, requester = self.sources[source_id], self.rng.choice(active)
                if requester in source.admins or not self.can_ask(source, requester):
                    continue
                self.add_request(source, requester, RequestStatus.PENDING_ADMIN, created=self.past(days=90))
                waiting -= 1
                if waiting == 0:
                    break

    def make_source_requests(self) -> None:
        internal = [p.id for p in self.people.values() if p.active and not p.external]
        webapps = [s for s in self.sources.values() if s.kind is SourceKind.WEBAPP]
        for number in range(1, self.sizes.source_requests + 1):
            status = self.rng.choices(
                (RequestStatus.PENDING_PLATFORM, RequestStatus.APPROVED, RequestStatus.REFUSED), weights=(10, 60, 30)
            )[0]
            source = self.rng.choice(webapps) if status is RequestStatus.APPROVED and webapps else None
            bucket = source.name if source else f"{self.settings.bucket_prefix}{self.rng.choice(TOPICS)}-app-{number}"
            created = self.past(days=30) if status.is_open else self.past()
            self.plan.add(
                "source_requests",
                {
                    "id": self.new_id("source_requests"),
                    "requester_id": source.admins[0] if source else self.rng.choice(internal),
                    "bucket_name": bucket,
                    "app_name": f"{self.rng.choice(TOPICS)}-app-{number}",
                    "business_need": self.need(bucket),
                    "status": status,
                    "decided_by_id": None if status.is_open else self.rng.choice(self.platform_team),
                    "decided_at": None if status.is_open else created + timedelta(days=1),
                    "decision_reason": self.rng.choice(REFUSALS) if status is RequestStatus.REFUSED else None,
                    "source_id": source.id if source else None,
                    "created_at": created,
                },
            )

    # --- history ------------------------------------------------------------------------------------------

    def make_movements(self) -> None:
        user_grants = [g for g in self.plan.rows["grants"] if g["user_id"] is not None]
        for _ in range(self.sizes.data_movements):
            grant = self.rng.choice(user_grants)
            kind = self.rng.choices(MOVEMENT_MIX, weights=(50, 40, 6, 3, 1))[0]
            row = self.movement(grant, kind, max(grant["created_at"], self.past()))
            seed_personal.signed_history(self, row)
        seed_personal.make_signoffs(self, self.movement)

    def movement(self, grant: dict[str, Any], kind: MovementKind, created: datetime) -> dict[str, Any]:
        """One movement form's row (added to the plan) for the holder of `grant`, completed soon after `created`."""
        source = self.sources[grant["source_id"]]
        objects = [
            {
                "bucket": source.name,
                "key": f"{self.rng.choice(PATHS).strip('/')}/extract_{self.rng.randint(1, 9999)}.csv",
                "size": self.rng.randint(1_000, 500_000_000),
                "sha256": f"{self.rng.getrandbits(256):064x}",
            }
            for _ in range(self.rng.choice((1, 1, 2, 3)))
        ]
        target = self.rng.choice(list(self.sources)) if kind in (MovementKind.COPY, MovementKind.MOVE) else None
        row = {
            "id": self.new_id("data_movements"),
            "user_id": grant["user_id"],
            "kind": kind,
            "source_id": source.id,
            "target_source_id": target,
            "description": f"Monthly {self.rng.choice(TOPICS)} extract",
            "origin": "The case management system" if kind is MovementKind.UPLOAD else source.name,
            "destination": source.name if kind is MovementKind.UPLOAD else "My analysis environment",
            "purpose": self.need(source.name),
            "classification": self.rng.choice(("OFFICIAL", "OFFICIAL", "OFFICIAL-SENSITIVE")),
            "personal_data": self.rng.random() < 0.3,
            "dpia_reference": f"DPIA-{self.rng.randint(100, 999)}" if self.rng.random() < 0.3 else None,
            "retention": "Deleted after 2 years",
            "declaration": True,
            "objects": objects,
            "total_bytes": sum(o["size"] for o in objects),
            "created_at": created,
            "completed_at": created + timedelta(minutes=self.rng.randint(1, 30)),
            "signoff_needed": False,
            "signed_off_by_id": None,
            "signed_off_at": None,
            "signoff_refused_reason": None,
        }
        self.plan.add("data_movements", row)
        return row

    def make_notifications(self) -> None:
        users = [p.id for p in self.people.values() if p.id in self.generated]
        order, weights = self.weighted(users, 0.6, 5.0)
        alice, bob = self.demo["alice"], self.demo["bob"]
        heavy = max(3, round(self.sizes.notifications * 0.004))  # bob hears of every request to his sources
        recipients = [alice] * 30 + [bob] * heavy
        recipients += self.draw(order, weights, max(0, self.sizes.notifications - len(recipients)))
        kinds = ("request-to-decide", "decision-made", "confirmation-needed", "access-ending", "access-changed")
        for user_id in recipients:
            kind = self.rng.choice(kinds)
            source = self.rng.choice(list(self.sources.values()))
            created = self.past(days=365)
            unread = self.rng.random() < (0.2 if user_id == alice else 0.15)
            self.plan.add(
                "notifications",
                {
                    "id": self.new_id("notifications"),
                    "user_id": user_id,
                    "kind": kind,
                    "subject": f"{kind.replace('-', ' ').capitalize()}: {source.name}",
                    "body": f"Something happened about {source.name}.\n{self.need(source.name)}",
                    "created_at": created,
                    "read_at": None if unread else created + timedelta(hours=self.rng.randint(1, 200)),
                    "emailed_at": created + timedelta(seconds=5),  # nothing left for an SMTP server to send
                    "email_error": None,
                },
            )

    def make_audit_events(self) -> None:
        actions = {
            "sign-in": 30,
            "sign-out": 8,
            "request-made": 10,
            "request-approved": 6,
            "request-refused": 2,
            "request-withdrawn": 1,
            "request-confirmed": 0.3,
            "access-granted": 8,
            "access-changed": 2,
            "access-revoked": 3,
            "access-expired": 1,
            "data-movement-recorded": 8,
            "data-uploaded": 6,
            "data-downloaded": 12,
            "source-created": 1,
            "source-archived": 0.1,
            "user-added": 1,
            "user-left": 0.2,
        }
        count = self.sizes.audit_events
        names = list(actions)
        chosen = self.np.choice(len(names), size=count, p=np.array(list(actions.values())) / sum(actions.values()))
        user_order, user_weights = self.weighted([p.id for p in self.people.values()], 0.8, 3.0)
        source_order, source_weights = self.weighted(list(self.sources), 0.9)
        actors = self.draw(user_order, user_weights, count)
        subjects = self.draw(user_order, user_weights, count)
        sources = self.draw(source_order, source_weights, count)
        # oldest first, so ids follow time as they do in the app; the last weeks a little busier than the first
        ages = np.sort(np.power(self.np.random(count), 1.3) * 365 * YEARS)[::-1]
        for position in range(count):
            action = names[chosen[position]]
            actor = self.people[actors[position]].username
            subject = self.people[subjects[position]].username
            source = self.sources[sources[position]]
            at = self.now - timedelta(days=float(ages[position]))
            on_source = not action.startswith(("sign-", "user-"))
            event = {
                "id": self.new_id("audit_events"),
                "at": at,
                "actor": actor if action != "access-expired" else "system",
                "action": action,
                "source_id": source.id if on_source else None,
                "subject": actor if action.startswith("sign-") else subject,
                "request_id": None,
                "summary": f"{actor} {action.replace('-', ' ')}"
                + (f" on {source.name} for {subject}" if on_source else ""),
                "details": {"level": "read-only"} if action.startswith("access-") else {},
            }
            self.audit_hash = event["hash"] = audit.chained(self.audit_hash, AuditEvent(**event))
            self.plan.add("audit_events", event)

    def make_role_sync(self) -> None:
        env = self.settings.env
        with self.engine.connect() as connection:
            known = set(connection.execute(select(RoleSync.__table__.c.role_name)).scalars())  # type: ignore[attr-defined]
        roles = [(user_role_name(env, p.username), p.id, None) for p in self.people.values()]
        roles += [(app_role_name(env, row["name"]), None, row["id"]) for row in self.plan.rows.get("apps", [])]
        teams = [(team_policy_stem(t), None, None, t) for t in self.team_ids]
        for role_name, user_id, app_id, team_id in [(*r, None) for r in roles] + teams:
            if role_name in known:
                continue
            self.plan.add(
                "role_sync",
                {
                    "id": self.new_id("role_sync"),
                    "role_name": role_name,
                    "user_id": user_id,
                    "app_id": app_id,
                    "team_id": team_id,
                    "policy_count": 1 if team_id is not None else 0,
                    "state": SyncState.APPLIED,
                    "policy_hash": None,
                    "last_error": None,
                    "attempts": 0,
                    "changed_at": self.now,
                    "applied_at": self.now,
                },
            )

    # --- writing ------------------------------------------------------------------------------------------

    def write(self) -> None:
        tables: dict[str, Table] = {
            model.__tablename__: model.__table__  # type: ignore[attr-defined]
            for model in (
                User,
                App,
                DataSource,
                AccessRequest,
                Grant,
                SourceRequest,
                DataMovement,
                AuditEvent,
                Notification,
                RoleSync,
                Team,
                TeamMember,
                RequestQuestion,
            )
        }
        # requests before grants (a grant names its request), users before everything
        order = ("users", "teams", "team_members", "apps", "data_sources", "access_requests", "request_questions",
                 "grants", "source_requests", "data_movements", "notifications", "audit_events",
                 "role_sync")  # fmt: skip
        with self.engine.begin() as connection:
            users = tables["users"]
            managers = [{"uid": r["id"], "mid": r["line_manager_id"]} for r in self.plan.rows["users"]]
            for name in order:
                rows = self.plan.rows.get(name, [])
                if name == "users":  # a manager may come after their reports: linked once everyone is in
                    rows = [{**r, "line_manager_id": None} for r in rows]
                bulk_insert(connection, tables[name], rows)
                if name == "users":
                    statement = (
                        update(users).where(users.c.id == bindparam("uid")).values(line_manager_id=bindparam("mid"))
                    )
                    connection.execute(statement, [m for m in managers if m["mid"] is not None])
            applied_at = datetime.now(UTC)
            connection.execute(
                update(tables["role_sync"]).values(
                    state=SyncState.APPLIED, applied_at=applied_at, last_error=None, attempts=0
                )
            )
            connection.execute(
                update(tables["data_sources"])
                .where(tables["data_sources"].c.provisioned_at.is_(None))
                .values(provisioned_at=applied_at)
            )
            if connection.dialect.name == "postgresql":
                for name in (n for n in order if n != "team_members"):  # a table of pairs has no id
                    connection.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM {name}))")
                    )
        if self.engine.dialect.name == "postgresql":
            # The statistics autovacuum would gather within a minute of such a load. (SQLite gets none: the app
            # never runs ANALYZE there, so neither does the seed.)
            with self.engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()


def bulk_insert(connection: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(table), rows[start : start + BATCH])


def counts(engine: Engine) -> dict[str, int]:
    names = ("users", "teams", "team_members", "data_sources", "apps", "grants", "access_requests", "source_requests",
             "audit_events", "data_movements", "notifications", "role_sync", "request_questions")  # fmt: skip
    personal = {  # issue 29: personal data, and what waits for its information asset owners
        "personal sources": "data_sources WHERE classification = 'personal'",
        "special sources": "data_sources WHERE classification = 'special-category'",
        "carol owns": "data_sources WHERE iao_id = (SELECT id FROM users WHERE username = 'carol')",
        "waiting for IAO": "access_requests WHERE status = 'pending-iao'",
        "waiting answer": "access_requests WHERE status = 'pending-answer'",
        "to sign off": "data_movements WHERE signoff_needed AND signed_off_at IS NULL",
    }
    with engine.connect() as connection:
        numbers = {
            name: connection.execute(select(func.count()).select_from(text(name))).scalar_one() for name in names
        }
        for name, rows in personal.items():
            numbers[name] = connection.execute(text(f"SELECT COUNT(*) FROM {rows}")).scalar_one()
        return numbers


def seed(database_url: str, scale: float = 1.0, seed_value: int = 6) -> tuple[dict[str, int], float]:
    """Migrate and fill the (empty) database; returns the row counts and the seconds it took."""
    started = time.perf_counter()
    settings = Settings(database_url=database_url, seed_demo=False)
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with session_scope(engine) as session:
            if not database_is_empty(session):
                raise SystemExit(f"{database_url} already holds users: seed an empty database.")
        numbers = Seeder(engine, settings, scale, seed_value).run()
    finally:
        engine.dispose()
    return numbers, time.perf_counter() - started


def describe(numbers: dict[str, int], seconds: float, scale: float) -> Iterable[str]:
    yield f"Seeded at scale {scale:g} in {seconds:.1f} s:"
    for name, number in numbers.items():
        yield f"  {name:<16} {number:>9,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="sqlite:///path.db or postgresql://user@host/db")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 10,000 users; 0.01 for a quick run")
    parser.add_argument("--seed", type=int, default=6, help="the random seed")
    args = parser.parse_args()
    numbers, seconds = seed(args.database_url, args.scale, args.seed)
    print("\n".join(describe(numbers, seconds, args.scale)))


if __name__ == "__main__":
    main()
