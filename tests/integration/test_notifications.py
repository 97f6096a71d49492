"""Notifications on SQLite and PostgreSQL: the in-app inbox, and email through a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from core import notify as notify_module
from core.actor import platform_operator
from core.adapters.models import Notification, User, UserStatus, utcnow
from core.context import Gatehouse
from core.notify import NotificationKind, deliver_email, inbox, mark_read, notify
from core.queries import get_user
from core.reads.people import signed_in

pytestmark = pytest.mark.both_databases  # deliveries take turns under SQLite's lock, row locks on PostgreSQL


KIND = NotificationKind.DECISION_MADE
PEOPLE = ("alice", "bob", "carol", "dave")


@pytest.fixture
def gatehouse(bare_gatehouse: Gatehouse) -> Gatehouse:
    """The started app with four people and one leaver (erin), and no sources: notifications need no access, and
    starting without the demo sources keeps this file fast on both databases."""
    with bare_gatehouse.session() as session:
        session.add_all(User(username=name, email=f"{name}@example.org") for name in PEOPLE)
        session.add(User(username="erin", email="erin@example.org", status=UserStatus.LEFT, left_at=utcnow()))
    return bare_gatehouse


@dataclass
class Mailbox:
    """An SMTP handler that keeps what it receives, and refuses the addresses it is told to."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    delay: float = 0.0  # seconds per message: lets two deliveries overlap

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def mail_server(port: int) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def use_smtp(gatehouse: Gatehouse, port: int) -> None:
    gatehouse.settings.smtp_host = "127.0.0.1"
    gatehouse.settings.smtp_port = port
    gatehouse.settings.smtp_starttls = False


def tell(gatehouse: Gatehouse, usernames: list[str], subject: str = "Your request was approved") -> list[int]:
    with gatehouse.session() as session:
        users = [get_user(session, name) for name in usernames]
        added = notify(session, users, KIND, subject, f"{subject}. Nothing else to do.")
        session.flush()
        return [n.id for n in added if n.id is not None]


def emails_in_database(gatehouse: Gatehouse) -> list[Notification]:
    with gatehouse.session() as session:
        return list(session.exec(select(Notification).order_by(Notification.id)).all())


def test_inbox_shows_new_notifications_first_and_only_their_owner_marks_them_read(gatehouse: Gatehouse) -> None:
    tell(gatehouse, ["alice"], "First")
    # alice twice in the list: told once; erin has left and an operator outside the app has no inbox: not told
    with gatehouse.session() as session:
        users = [get_user(session, name) for name in ("alice", "bob", "alice", "erin")]
        added = notify(session, [*users, platform_operator("test")], KIND, "Second", "Second. Nothing else to do.")
        assert [n.user_id for n in added] == [users[0].id, users[1].id]
    with gatehouse.session() as session:
        alice, bob = get_user(session, "alice"), get_user(session, "bob")
        page = inbox(session, alice, limit=1)
        assert [n.subject for n in page.items] == ["Second"] and page.total == 2
        assert [n.subject for n in inbox(session, alice, offset=1).items] == ["First"]
        assert signed_in(session, alice.username).unread == 2 and signed_in(session, bob.username).unread == 1

        assert mark_read(session, bob, [n.id for n in inbox(session, alice).items if n.id]) == 0
        assert signed_in(session, alice.username).unread == 2  # bob cannot mark alice's notifications
        assert mark_read(session, alice, [page.items[0].id or 0]) == 1
        assert signed_in(session, alice.username).unread == 1
        assert mark_read(session, alice) == 1
        assert mark_read(session, alice) == 0
        assert signed_in(session, alice.username).unread == 0 and signed_in(session, bob.username).unread == 1
        assert inbox(session, alice).total == 2  # read, not gone
        assert inbox(session, get_user(session, "erin")).total == 0


def test_a_decision_rolled_back_leaves_no_notification(gatehouse: Gatehouse) -> None:
    with pytest.raises(RuntimeError), gatehouse.session() as session:
        notify(session, [get_user(session, "bob")], NotificationKind.REQUEST_TO_DECIDE, "To decide", "Please.")
        raise RuntimeError("the decision failed")
    assert emails_in_database(gatehouse) == []


def test_each_notification_is_emailed_once_to_its_owner(gatehouse: Gatehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify_module, "BATCH_SIZE", 2)  # five notifications: three batches
    tell(gatehouse, ["alice", "bob", "carol"], "Access to alpha-sales-analysis approved")
    tell(gatehouse, ["alice", "dave"], "Access to alpha-pricing-models ends soon")
    unconfigured = deliver_email(gatehouse)
    assert (unconfigured.sent, unconfigured.failed) == (0, 0)
    assert unconfigured.skipped_reason and "SMTP" in unconfigured.skipped_reason

    port = free_port()
    use_smtp(gatehouse, port)
    with mail_server(port) as mailbox:
        report = deliver_email(gatehouse)
        assert (report.sent, report.failed, report.skipped_reason) == (5, 0, None)
        assert deliver_email(gatehouse).sent == 0

    received = sorted((str(m["To"]), str(m["Subject"])) for m in mailbox.messages)
    assert received == [
        ("alice@example.org", "Access to alpha-pricing-models ends soon"),
        ("alice@example.org", "Access to alpha-sales-analysis approved"),
        ("bob@example.org", "Access to alpha-sales-analysis approved"),
        ("carol@example.org", "Access to alpha-sales-analysis approved"),
        ("dave@example.org", "Access to alpha-pricing-models ends soon"),
    ]
    for message in mailbox.messages:
        assert message["From"] == gatehouse.settings.smtp_from
        text = message.get_content()
        assert str(message["Subject"]) in text and gatehouse.settings.app_url in text
    assert all(n.emailed_at and not n.email_error for n in emails_in_database(gatehouse))


def test_mail_server_down_delays_the_email_and_loses_nothing(gatehouse: Gatehouse) -> None:
    tell(gatehouse, ["alice", "bob"])
    port = free_port()  # nothing listens there until the server starts below
    use_smtp(gatehouse, port)

    report = deliver_email(gatehouse)
    assert (report.sent, report.failed) == (0, 2)
    stored = emails_in_database(gatehouse)
    assert all(n.emailed_at is None and n.email_error for n in stored)
    with gatehouse.session() as session:
        assert signed_in(session, "alice").unread == 1

    with mail_server(port) as mailbox:
        assert deliver_email(gatehouse).sent == 2
    assert sorted(str(m["To"]) for m in mailbox.messages) == ["alice@example.org", "bob@example.org"]
    assert all(n.emailed_at and n.email_error is None for n in emails_in_database(gatehouse))


def test_an_address_the_server_refuses_is_given_up_after_five_tries(gatehouse: Gatehouse) -> None:
    tell(gatehouse, ["alice", "bob"])  # before SMTP is set up: only the deliveries below send
    port = free_port()
    use_smtp(gatehouse, port)
    with mail_server(port) as mailbox:
        mailbox.refuse.add("bob@example.org")
        reports = [deliver_email(gatehouse) for _ in range(notify_module.MAX_REFUSALS + 1)]
    assert [(r.sent, r.failed) for r in reports] == [(1, 1), (0, 1), (0, 1), (0, 1), (0, 1), (0, 0)]
    assert [str(m["To"]) for m in mailbox.messages] == ["alice@example.org"]
    refused = emails_in_database(gatehouse)[1]
    assert refused.emailed_at is None and refused.email_error == "(5/5) 550 5.1.1 No such user here"


def test_two_deliveries_at_once_send_each_email_once(gatehouse: Gatehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify_module, "BATCH_SIZE", 2)
    tell(gatehouse, ["alice", "bob", "carol", "dave"], "First")
    tell(gatehouse, ["alice", "bob"], "Second")
    port = free_port()
    use_smtp(gatehouse, port)
    with mail_server(port) as mailbox, ThreadPoolExecutor(2) as pool:
        mailbox.delay = 0.02
        reports = list(pool.map(lambda _: deliver_email(gatehouse), range(2)))
    assert sum(r.sent for r in reports) == 6 and sum(r.failed for r in reports) == 0
    assert len(mailbox.messages) == len({(str(m["To"]), str(m["Subject"])) for m in mailbox.messages}) == 6
