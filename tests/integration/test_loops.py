"""Loops that close (issue #25 §3): every change to someone's access or request reaches that person, and the deciders
it concerns, as one message; a decider's message about a request says where it stands now. On SQLite and PostgreSQL.

Each case does what comes before the change, marks every message read, makes the change, and then names everyone
with an unread message and what each says: exactly those people are told, each once (a phrase a message)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from core import actions, notify
from core.adapters.models import AuditEvent, DataSource, Grant, Notification, User, utcnow
from core.adapters.review_models import ReviewItem
from core.context import Gatehouse
from core.domain import AccessLevel
from core.queries import get_user

SALES = "alpha-sales-analysis"  # bob is its admin; alice reads /published
PRICING = "alpha-pricing-models"  # bob is its admin; carol is made one too where a case needs two deciders
ORPHAN = "alpha-legacy-orphan"  # its admin (erin) has left: alice's line manager (carol) confirms, dave grants
NEED = "Quarterly pricing review for the finance committee needs these reports."


def member(gh: Gatehouse, name: str) -> User:
    with gh.session() as session:
        return get_user(session, name)


def quiet(gh: Gatehouse) -> None:
    """Every message so far read: what is unread after this was told by the change that follows."""
    with gh.session() as session:
        session.exec(update(Notification).values(read_at=utcnow()))  # type: ignore[call-overload]


def told(gh: Gatehouse) -> dict[str, list[str]]:
    """Who has unread messages, and each message as the inbox shows it: subject, where its request stands, body."""
    with gh.session() as session:
        unread = session.exec(
            select(User, Notification)
            .join(Notification, col(Notification.user_id) == User.id)
            .where(col(Notification.read_at).is_(None))
            .order_by(col(Notification.id))
        ).all()
        heard: dict[str, list[str]] = {}
        for user, message in unread:
            standing = notify.standings(session, user, (message.id or 0,)).get(message.id or 0, "")
            heard.setdefault(user.username, []).append(f"{message.subject}\n{standing}\n{message.body}")
    return heard


def asks(gh: Gatehouse, name: str, source: str, level: AccessLevel = AccessLevel.READ_ONLY, paths: str = "") -> int:
    return actions.request_access(gh, member(gh, name), source, level, paths or None, NEED).id or 0


def two_deciders(gh: Gatehouse) -> int:
    """alice asks for pricing models, which bob and carol administer: both are asked to decide."""
    actions.grant_access(gh, member(gh, "bob"), PRICING, ["carol"], AccessLevel.ADMIN)
    return asks(gh, "alice", PRICING, AccessLevel.READ_WRITE, "/reports")


def review_item(gh: Gatehouse, holder: str) -> int:
    actions.start_review(gh, member(gh, "dave"), utcnow().date() + timedelta(days=14), [SALES])
    with gh.session() as session:
        return session.exec(select(ReviewItem.id).where(ReviewItem.user_id == get_user(session, holder).id)).one()


def grant(gh: Gatehouse) -> None:
    quiet(gh)
    actions.grant_access(gh, member(gh, "bob"), PRICING, ["carol"], AccessLevel.READ_ONLY)


def change(gh: Gatehouse) -> None:
    bob = member(gh, "bob")
    actions.grant_access(gh, bob, PRICING, ["carol"], AccessLevel.READ_ONLY)
    with gh.session() as session:
        grant_id = session.exec(
            select(Grant.id)
            .join(DataSource, col(DataSource.id) == Grant.source_id)
            .where(Grant.user_id == get_user(session, "carol").id, DataSource.name == PRICING)
        ).one()
    quiet(gh)
    actions.change_access(gh, bob, PRICING, "carol", grant_id, AccessLevel.READ_WRITE)


def revoke(gh: Gatehouse) -> None:
    quiet(gh)
    actions.revoke_access(gh, member(gh, "bob"), SALES, "alice")


def review_revoke(gh: Gatehouse) -> None:
    item = review_item(gh, "alice")
    quiet(gh)
    actions.review_grant(gh, member(gh, "bob"), item, "revoke", reason="Not used since the spring.")


def review_give_up(gh: Gatehouse) -> None:
    item = review_item(gh, "alice")
    quiet(gh)
    actions.answer_review(gh, member(gh, "alice"), item, still_needed=False)


def give_up(gh: Gatehouse) -> None:
    quiet(gh)
    actions.revoke_access(gh, member(gh, "alice"), SALES, "alice")


def expiry(gh: Gatehouse) -> None:
    soon = utcnow().date() + timedelta(days=3)
    actions.grant_access(gh, member(gh, "bob"), PRICING, ["carol"], AccessLevel.READ_ONLY, None, soon)
    actions.expire(gh)  # the warning, first
    quiet(gh)
    actions.expire(gh, today=soon + timedelta(days=1))


def leaver(gh: Gatehouse) -> None:
    asks(gh, "alice", PRICING)
    quiet(gh)
    actions.mark_left(gh, member(gh, "dave"), "alice")


def approve(gh: Gatehouse) -> None:
    request = two_deciders(gh)
    quiet(gh)
    actions.approve_request(gh, member(gh, "bob"), request)


def approve_less(gh: Gatehouse) -> None:
    request = two_deciders(gh)
    quiet(gh)
    actions.approve_request(
        gh, member(gh, "bob"), request, AccessLevel.READ_ONLY, "/reports", reason="Reading is enough for a review."
    )


def refuse(gh: Gatehouse) -> None:
    request = two_deciders(gh)
    quiet(gh)
    actions.refuse_request(gh, member(gh, "carol"), request, "The published extract has what you need.")


def withdraw(gh: Gatehouse) -> None:
    request = two_deciders(gh)
    quiet(gh)
    actions.withdraw_request(gh, member(gh, "alice"), request)


def confirm(gh: Gatehouse) -> None:
    request = asks(gh, "alice", ORPHAN)
    quiet(gh)
    actions.confirm_request(gh, member(gh, "carol"), request)


def grant_confirmed(gh: Gatehouse) -> None:
    request = asks(gh, "alice", ORPHAN)
    actions.confirm_request(gh, member(gh, "carol"), request)
    quiet(gh)
    actions.approve_request(gh, member(gh, "dave"), request)


def archive(gh: Gatehouse) -> None:
    asks(gh, "carol", SALES)
    quiet(gh)
    actions.archive_source(gh, member(gh, "bob"), SALES)


def webapp_created(gh: Gatehouse) -> None:
    asked = actions.request_webapp_source(gh, member(gh, "alice"), "alpha-my-webapp", "my-app", NEED)
    quiet(gh)
    actions.create_webapp_source(gh, member(gh, "dave"), asked.id or 0)


def webapp_refused(gh: Gatehouse) -> None:
    asked = actions.request_webapp_source(gh, member(gh, "alice"), "alpha-my-webapp", "my-app", NEED)
    quiet(gh)
    actions.refuse_webapp_source(gh, member(gh, "dave"), asked.id or 0, "The court dashboard's source serves it.")


CASES: list[tuple[Callable[[Gatehouse], None], dict[str, list[str]]]] = [
    (grant, {"carol": [f"You have read only access to {PRICING}"]}),
    (change, {"carol": [f"bob changed your access to {PRICING}: read/write"]}),
    (revoke, {"alice": [f"bob revoked your access to {SALES}"]}),
    (review_revoke, {"alice": [f"bob revoked your access to /published of {SALES}"]}),
    (review_give_up, {"bob": [f"alice no longer needs their access to {SALES}"]}),
    (give_up, {"bob": [f"alice gave up their access to {SALES}"]}),
    (expiry, {"carol": [f"Your access to {PRICING} has ended"]}),
    # alice has left: the admins of what she held hear it, and bob's message about her request says it is closed
    (
        leaver,
        {
            "bob": ["Refused by dave: alice has left.", f"alice has left: their access to {SALES}"],
            "carol": ["alice has left: their access to alpha-shared-workspace"],
        },
    ),
    (approve, {"alice": ["bob approved your request: you have read/write access"], "carol": ["Approved by bob"]}),
    (
        approve_less,
        {
            "alice": [
                "bob approved less than you asked. You asked for read/write access to alpha-pricing-models (/reports); "
                "you have read only access to alpha-pricing-models (/reports).\nWhy: Reading is enough for a review."
            ],
            "carol": ["Approved by bob"],
        },
    ),
    (
        refuse,
        {
            "alice": ["carol refused your request for access to alpha-pricing-models: The published extract"],
            "bob": ["Refused by carol: The published extract has what you need."],
        },
    ),
    (withdraw, {"bob": ["Withdrawn by alice"], "carol": ["Withdrawn by alice"]}),
    (
        confirm,
        {
            "alice": [f"carol, your line manager, confirmed your request for access to {ORPHAN}"],
            "dave": ["Confirmed by carol: waiting for the platform team"],
        },
    ),
    (grant_confirmed, {"alice": ["dave approved your request"], "carol": ["Approved by dave"]}),
    (
        archive,
        {
            "alice": [f"bob archived {SALES}: your access to it has ended"],
            "carol": [f"bob archived {SALES}: your request for access to it is refused"],
        },
    ),
    (webapp_created, {"alice": ["Your webapp data source alpha-my-webapp was created"]}),
    (webapp_refused, {"alice": ["Your webapp data source alpha-my-webapp was refused"]}),
]


@pytest.mark.parametrize(("change", "expected"), CASES, ids=[case.__name__ for case, _ in CASES])
def test_every_change_reaches_who_it_concerns_once(
    gatehouse: Gatehouse, change: Callable[[Gatehouse], None], expected: dict[str, list[str]]
) -> None:
    change(gatehouse)
    heard = told(gatehouse)
    assert sorted(heard) == sorted(expected), heard
    for name, phrases in expected.items():
        assert len(heard[name]) == len(phrases), heard[name]
        for phrase in phrases:
            assert any(phrase in message for message in heard[name]), (phrase, heard[name])
    said_well(gatehouse, heard)


# What people read names things as they know them (issue #25 §16): a request by what it asked, a review by its due
# date, never a number from the database; a day one way (30 Jun 2027), never 2027-06-30; and its reader as "you".
INTERNAL_ID = re.compile(r"(?i)\b(request|review|campaign|grant|item|user|source)s? (number |no\.? ?|#)?\d+\b|#\d+")
ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def said_well(gh: Gatehouse, heard: dict[str, list[str]]) -> None:
    with gh.session() as session:
        summaries = list(session.exec(select(AuditEvent.summary)))
    for text in [*summaries, *(m for messages in heard.values() for m in messages)]:
        assert not INTERNAL_ID.search(text) and not ISO_DAY.search(text), text
    for name, messages in heard.items():
        for message in messages:
            assert not re.search(rf"\b{name}(\b is\b|\b has\b|\b was\b|'s\b)", message), (name, message)
