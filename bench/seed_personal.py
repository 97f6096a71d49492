"""Personal data in the scale seed (issue #29), for bench/seed_scale.py's Seeder.

A tenth of the generated sources hold personal data and a fiftieth special-category data, each with an information
asset owner (IAO): an active member, never an external one nor one of the source's admins; carol owns `carol_sources`
of them (live sources that people hold access to). Their member and team grants end within a year (special-category
ones on paths); their requests name an end date (and paths), and those that granted whole sources went through the
owner after an admin. Open now: requests an admin approved that wait for the owner (carol's among them), requests
that wait for the requester's answer to a question (an admin's or the owner's, an eighth carol's; one of alice's),
and movement forms that wait for the owner's sign-off (carol's among them). Downloads and copies out of them in the
history were signed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.adapters.models import MovementKind, RequestStatus
from core.domain import AccessLevel, Classification
from core.rules import needs_iao

if TYPE_CHECKING:
    from bench.seed_scale import Seeder, Source

QUESTIONS = (
    "Which tables do you need, and for how long?",
    "Will the extract leave the analytical platform?",
    "Is there a DPIA for this work? Please give its reference.",
    "Could the published, anonymised extract do instead?",
)
ANSWERS_NEEDED_FROM_ALICE = 1  # alice's inbox shows a question at every scale


def ends(seeder: Seeder, earliest: int = 10) -> date:
    """An end date within the personal-data maximum (365 days), past the expiry warnings' horizon."""
    return (seeder.now + timedelta(days=seeder.rng.randint(earliest, 365))).date()


def holders_by_source(seeder: Seeder) -> dict[int, list[int]]:
    held: dict[int, list[int]] = defaultdict(list)
    for grant in seeder.plan.rows["grants"]:
        if grant["user_id"] is not None and grant["level"] != AccessLevel.ADMIN:
            held[grant["source_id"]].append(grant["user_id"])
    return held


def classify(seeder: Seeder) -> None:
    """Choose the personal-data sources and their owners; their grants end within a year (special: on paths)."""
    sizes, rng = seeder.sizes, seeder.rng
    carol = seeder.demo["carol"]
    generated = [s for s in seeder.sources.values() if s.id not in seeder.demo_source_ids]
    held = holders_by_source(seeder)
    live = [s for s in generated if not s.archived and not s.hidden and seeder.active_admins(s)]
    for_carol = [s for s in live if carol not in s.admins and any(u != carol for u in held.get(s.id, []))]
    carols = rng.sample(for_carol, min(sizes.carol_sources, len(for_carol)))
    others = [s for s in generated if s not in carols]
    wanted = sizes.personal_sources + sizes.special_sources - len(carols)
    chosen = carols + rng.sample(others, max(0, min(wanted, len(others))))
    special = {s.id for s in rng.sample(chosen, min(sizes.special_sources, len(chosen)))}
    pool = [p.id for p in seeder.people.values() if p.active and not p.external and p.id in seeder.generated]
    owner_order, owner_weights = seeder.weighted(pool, 0.8, 2.0)
    owners = iter(seeder.draw(owner_order, owner_weights, len(chosen) * 3))
    for source in chosen:
        source.classification = Classification.SPECIAL_CATEGORY if source.id in special else Classification.PERSONAL
        if source in carols:
            source.iao = carol
            continue
        source.iao = next((o for o in owners if o not in source.admins), None) or next(
            o for o in pool if o not in source.admins
        )
    seeder.personal = {s.id: s for s in chosen}
    seeder.carol_sources = [s.id for s in carols]
    for row in seeder.plan.rows["data_sources"]:
        if row["id"] in seeder.personal:
            source = seeder.personal[row["id"]]
            row["classification"], row["iao_id"] = source.classification, source.iao
    for grant in seeder.plan.rows["grants"]:
        source = seeder.personal.get(grant["source_id"])
        if source is None or grant["level"] == AccessLevel.ADMIN or grant["app_id"] is not None:
            continue
        grant["expires_on"] = ends(seeder)
        if source.classification is Classification.SPECIAL_CATEGORY and not grant["paths"]:
            grant["paths"] = seeder.paths()


def request_terms(seeder: Seeder, source: Source, paths: list[str] | None, values: dict[str, Any]) -> list[str]:
    """A request to a personal-data source names an end date (and paths, for special-category data)."""
    if not source.classification.is_personal:
        return paths or []
    values.setdefault("expires_on", ends(seeder, 30))
    if source.classification is Classification.SPECIAL_CATEGORY and not paths:
        return seeder.paths()
    return paths or []


def two_steps(seeder: Seeder, source: Source, grant: dict[str, Any]) -> dict[str, Any]:
    """An approved request behind a grant on personal data: its end date, and the owner's step after an admin's."""
    if not source.classification.is_personal:
        return {}
    values: dict[str, Any] = {"expires_on": grant["expires_on"], "granted_expires_on": grant["expires_on"]}
    rule = seeder.settings.classification_rules[source.classification]
    admins = seeder.active_admins(source) or source.admins
    if needs_iao(rule, AccessLevel(grant["level"]), grant["paths"]) and admins and source.iao is not None:
        approved = grant["created_at"] - timedelta(hours=seeder.rng.randint(2, 48))
        values |= {"admin_approved_by_id": seeder.rng.choice(admins), "admin_approved_at": approved}
        values["decided_by_id"] = source.iao
    return values


def _requester(seeder: Seeder, source: Source, active: list[int], but: set[int]) -> int | None:
    for _ in range(20):
        requester = seeder.rng.choice(active)
        if requester not in but and requester not in source.admins and seeder.can_ask(source, requester):
            return requester
    return None


def _waiting_for_owner(seeder: Seeder, source: Source, requester: int, status: RequestStatus, **values: Any) -> int:
    """A request an admin approved (whole source for personal data, on paths for special-category data), waiting
    for the owner (or, with `status` pending-answer, for the requester's answer, back to the owner after)."""
    admin = seeder.rng.choice([a for a in seeder.active_admins(source) if a != requester])
    level = AccessLevel.READ_WRITE if seeder.rng.random() < 0.2 else AccessLevel.READ_ONLY
    special = source.classification is Classification.SPECIAL_CATEGORY
    paths = seeder.paths() if special else []
    created = seeder.past(days=12, recent=1)
    asked_until = ends(seeder, 60)
    granted_until = asked_until if seeder.rng.random() < 0.7 else asked_until - timedelta(days=30)
    approved = created + timedelta(hours=seeder.rng.randint(1, 20))
    return seeder.add_request(
        source,
        requester,
        status,
        level,
        paths,
        created=created,
        expires_on=asked_until,
        granted_level=AccessLevel.READ_ONLY if seeder.rng.random() < 0.3 else level,
        granted_paths=paths,
        granted_expires_on=granted_until,
        admin_approved_by_id=admin,
        admin_approved_at=approved,
        version=2,
        updated_at=values.pop("updated_at", approved),
        **values,
    )


def make_open_requests(seeder: Seeder) -> None:
    """Requests waiting for an owner, and requests waiting for an answer."""
    sizes = seeder.sizes
    active = [p.id for p in seeder.people.values() if p.active and p.id in seeder.generated]
    with_admins = [s for s in seeder.personal.values() if seeder.active_admins(s) and not s.archived and not s.hidden]
    carols = [seeder.personal[i] for i in seeder.carol_sources]
    others = [s for s in with_admins if s.iao != seeder.demo["carol"]]
    for pool, count in ((carols, sizes.carol_requests), (others, sizes.iao_requests - sizes.carol_requests)):
        for _ in range(max(0, count) * 3):
            if count <= 0 or not pool:
                break
            source = seeder.rng.choice(pool)
            requester = _requester(seeder, source, active, {source.iao or 0})
            if requester is None:  # never an admin of the source: one of them approved
                continue
            _waiting_for_owner(seeder, source, requester, RequestStatus.PENDING_IAO)
            count -= 1
    alice = seeder.demo["alice"]
    for number in range(sizes.answer_requests):
        pool = carols if number % 8 == 1 else with_admins  # an eighth asked by carol as owner
        for_alice = number < ANSWERS_NEEDED_FROM_ALICE
        if for_alice:  # asked by an admin of a source she may ask for
            pool = [s for s in with_admins if s.iao != alice and alice not in s.admins and seeder.can_ask(s, alice)]
        if not pool:
            continue
        source = seeder.rng.choice(pool)
        requester = alice if for_alice else _requester(seeder, source, active, {source.iao or 0})
        if requester is None or not [a for a in seeder.active_admins(source) if a != requester]:
            continue
        asked_at = seeder.past(days=10)
        by_owner = number % 2 == 1 and source.iao is not None
        if by_owner:  # the owner asks, after an admin approved
            request_id = _waiting_for_owner(
                seeder, source, requester, RequestStatus.PENDING_ANSWER, updated_at=asked_at
            )
            asker, returns_to = source.iao or 0, RequestStatus.PENDING_IAO
        else:  # an admin asks before deciding
            created = asked_at - timedelta(hours=seeder.rng.randint(1, 72))
            request_id = seeder.add_request(
                source, requester, RequestStatus.PENDING_ANSWER, created=created, version=2, updated_at=asked_at
            )
            asker = seeder.rng.choice([a for a in seeder.active_admins(source) if a != requester])
            returns_to = RequestStatus.PENDING_ADMIN
        seeder.plan.add(
            "request_questions",
            {
                "id": seeder.new_id("request_questions"),
                "request_id": request_id,
                "asked_by_id": asker,
                "question": seeder.rng.choice(QUESTIONS),
                "asked_at": asked_at,
                "returns_to": returns_to,
                "answer": None,
                "answered_at": None,
            },
        )


def leaves(kind: MovementKind, source_id: int, target: int | None) -> bool:
    return kind in (MovementKind.DOWNLOAD, MovementKind.COPY, MovementKind.MOVE) and target != source_id


def signed_history(seeder: Seeder, row: dict[str, Any]) -> None:
    """A movement of the history out of a personal-data source: its form says so, and was signed before it left."""
    source = seeder.personal.get(row["source_id"])
    if source is None:
        return
    row["personal_data"] = True
    if leaves(row["kind"], row["source_id"], row["target_source_id"]):
        signer = source.iao if source.iao not in (None, row["user_id"]) else seeder.rng.choice(seeder.platform_team)
        row |= {
            "signoff_needed": True,
            "signed_off_by_id": signer,
            "signed_off_at": row["created_at"] + timedelta(minutes=seeder.rng.randint(5, 600)),
        }
        row["completed_at"] = row["signed_off_at"] + timedelta(minutes=seeder.rng.randint(1, 30))


def make_signoffs(seeder: Seeder, movement: Any) -> None:
    """Forms of downloads and copies out of personal-data sources that wait for their owner's sign-off: nothing has
    left yet. `movement(grant, kind, created)` makes the form's row as the history's are made."""
    carol = seeder.demo["carol"]
    grants = [
        g
        for g in seeder.plan.rows["grants"]
        if g["user_id"] is not None and g["source_id"] in seeder.personal and g["level"] != AccessLevel.ADMIN
    ]
    theirs = [g for g in grants if seeder.personal[g["source_id"]].iao not in (None, g["user_id"])]
    carols = [g for g in theirs if seeder.personal[g["source_id"]].iao == carol]
    for pool, count in (
        (carols, seeder.sizes.carol_signoffs),
        (theirs, seeder.sizes.signoffs - seeder.sizes.carol_signoffs),
    ):
        for _ in range(max(0, count) if pool else 0):
            grant = seeder.rng.choice(pool)
            kind = MovementKind.COPY if seeder.rng.random() < 0.1 else MovementKind.DOWNLOAD
            created: datetime = seeder.past(days=3)
            row = movement(grant, kind, created)
            row |= {"personal_data": True, "signoff_needed": True, "completed_at": None, "total_bytes": 0}
            if row["target_source_id"] == row["source_id"]:
                row["target_source_id"] = (
                    None if kind is MovementKind.DOWNLOAD else next(s for s in seeder.sources if s != row["source_id"])
                )
