"""A joiner added in password mode gets a one-time link that sets their password (issue #25): shown once, emailed
when SMTP is set up, kept only as a hash, single use, expiring, replaced by a newer one; none with OIDC."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import col, select

from core import actions, auth
from core.actions import sign_in_link
from core.actions.sign_in_link import QUERY_PARAMETER
from core.actor import platform_operator
from core.adapters.models import AuditEvent, User, utcnow
from core.context import Gatehouse
from core.domain import InvalidInput, NotAllowed
from tests.integration.test_notifications import free_port, mail_server, use_smtp

OPERATOR = platform_operator("ops")
PASSWORD = "a long enough password"


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)[QUERY_PARAMETER][0]


def row(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return session.exec(select(User).where(User.username == name)).one()


def signs_in(gatehouse: Gatehouse, name: str, password: str) -> bool:
    return gatehouse.run(auth.password_sign_in, gatehouse.settings, "127.0.0.9", name, password).username == name


def audited(gatehouse: Gatehouse, action: str) -> list[str]:
    with gatehouse.session() as session:
        found = session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id)))
        return [event.summary for event in found]


def test_a_joiner_sets_their_password_once_with_the_link_shown_once(gatehouse: Gatehouse) -> None:
    joiner = actions.add_user(gatehouse, OPERATOR, "frank", "frank@example.org")
    link = joiner.sign_in_link
    assert link is not None and link.url.startswith(f"{gatehouse.settings.app_url}/?{QUERY_PARAMETER}=")
    assert link.emailed_to is None and link.email_error is None  # no SMTP: the platform team passes it on
    token = token_of(link.url)
    stored = row(gatehouse, "frank")
    assert stored.password_hash is None and not signs_in(gatehouse, "frank", PASSWORD)
    assert stored.sign_in_link_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert stored.sign_in_link_expires_at is not None
    assert audited(gatehouse, "sign-in-link-made") == [
        "cli:ops made a one-time link for frank to set their password, usable for 72 hours"
    ]

    assert gatehouse.run(sign_in_link.link_holder, token) == "frank"
    assert gatehouse.run(sign_in_link.set_password_from_link, token, PASSWORD, PASSWORD) == "frank"
    assert signs_in(gatehouse, "frank", PASSWORD)
    assert audited(gatehouse, "password-set") == ["frank set their password with a one-time link"]

    with pytest.raises(InvalidInput) as used:
        gatehouse.run(sign_in_link.set_password_from_link, token, "another long password", "another long password")
    assert str(used.value) == sign_in_link.LINK_UNKNOWN
    assert signs_in(gatehouse, "frank", PASSWORD)  # the second use changed nothing


@pytest.mark.parametrize(
    ("password", "again", "sentence"),
    [
        ("short", "short", "The password needs at least 12 characters."),
        ("é" * 40, "é" * 40, "The password can be at most 72 bytes long (fewer accented letters)."),
        (PASSWORD, PASSWORD + "!", "The two passwords differ: type the same password in both boxes."),
    ],
)
def test_a_password_refused_leaves_the_link_usable(
    bare_gatehouse: Gatehouse, password: str, again: str, sentence: str
) -> None:
    link = actions.add_user(bare_gatehouse, OPERATOR, "frank", "frank@example.org").sign_in_link
    assert link is not None
    with pytest.raises(InvalidInput) as refused:
        bare_gatehouse.run(sign_in_link.set_password_from_link, token_of(link.url), password, again)
    assert str(refused.value) == sentence
    assert bare_gatehouse.run(sign_in_link.set_password_from_link, token_of(link.url), PASSWORD, PASSWORD) == "frank"


def test_an_expired_link_is_refused(gatehouse: Gatehouse) -> None:
    link = actions.add_user(gatehouse, OPERATOR, "frank", "frank@example.org").sign_in_link
    assert link is not None
    later = utcnow() + timedelta(hours=gatehouse.settings.sign_in_link_hours, seconds=1)
    with pytest.raises(InvalidInput) as expired:
        gatehouse.run(sign_in_link.set_password_from_link, token_of(link.url), PASSWORD, PASSWORD, later)
    assert str(expired.value) == sign_in_link.LINK_EXPIRED
    assert row(gatehouse, "frank").password_hash is None


def test_a_new_link_replaces_the_old_one_even_for_a_member_with_a_password(gatehouse: Gatehouse) -> None:
    first = actions.new_sign_in_link(gatehouse, OPERATOR, "alice")  # forgot the demo password
    second = actions.new_sign_in_link(gatehouse, OPERATOR, "alice")
    with pytest.raises(InvalidInput) as replaced:
        gatehouse.run(sign_in_link.link_holder, token_of(first.url))
    assert str(replaced.value) == sign_in_link.LINK_UNKNOWN
    assert gatehouse.run(sign_in_link.set_password_from_link, token_of(second.url), PASSWORD, PASSWORD) == "alice"
    assert signs_in(gatehouse, "alice", PASSWORD) and not signs_in(gatehouse, "alice", "gatehouse-demo")

    with pytest.raises(NotAllowed):
        actions.new_sign_in_link(gatehouse, row(gatehouse, "alice"), "bob")
    with pytest.raises(InvalidInput, match="erin has left"):
        actions.new_sign_in_link(gatehouse, OPERATOR, "erin")


def test_the_link_is_emailed_to_the_joiner_when_smtp_is_set_up(bare_gatehouse: Gatehouse) -> None:
    port = free_port()
    use_smtp(bare_gatehouse, port)
    with mail_server(port) as mailbox:
        link = actions.add_user(bare_gatehouse, OPERATOR, "frank", "frank@example.org").sign_in_link
    assert link is not None and link.emailed_to == "frank@example.org"
    [message] = mailbox.messages
    assert message["To"] == "frank@example.org" and link.url in message.get_content()
    assert link.url not in str(audited(bare_gatehouse, "sign-in-link-made"))


def test_with_the_identity_provider_no_link_is_made(gatehouse: Gatehouse) -> None:
    gatehouse.settings.sign_in = "oidc"
    joiner = actions.add_user(gatehouse, OPERATOR, "frank", "frank@example.org")
    assert joiner.sign_in_link is None and row(gatehouse, "frank").sign_in_link_hash is None
    assert sign_in_link.way_in(gatehouse.settings, None) == (
        "They sign in through the identity provider, so no link is made."
    )
    with pytest.raises(InvalidInput, match="identity provider"):
        actions.new_sign_in_link(gatehouse, OPERATOR, "frank")
