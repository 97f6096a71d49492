"""Who may do what: every persona, every action, own or other's source; each cell allowed or refused as the rules say.

Each cell runs on a fresh copy of one prepared database (the demo data plus the people, grants and open requests the
actions need), so cells are independent: a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL. The whole
matrix runs on SQLite (seconds); PostgreSQL, where each copy costs a second or two, runs a representative
subset: for every action, one persona who may and one who may not (rotating over those who may not). The rules are
decided in the same Python on both; the subset proves they read PostgreSQL's data the same way.
"""

from __future__ import annotations

import sqlite3
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, text, update
from sqlmodel import col, select

from core import actions
from core.actions.add_user import add_user
from core.actions.mark_left import mark_left
from core.actions.provision_team import create_team
from core.actions.reconcile import find_drift
from core.adapters.db import make_engine
from core.adapters.models import (
    AccessRequest,
    AuditEvent,
    DataMovement,
    DataSource,
    Grant,
    Notification,
    RequestQuestion,
    RequestStatus,
    SourceRequest,
    User,
    UserStatus,
    utcnow,
)
from core.adapters.review_models import ReviewItem, ReviewSignature
from core.auth import record_sign_in
from core.config import Settings
from core.context import Gatehouse
from core.domain import AccessLevel, Classification, InvalidInput, NotAllowed, NotFound, SourceKind
from core.movement import MovementForm
from core.queries import get_source, get_user
from core.reads import queues
from core.reads.catalog import access_list
from core.rules import TRANSITIONS, check_may_act_as_iao, check_may_be_iao, check_transition, iao_may_decide
from core.startup import start
from tests.aws_helpers import share_the_emulation
from tests.conftest import POSTGRES_ADMIN_URL

NEED = "Quarterly pricing review for the finance committee needs these reports."
QUESTION = "Which reports do you need: the published ones, or the drafts too?"
ANSWER = "Only the published ones, for the committee's March meeting."

# --- the personas and their sources ---------------------------------------------------------------------

PERSONAS = ("alice", "bob", "carol", "dave", "erin", "xena", "tom")
# alice: analyst · bob: source admin · carol: line manager (and admin) · dave: platform team · erin: has left
# xena: external user (added by the platform team with external=True)
# tom: an analyst in the prisons team, which administers alpha-pricing-models (issue #28): an admin through his team

# "Own" source: the one the persona administers; alice and xena administer none, so theirs is the one they use
# (read/write and read only): using a source is not managing it. "Other's": a source someone else administers.
OWN = {
    "alice": "alpha-shared-workspace",
    "bob": "alpha-pricing-models",
    "carol": "alpha-shared-workspace",
    "dave": "alpha-de-raw-intake",  # hidden: data engineering's
    "erin": "alpha-legacy-orphan",  # she was its only admin, then left
    "xena": "alpha-sales-analysis",
    "tom": "alpha-pricing-models",  # through the prisons team
}
OTHERS = {
    "alice": "alpha-pricing-models",
    "bob": "alpha-court-dashboard-data",
    "carol": "alpha-pricing-models",
    "dave": "alpha-pricing-models",
    "erin": "alpha-pricing-models",
    "xena": "alpha-pricing-models",
    "tom": "alpha-court-dashboard-data",
}
# The source each persona revokes their own access to (a grant they hold; erin's is her admin grant of the orphan).
HELD = {
    "alice": "alpha-shared-workspace",
    "bob": "alpha-shared-workspace",
    "carol": "alpha-sales-analysis",
    "dave": "alpha-sales-analysis",
    "erin": "alpha-legacy-orphan",
    "xena": "alpha-sales-analysis",
    "tom": "alpha-shared-workspace",
}
ALL_SOURCES = sorted({*OWN.values(), *OTHERS.values(), *HELD.values()})

# --- the expected matrix ----------------------------------------------------------------------------------

Y, N, NA = True, False, None  # NA: the persona has no such relation (nobody reports to erin or xena)

# fmt: off
MATRIX: dict[str, tuple[bool | None, ...]] = {
    #                                       alice  bob    carol  dave   erin   xena   tom
    "request access (other's source)":     (Y,     Y,     Y,     Y,     N,     Y,     Y),
    "request access (own source: held)":   (N,     N,     N,     N,     N,     N,     N),
    "approve request (own source)":        (N,     Y,     Y,     Y,     N,     N,     Y),
    "approve request (other's source)":    (N,     N,     N,     N,     N,     N,     N),
    "approve confirmed orphan request":    (N,     N,     N,     Y,     N,     N,     N),
    "refuse request (own source)":         (N,     Y,     Y,     Y,     N,     N,     Y),
    "refuse request (other's source)":     (N,     N,     N,     N,     N,     N,     N),
    "confirm as requester's line manager": (Y,     Y,     Y,     Y,     NA,    NA,    NA),
    "confirm, not the line manager":       (N,     N,     N,     N,     N,     N,     N),
    "grant someone (own source)":          (N,     Y,     Y,     Y,     N,     N,     Y),
    "grant someone (other's source)":      (N,     N,     N,     Y,     N,     N,     N),
    "revoke someone (own source)":         (N,     Y,     Y,     Y,     N,     N,     Y),
    "revoke someone (other's source)":     (N,     N,     N,     Y,     N,     N,     N),
    "revoke own access":                   (Y,     Y,     Y,     Y,     N,     Y,     Y),
    "archive (own source)":                (N,     Y,     Y,     Y,     N,     N,     Y),
    "archive (other's source)":            (N,     N,     N,     Y,     N,     N,     N),
    "classify (own source)":               (N,     Y,     Y,     Y,     N,     N,     Y),
    "classify (other's source)":           (N,     N,     N,     Y,     N,     N,     N),
    "create warehouse source":             (Y,     Y,     Y,     Y,     N,     N,     Y),
    "create webapp source":                (N,     N,     N,     Y,     N,     N,     N),
    "create hidden source":                (N,     N,     N,     Y,     N,     N,     N),
    "ask for a webapp source":             (Y,     Y,     Y,     Y,     N,     N,     Y),
    "add user":                            (N,     N,     N,     Y,     N,     N,     N),
    "mark user left":                      (N,     N,     N,     Y,     N,     N,     N),
    "view access list (own source)":       (N,     Y,     Y,     Y,     N,     N,     Y),
    "view access list (other's source)":   (N,     N,     N,     Y,     N,     N,     N),
    "platform queue":                      (N,     N,     N,     Y,     N,     N,     N),
    "drift check":                         (N,     N,     N,     Y,     N,     N,     N),
    "review a grant (own source)":         (N,     Y,     Y,     Y,     N,     N,     Y),
    "review a grant (other's source)":     (N,     N,     N,     N,     N,     N,     N),
    "review a grant (orphaned source)":    (N,     N,     N,     Y,     N,     N,     N),
    "review own grant":                    (N,     N,     N,     N,     N,     N,     N),
    "lower a grant in review (own source)": (N,     Y,     Y,     Y,     N,     N,     Y),
    "raise a grant in review (own source)": (N,     N,     N,     N,     N,     N,     N),
    "answer review of own grant":          (Y,     Y,     Y,     Y,     N,     Y,     Y),
    "answer review of another's grant":    (N,     N,     N,     N,     N,     N,     N),
    "approve at the owner's step":         (N,     N,     Y,     N,     N,     N,     N),
    "refuse at the owner's step":          (N,     N,     Y,     N,     N,     N,     N),
    "approve the owner's own request":     (N,     N,     N,     Y,     N,     N,     N),
    "approve first, owner also admin":     (N,     Y,     N,     N,     N,     N,     N),
    "ask a question (own source)":         (N,     Y,     Y,     Y,     N,     N,     Y),
    "ask a question (other's source)":     (N,     N,     N,     N,     N,     N,     N),
    "ask a question at the owner's step":  (N,     N,     Y,     N,     N,     N,     N),
    "ask about the owner's own request":   (N,     N,     N,     Y,     N,     N,     N),
    "answer the question on alice's request": (Y,  N,     N,     N,     N,     N,     N),
    "answer where no question waits":      (N,     N,     N,     N,     N,     N,     N),
    "ask to extend alice's grant":         (Y,     N,     N,     N,     N,     N,     N),
    "sign off alice's download (personal)": (N,    N,     Y,     N,     N,     N,     N),
    "refuse alice's download (personal)":  (N,     N,     Y,     N,     N,     N,     N),
    "sign off the owner's own download":   (N,     N,     N,     Y,     N,     N,     N),
    "refuse the owner's own download":     (N,     N,     N,     Y,     N,     N,     N),
    "sign the personal source's report":   (N,     N,     Y,     N,     N,     N,     N),
    "sign a report of a source with no owner": (N, N,     N,     N,     N,     N,     N),
}
# fmt: on
# Why, row by row (PRODUCT.md): requests go to the source's active admins, nobody asks for what they hold; an
# orphaned source's request is confirmed by the requester's line manager, then granted by the platform team;
# admins (and the platform team, who manage every source) grant, revoke, archive, classify (issue #29: personal data
# and its information asset owner) and see who has access; anyone
# may give up their own access; anyone internal creates a warehouse source; webapp and hidden sources, joiners,
# leavers, the platform queue and drift are the platform team's. Someone who has left can do nothing; an
# external user cannot create sources or be an admin (so cannot ask for a webapp source, whose requester becomes
# its admin).
# Access reviews (issue #17): a source's active admins review its grants, the platform team those of an orphaned
# source (dave's other's source has an active admin, so not he); nobody reviews their own grant (erin's is gone with
# her: she left); a review only lowers; only a grant's holder answers whether they still need it.
# Teams (issue #28): tom administers alpha-pricing-models only as a member of the prisons team, which holds admin on
# it, and may everything a named admin may there; he holds nothing there himself, but asks for nothing his team
# holds for him.
# Personal data (issue #29): alpha-sales-analysis holds personal data, carol its information asset owner (and one of its
# admins). Once an admin (bob) approved, only carol takes the owner's step; nor bob who approved first, nor the
# platform team while she can. carol's own request is the platform team's to take at that step (never hers), and
# carol, an admin but the owner, never approves first: another admin (bob) must. An external user is never an owner
# (test_an_external_user_is_never_an_information_asset_owner).
# Questions (issue #29): whoever may decide a request at its step now may ask its requester a question instead: an
# admin of its source while it waits for one (as "approve request"), carol at the owner's step (not bob, who
# approved first, nor the platform team while she can), the platform team at the owner's step of carol's own request
# (never carol: nobody asks about their own request). Only the requester answers (alice, asked by carol, her line
# manager, about her request for the orphaned source), and only while it waits for the answer: carol's own request,
# which waits for the owner's step, takes no answer, not even hers.
# Extensions: only a grant's holder asks to extend it (alice's access to the personal source, which ends); for
# anyone else there is no such access of theirs.
# Data leaving personal data: only carol, its owner, signs off (or refuses) alice's download, not bob (an admin)
# nor the platform team while she can; nobody signs off their own movement: carol's own download is the platform
# team's to sign or refuse. An access review report of the personal source is signed by carol alone; a source with
# no information asset owner has no report to sign, not even the platform team's.

EXPECTED: dict[tuple[str, str], bool] = {
    (persona, action): allowed
    for action, row in MATRIX.items()
    for persona, allowed in zip(PERSONAS, row, strict=True)
    if allowed is not None
}


# --- the actions ---------------------------------------------------------------------------------------


@dataclass
class Cell:
    gatehouse: Gatehouse
    persona: str
    tag: str  # unique in the emulation, which every cell shares: names of buckets and users made by a cell
    requests: dict[str, int]  # the prepared open requests, by key

    @property
    def actor(self) -> User:
        return load(self.gatehouse, self.persona)

    def pending_on(self, source: str) -> int:
        return self.requests[f"pending:{source}"]

    def item(self, holder: str, sources: dict[str, str]) -> int:
        """The prepared access review's item of `holder`'s grant on the persona's source of that kind."""
        return self.requests.get(f"item:{holder}:{sources[self.persona]}", 0)


def load(gatehouse: Gatehouse, username: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, username)


def _access_list(cell: Cell, source: str) -> None:
    with cell.gatehouse.session() as session:
        access_list(session, cell.actor, get_source(session, cell.actor, source))


def _platform_queue(cell: Cell) -> None:
    with cell.gatehouse.session() as session:
        queues.platform_queue(session, cell.actor)


def _confirm_not_manager(cell: Cell) -> None:
    key = "lm:bob" if cell.persona == "carol" else "lm:carol"
    actions.confirm_request(cell.gatehouse, cell.actor, cell.requests[key])


ACTIONS: dict[str, Callable[[Cell], Any]] = {
    "request access (other's source)": lambda c: actions.request_access(
        c.gatehouse, c.actor, OTHERS[c.persona], AccessLevel.READ_ONLY, None, NEED
    ),
    "request access (own source: held)": lambda c: actions.request_access(
        c.gatehouse, c.actor, OWN[c.persona], AccessLevel.READ_ONLY, None, NEED
    ),
    "approve request (own source)": lambda c: actions.approve_request(
        c.gatehouse, c.actor, c.pending_on(OWN[c.persona])
    ),
    "approve request (other's source)": lambda c: actions.approve_request(
        c.gatehouse, c.actor, c.pending_on(OTHERS[c.persona])
    ),
    "approve confirmed orphan request": lambda c: actions.approve_request(c.gatehouse, c.actor, c.requests["platform"]),
    "refuse request (own source)": lambda c: actions.refuse_request(
        c.gatehouse, c.actor, c.pending_on(OWN[c.persona]), "Use the published extract instead."
    ),
    "refuse request (other's source)": lambda c: actions.refuse_request(
        c.gatehouse, c.actor, c.pending_on(OTHERS[c.persona]), "Use the published extract instead."
    ),
    "confirm as requester's line manager": lambda c: actions.confirm_request(
        c.gatehouse, c.actor, c.requests[f"lm:{c.persona}"]
    ),
    "confirm, not the line manager": _confirm_not_manager,
    "grant someone (own source)": lambda c: actions.grant_access(
        c.gatehouse, c.actor, OWN[c.persona], ["frank"], AccessLevel.READ_ONLY
    ),
    "grant someone (other's source)": lambda c: actions.grant_access(
        c.gatehouse, c.actor, OTHERS[c.persona], ["frank"], AccessLevel.READ_ONLY
    ),
    "revoke someone (own source)": lambda c: actions.revoke_access(c.gatehouse, c.actor, OWN[c.persona], "gus"),
    "revoke someone (other's source)": lambda c: actions.revoke_access(c.gatehouse, c.actor, OTHERS[c.persona], "gus"),
    "revoke own access": lambda c: actions.revoke_access(c.gatehouse, c.actor, HELD[c.persona], c.persona),
    "archive (own source)": lambda c: actions.archive_source(c.gatehouse, c.actor, OWN[c.persona]),
    "archive (other's source)": lambda c: actions.archive_source(c.gatehouse, c.actor, OTHERS[c.persona]),
    "classify (own source)": lambda c: actions.set_classification(
        c.gatehouse, c.actor, OWN[c.persona], Classification.PERSONAL, "carol"
    ),
    "classify (other's source)": lambda c: actions.set_classification(
        c.gatehouse, c.actor, OTHERS[c.persona], Classification.PERSONAL, "carol"
    ),
    "create warehouse source": lambda c: actions.create_source(c.gatehouse, c.actor, f"alpha-{c.tag}-warehouse"),
    "create webapp source": lambda c: actions.create_source(
        c.gatehouse, c.actor, f"alpha-{c.tag}-webapp", SourceKind.WEBAPP, app_name=f"app-{c.tag}"
    ),
    "create hidden source": lambda c: actions.create_source(c.gatehouse, c.actor, f"alpha-{c.tag}-hidden", hidden=True),
    "ask for a webapp source": lambda c: actions.request_webapp_source(
        c.gatehouse, c.actor, f"alpha-{c.tag}-asked", f"app-{c.tag}", NEED
    ),
    "add user": lambda c: add_user(c.gatehouse, c.actor, f"new-{c.tag}", "new@example.org"),
    "mark user left": lambda c: mark_left(c.gatehouse, c.actor, "gus"),
    "view access list (own source)": lambda c: _access_list(c, OWN[c.persona]),
    "view access list (other's source)": lambda c: _access_list(c, OTHERS[c.persona]),
    "platform queue": _platform_queue,
    "drift check": lambda c: find_drift(c.gatehouse, c.actor),
    "review a grant (own source)": lambda c: actions.review_grant(c.gatehouse, c.actor, c.item("gus", OWN), "keep"),
    "review a grant (other's source)": lambda c: actions.review_grant(
        c.gatehouse, c.actor, c.item("gus", OTHERS), "keep"
    ),
    "review a grant (orphaned source)": lambda c: actions.review_grant(
        c.gatehouse, c.actor, c.requests["item:gus:alpha-legacy-orphan"], "keep"
    ),
    "review own grant": lambda c: actions.review_grant(c.gatehouse, c.actor, c.item(c.persona, HELD), "keep"),
    "lower a grant in review (own source)": lambda c: actions.review_grant(
        c.gatehouse, c.actor, c.item("gus", OWN), "change", AccessLevel.READ_ONLY, "/reports"
    ),
    "raise a grant in review (own source)": lambda c: actions.review_grant(
        c.gatehouse, c.actor, c.item("gus", OWN), "change", AccessLevel.READ_WRITE
    ),
    "answer review of own grant": lambda c: actions.answer_review(c.gatehouse, c.actor, c.item(c.persona, HELD), True),
    "answer review of another's grant": lambda c: actions.answer_review(
        c.gatehouse, c.actor, c.item("gus", HELD), True
    ),
    "approve at the owner's step": lambda c: actions.approve_request(c.gatehouse, c.actor, c.requests["iao"]),
    "refuse at the owner's step": lambda c: actions.refuse_request(
        c.gatehouse, c.actor, c.requests["iao"], "Use the anonymised extract instead."
    ),
    "approve the owner's own request": lambda c: actions.approve_request(c.gatehouse, c.actor, c.requests["iao:own"]),
    "approve first, owner also admin": lambda c: actions.approve_request(c.gatehouse, c.actor, c.requests["iao:first"]),
    "ask a question (own source)": lambda c: actions.ask_question(
        c.gatehouse, c.actor, c.pending_on(OWN[c.persona]), QUESTION
    ),
    "ask a question (other's source)": lambda c: actions.ask_question(
        c.gatehouse, c.actor, c.pending_on(OTHERS[c.persona]), QUESTION
    ),
    "ask a question at the owner's step": lambda c: actions.ask_question(
        c.gatehouse, c.actor, c.requests["iao"], QUESTION
    ),
    "ask about the owner's own request": lambda c: actions.ask_question(
        c.gatehouse, c.actor, c.requests["iao:own"], QUESTION
    ),
    "answer the question on alice's request": lambda c: actions.answer_question(
        c.gatehouse, c.actor, c.requests["question"], ANSWER
    ),
    "answer where no question waits": lambda c: actions.answer_question(
        c.gatehouse, c.actor, c.requests["iao:own"], ANSWER
    ),
    "ask to extend alice's grant": lambda c: actions.ask_to_extend(
        c.gatehouse, c.actor, c.requests["grant:alice"], utcnow().date() + timedelta(days=180), NEED
    ),
    "sign off alice's download (personal)": lambda c: actions.sign_off_movement(
        c.gatehouse, c.actor, c.requests["movement:alice"]
    ),
    "refuse alice's download (personal)": lambda c: actions.refuse_movement(
        c.gatehouse, c.actor, c.requests["movement:alice"], "Use the anonymised extract instead."
    ),
    "sign off the owner's own download": lambda c: actions.sign_off_movement(
        c.gatehouse, c.actor, c.requests["movement:carol"]
    ),
    "refuse the owner's own download": lambda c: actions.refuse_movement(
        c.gatehouse, c.actor, c.requests["movement:carol"], "Use the anonymised extract instead."
    ),
    "sign the personal source's report": lambda c: actions.sign_review_report(
        c.gatehouse, c.actor, c.requests["campaign"], PERSONAL
    ),
    "sign a report of a source with no owner": lambda c: actions.sign_review_report(
        c.gatehouse, c.actor, c.requests["campaign"], OWN["bob"]
    ),
}
READ_ONLY_ACTIONS = {
    "view access list (own source)",
    "view access list (other's source)",
    "platform queue",
    "drift check",
}

# --- the prepared database -------------------------------------------------------------------------------


OPEN_ON = ("alpha-pricing-models", "alpha-shared-workspace", "alpha-sales-analysis", "alpha-court-dashboard-data")


def prepare(gatehouse: Gatehouse) -> dict[str, int]:
    """Through the use cases: the people, grants and open requests the actions act on; returns the requests."""
    dave = load(gatehouse, "dave")
    add_user(gatehouse, dave, "xena", "xena@partner.example", external=True)
    for name, manager in (("frank", "carol"), ("gus", None), ("rep-alice", "alice"), ("rep-bob", "bob")):
        add_user(gatehouse, dave, name, f"{name}@example.org", line_manager=manager)
    add_user(gatehouse, dave, "rep-dave", "rep-dave@example.org", line_manager="dave")
    add_user(gatehouse, dave, "pia", "pia@example.org", platform_admin=True)
    add_user(gatehouse, dave, "tom", "tom@example.org")
    create_team(gatehouse, dave, "prisons", [load(gatehouse, "tom").id or 0])
    actions.grant_team_access(gatehouse, dave, "alpha-pricing-models", "prisons", AccessLevel.ADMIN)
    actions.grant_access(gatehouse, dave, "alpha-shared-workspace", ["tom"], AccessLevel.READ_ONLY)
    for source in ALL_SOURCES:
        actions.grant_access(gatehouse, dave, source, ["gus"], AccessLevel.READ_ONLY)
    actions.grant_access(
        gatehouse, dave, "alpha-sales-analysis", ["xena"], AccessLevel.READ_ONLY, confirm_external=True
    )
    actions.grant_access(
        gatehouse, load(gatehouse, "bob"), "alpha-sales-analysis", ["carol", "dave"], AccessLevel.READ_ONLY
    )

    def ask(who: str, source: str, expected: RequestStatus) -> int:
        view = actions.request_access(gatehouse, load(gatehouse, who), source, AccessLevel.READ_ONLY, None, NEED)
        assert view.status is expected
        return view.id

    ids = {f"pending:{source}": ask("frank", source, RequestStatus.PENDING_ADMIN) for source in OPEN_ON}
    ids["pending:alpha-de-raw-intake"] = ask("pia", "alpha-de-raw-intake", RequestStatus.PENDING_ADMIN)
    ids["lm:carol"] = ask("frank", "alpha-legacy-orphan", RequestStatus.PENDING_LINE_MANAGER)
    ids["pending:alpha-legacy-orphan"] = ids["lm:carol"]
    for manager in ("alice", "bob", "dave"):
        ids[f"lm:{manager}"] = ask(f"rep-{manager}", "alpha-legacy-orphan", RequestStatus.PENDING_LINE_MANAGER)
    ids["platform"] = ask("pia", "alpha-legacy-orphan", RequestStatus.PENDING_PLATFORM)
    ids["question"] = ask("alice", "alpha-legacy-orphan", RequestStatus.PENDING_LINE_MANAGER)
    actions.ask_question(gatehouse, load(gatehouse, "carol"), ids["question"], QUESTION)  # her line manager asks
    ids |= prepare_personal(gatehouse)
    started = actions.start_review(gatehouse, dave, utcnow().date() + timedelta(days=30))
    ids["campaign"] = started.campaign_id
    with gatehouse.session() as session:
        for item, holder, source in session.exec(
            select(ReviewItem.id, User.username, DataSource.name)
            .join(User, col(User.id) == ReviewItem.user_id)
            .join(DataSource, col(DataSource.id) == ReviewItem.source_id)
            .where(ReviewItem.campaign_id == started.campaign_id)
        ):
            ids[f"item:{holder}:{source}"] = item or 0
    return ids


PERSONAL = "alpha-sales-analysis"  # bob administers it; carol becomes its information asset owner, and an admin


def prepare_personal(gatehouse: Gatehouse) -> dict[str, int]:
    """Personal data (issue #29): a request waiting for carol's step as owner, carol's own request waiting for the
    owner's step (the platform team's), and one waiting for an admin where carol is admin and owner; alice's access
    there ending (to extend); alice's download and carol's, each waiting for its sign-off."""
    with gatehouse.session() as session:
        session.exec(
            update(DataSource)
            .where(col(DataSource.name) == PERSONAL)
            .values(classification=Classification.PERSONAL, iao_id=get_user(session, "carol").id)
        )
    bob, until = load(gatehouse, "bob"), utcnow().date() + timedelta(days=90)

    def ask(who: str, level: AccessLevel) -> int:
        return actions.request_access(gatehouse, load(gatehouse, who), PERSONAL, level, None, NEED, until).id

    ids = {"iao": ask("rep-alice", AccessLevel.READ_ONLY), "iao:own": ask("carol", AccessLevel.READ_WRITE)}
    for key in ("iao", "iao:own"):
        actions.approve_request(gatehouse, bob, ids[key])
    actions.grant_access(gatehouse, load(gatehouse, "dave"), PERSONAL, ["carol"], AccessLevel.ADMIN, None, until)
    ids["iao:first"] = ask("rep-bob", AccessLevel.READ_ONLY)
    with gatehouse.session() as session:
        waiting = {
            r.id: r.status for r in session.exec(select(AccessRequest).where(col(AccessRequest.id).in_(ids.values())))
        }
    assert waiting == {
        ids["iao"]: RequestStatus.PENDING_IAO,
        ids["iao:own"]: RequestStatus.PENDING_IAO,
        ids["iao:first"]: RequestStatus.PENDING_ADMIN,
    }
    with gatehouse.session() as session:
        alice = get_user(session, "alice").id
        alices = session.exec(
            select(Grant.id)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(DataSource.name == PERSONAL, Grant.user_id == alice)
        ).one()
    actions.change_access(gatehouse, bob, PERSONAL, "alice", alices or 0, AccessLevel.READ_ONLY, "/published", until)
    ids["grant:alice"] = alices or 0  # her access there ends now: she may ask to extend it
    for mover in ("alice", "carol"):
        ids[f"movement:{mover}"] = actions.record_movement(
            gatehouse, load(gatehouse, mover), "download", FORM, PERSONAL
        )
    with gatehouse.session() as session:
        forms = session.exec(
            select(DataMovement).where(col(DataMovement.id).in_([ids["movement:alice"], ids["movement:carol"]]))
        )
        assert [form.signoff_needed for form in forms] == [True, True]
    return ids


FORM = MovementForm(
    description="Monthly regional sales extract",
    origin=PERSONAL,
    destination="My laptop",
    purpose="Quarterly pricing review for the finance committee",
    classification="OFFICIAL-SENSITIVE",
    personal_data=True,
    dpia_reference="DPIA-2026-014",
    retention="Until the review ends in March 2027",
    declaration=True,
)


@dataclass(frozen=True)
class Prepared:
    settings: Settings
    gatehouse: Gatehouse  # its engine is disposed: only its settings and AWS adapter are reused
    requests: dict[str, int]


def prepare_on(settings: Settings) -> Prepared:
    gatehouse = start(share_the_emulation(settings))  # the SQLite and PostgreSQL databases share the emulation
    ids = prepare(gatehouse)
    gatehouse.engine.dispose()
    return Prepared(settings, gatehouse, ids)


@pytest.fixture(scope="module")
def emulation(moto_endpoint: str) -> int:
    """The emulation, reset once for the module: every cell shares it, so cells name what they make uniquely."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10)
    return int(moto_endpoint.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def sqlite_prepared(emulation: int, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    folder = tmp_path_factory.mktemp("matrix-sqlite")
    return prepare_on(
        Settings(database_url=f"sqlite:///{folder / 'prepared.db'}", local_aws_port=emulation, data_dir=folder)
    )


@pytest.fixture(scope="module")
def postgres_prepared(
    emulation: int, postgres_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prepared]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gatehouse_matrix_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    folder = tmp_path_factory.mktemp("matrix-postgres")
    yield prepare_on(Settings(database_url=url, local_aws_port=emulation, data_dir=folder))
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def on_copy(prepared: Prepared, url: str) -> Gatehouse:
    """A Gatehouse on a copy of the prepared database, sharing the prepared one's AWS adapter (nothing to start)."""
    settings = Settings(
        database_url=url, local_aws_port=prepared.settings.local_aws_port, data_dir=prepared.settings.data_dir
    )
    assert settings.db_url == url
    return Gatehouse(settings, make_engine(url), prepared.gatehouse.aws)


@contextmanager
def sqlite_copy(prepared: Prepared, folder: Path) -> Iterator[Gatehouse]:
    source = sqlite3.connect(prepared.settings.db_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(folder / "cell.db")
    with target:
        source.backup(target)
    source.close()
    target.close()
    gatehouse = on_copy(prepared, f"sqlite:///{folder / 'cell.db'}")
    try:
        yield gatehouse
    finally:
        gatehouse.engine.dispose()


@contextmanager
def postgres_copy(prepared: Prepared) -> Iterator[Gatehouse]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    template = prepared.settings.db_url.rsplit("/", 1)[1]
    name = f"gatehouse_cell_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        # PostgreSQL's own way (WAL_LOG): the copy written through the log. FILE_COPY, used before, asks for a
        # checkpoint of the whole server at the copy and at its drop: 3 to 5 s a cell on a shared machine, not 1 to 2.
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    gatehouse = on_copy(prepared, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield gatehouse
    finally:
        gatehouse.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- checking a cell ---------------------------------------------------------------------------------------


def snapshot(gatehouse: Gatehouse) -> dict[str, Any]:
    """Everything a refused action must leave as it was."""
    with gatehouse.session() as session:
        return {
            "users": sorted((u.username, u.status, u.is_platform_admin) for u in session.exec(select(User))),
            "sources": sorted((s.name, s.hidden, s.archived_at) for s in session.exec(select(DataSource))),
            "grants": sorted(
                (g.source_id, g.user_id or 0, g.app_id or 0, g.team_id or 0, g.level, tuple(g.paths), g.expires_on)
                for g in session.exec(select(Grant))
            ),
            "requests": sorted((r.id or 0, r.status, r.version) for r in session.exec(select(AccessRequest))),
            "source requests": sorted((r.id or 0, r.status) for r in session.exec(select(SourceRequest))),
            "audit events": session.exec(select(func.count()).select_from(AuditEvent)).one(),
            "notifications": session.exec(select(func.count()).select_from(Notification)).one(),
            "reviews": sorted((i.id or 0, i.decision, i.holder_answer) for i in session.exec(select(ReviewItem))),
            "questions": sorted((q.id or 0, q.answer or "") for q in session.exec(select(RequestQuestion))),
            "movements": sorted(
                (m.id or 0, m.signed_off_by_id or 0, str(m.signed_off_at), m.signoff_refused_reason or "")
                for m in session.exec(select(DataMovement))
            ),
            "signatures": session.exec(select(func.count()).select_from(ReviewSignature)).one(),
        }


def check_cell(gatehouse: Gatehouse, requests_by_key: dict[str, int], persona: str, action: str, tag: str) -> None:
    cell = Cell(gatehouse, persona, tag, requests_by_key)
    before = snapshot(gatehouse)
    if EXPECTED[(persona, action)]:
        ACTIONS[action](cell)
        after = snapshot(gatehouse)
        if action in READ_ONLY_ACTIONS:
            assert after == before
        else:
            assert after["audit events"] > before["audit events"], "an allowed change must be in the audit trail"
        return
    with pytest.raises((NotAllowed, InvalidInput, NotFound)) as refused:
        ACTIONS[action](cell)
    message = str(refused.value)
    assert message and "\n" not in message and message.endswith("."), message
    assert snapshot(gatehouse) == before


def slug(action: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in action.lower()).strip("-").replace("--", "-")


def cell_param(persona: str, action: str) -> Any:
    return pytest.param(persona, action, id=f"{persona}:{slug(action)}")


ALL_CELLS = [cell_param(p, a) for a in MATRIX for p in PERSONAS if (p, a) in EXPECTED]


def representative_cells() -> list[Any]:
    chosen = []
    for number, action in enumerate(MATRIX):
        allowed = [p for p in PERSONAS if EXPECTED.get((p, action)) is True]
        refused = [p for p in PERSONAS if EXPECTED.get((p, action)) is False]
        chosen += [cell_param(allowed[0], action)] if allowed else []
        chosen += [cell_param(refused[number % len(refused)], action)] if refused else []
    return chosen


def test_the_matrix_covers_every_action_and_persona() -> None:
    assert set(MATRIX) == set(ACTIONS)
    assert {p for p, _ in EXPECTED} == set(PERSONAS)


@pytest.mark.parametrize(("persona", "action"), ALL_CELLS)
def test_cell_on_sqlite(sqlite_prepared: Prepared, tmp_path: Path, persona: str, action: str) -> None:
    with sqlite_copy(sqlite_prepared, tmp_path) as gatehouse:
        check_cell(gatehouse, sqlite_prepared.requests, persona, action, f"sq-{persona}")


@pytest.mark.postgres
@pytest.mark.parametrize(("persona", "action"), representative_cells())
def test_cell_on_postgresql(postgres_prepared: Prepared, persona: str, action: str) -> None:
    with postgres_copy(postgres_prepared) as gatehouse:
        check_cell(gatehouse, postgres_prepared.requests, persona, action, f"pg-{persona}")


# --- a page's copy of the actor decides nothing -------------------------------------------------------------

# The reads that pages call with the actor they re-read at every rerun (keyed by the database's revision); every
# other action is a use case that must load its actor itself.
PAGE_READS = {"view access list (own source)", "view access list (other's source)", "platform queue"}
STALE_ACTIONS = [a for a in MATRIX if a not in PAGE_READS and any(EXPECTED.get((p, a)) for p in PERSONAS)]


@dataclass
class StaleCell(Cell):
    """A cell whose actor is the row a page read before something changed: what a browser session still holds."""

    stale: User | None = None

    @property
    def actor(self) -> User:
        assert self.stale is not None
        return self.stale


def stale_cell(gatehouse: Gatehouse, prepared: Prepared, action: str, change: dict[str, Any]) -> StaleCell:
    persona = next(p for p in ("bob", "dave", "alice", "carol", "xena") if EXPECTED.get((p, action)))
    cell = StaleCell(gatehouse, persona, f"st-{persona}", prepared.requests, stale=load(gatehouse, persona))
    with gatehouse.session() as session:
        session.execute(update(User).where(col(User.username) == persona).values(**change))
    return cell


@pytest.mark.parametrize("action", STALE_ACTIONS, ids=slug)
def test_someone_who_left_since_their_page_read_them_can_do_nothing(
    sqlite_prepared: Prepared, tmp_path: Path, action: str
) -> None:
    """Every use case decides on who the actor is now: a page's copy of someone since marked as left (the row it
    read at sign-in, its status still active) is refused, and nothing changes."""
    with sqlite_copy(sqlite_prepared, tmp_path) as gatehouse:
        cell = stale_cell(gatehouse, sqlite_prepared, action, {"status": UserStatus.LEFT})
        before = snapshot(gatehouse)
        with pytest.raises(NotAllowed, match="has left the organisation"):
            ACTIONS[action](cell)
        assert snapshot(gatehouse) == before


PLATFORM_ONLY = [a for a in STALE_ACTIONS if [p for p in PERSONAS if EXPECTED.get((p, a))] == ["dave"]]


@pytest.mark.parametrize("action", PLATFORM_ONLY, ids=slug)
def test_someone_taken_out_of_the_platform_team_since_their_page_read_them_acts_as_they_are_now(
    sqlite_prepared: Prepared, tmp_path: Path, action: str
) -> None:
    with sqlite_copy(sqlite_prepared, tmp_path) as gatehouse:
        cell = stale_cell(gatehouse, sqlite_prepared, action, {"is_platform_admin": False})
        assert cell.actor.is_platform_admin  # what the page still holds
        before = snapshot(gatehouse)
        with pytest.raises((NotAllowed, NotFound)):
            ACTIONS[action](cell)
        assert snapshot(gatehouse) == before


def test_a_member_acting_through_a_page_keeps_what_sign_in_recorded_since(
    sqlite_prepared: Prepared, tmp_path: Path
) -> None:
    """Core never writes a page's copy of the actor back: alice signs in after her page read her row, and a request
    made with that older row leaves her last sign-in as the database has it."""
    with sqlite_copy(sqlite_prepared, tmp_path) as gatehouse:
        page_copy = load(gatehouse, "alice")
        with gatehouse.session() as session:
            record_sign_in(session, "alice")
        signed = load(gatehouse, "alice")
        assert signed.last_sign_in_at is not None and signed.last_sign_in_at != page_copy.last_sign_in_at
        actions.request_access(gatehouse, page_copy, "alpha-court-dashboard-data", AccessLevel.READ_ONLY, None, NEED)
        assert load(gatehouse, "alice").last_sign_in_at == signed.last_sign_in_at


# --- the request state machine (pure) -----------------------------------------------------------------------


@pytest.mark.parametrize("current", list(RequestStatus), ids=str)
@pytest.mark.parametrize("new", list(RequestStatus), ids=str)
def test_a_request_moves_only_along_the_allowed_steps(current: RequestStatus, new: RequestStatus) -> None:
    decision = check_transition(current, new)
    assert decision.allowed is (new in TRANSITIONS.get(current, set()))
    if not decision.allowed:
        assert decision.reason.endswith(".") and "\n" not in decision.reason
    if not current.is_open:
        assert not decision.allowed and "already" in decision.reason


def test_only_open_requests_can_move_and_decisions_are_final() -> None:
    open_statuses = {s for s in RequestStatus if s.is_open}
    assert set(TRANSITIONS) == open_statuses
    decided = {RequestStatus.APPROVED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN, RequestStatus.CLOSED}
    # an open request is decided, or goes on to who decides after (admins, then the line manager, then the platform
    # team: when whom it waited for has left; the information asset owner after an admin), never back, but for a
    # question to the requester, answered back to where it stood
    question = {RequestStatus.PENDING_ANSWER}
    later = {
        RequestStatus.PENDING_ADMIN: {
            RequestStatus.PENDING_LINE_MANAGER,
            RequestStatus.PENDING_PLATFORM,
            RequestStatus.PENDING_IAO,
        }
        | question,
        RequestStatus.PENDING_LINE_MANAGER: {RequestStatus.PENDING_PLATFORM} | question,
        RequestStatus.PENDING_PLATFORM: {RequestStatus.PENDING_IAO} | question,
        RequestStatus.PENDING_IAO: question,
        RequestStatus.PENDING_ANSWER: open_statuses - question,
    }
    assert all(TRANSITIONS[s] <= decided | later[s] for s in open_statuses)
    assert RequestStatus.APPROVED not in TRANSITIONS[RequestStatus.PENDING_ANSWER]  # an answer is not a decision
    assert all(s not in TRANSITIONS[s] for s in open_statuses)


def test_an_external_user_is_never_an_information_asset_owner(gatehouse: Gatehouse) -> None:
    """An external user may not be named owner (`check_may_be_iao`); one the database names anyway takes no owner's
    step: the platform team takes it in their place, and their queue shows the request, the external user's none."""
    dave = load(gatehouse, "dave")
    add_user(gatehouse, dave, "xena", "xena@partner.example", external=True)
    xena = load(gatehouse, "xena")
    assert not check_may_be_iao(xena).allowed
    assert "external users cannot be information asset owners" in check_may_be_iao(xena).reason
    with gatehouse.session() as session:
        session.exec(
            update(DataSource)
            .where(col(DataSource.name) == "alpha-pricing-models")
            .values(classification=Classification.PERSONAL, iao_id=xena.id)
        )
    asked = actions.request_access(
        gatehouse, load(gatehouse, "alice"), "alpha-pricing-models", AccessLevel.READ_ONLY, None, NEED,
        utcnow().date() + timedelta(days=30),
    )  # fmt: skip
    actions.approve_request(gatehouse, load(gatehouse, "bob"), asked.id)
    with gatehouse.session() as session:
        request = session.get(AccessRequest, asked.id)
        assert request is not None and request.status == RequestStatus.PENDING_IAO
        assert not iao_may_decide(
            xena, requester_id=request.requester_id, admin_approver_id=request.admin_approved_by_id
        )
        assert not check_may_act_as_iao(
            xena, xena, requester_id=request.requester_id, admin_approver_id=request.admin_approved_by_id
        ).allowed
        assert queues.iao_queue(session, xena).total == 0
        assert [r.id for r in queues.platform_iao_queue(session, dave).items] == [asked.id]
    with pytest.raises(NotAllowed):
        actions.approve_request(gatehouse, xena, asked.id)
    actions.approve_request(gatehouse, dave, asked.id)
    with gatehouse.session() as session:
        assert session.get(AccessRequest, asked.id).status == RequestStatus.APPROVED  # type: ignore[union-attr]
