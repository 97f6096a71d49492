"""Sign-in through the identity provider (issue #15), in core: the claim that names someone matched to a platform
member, refusals (no member, a leaver) on record, the platform team's group, and asking to join."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from core import actions, auth
from core.adapters.models import AuditEvent, JoinRequest, Notification, User
from core.context import Gatehouse
from core.domain import InvalidInput, NotAllowed
from core.reads.join_requests import open_join_requests, suggested_username


def member(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return session.exec(select(User).where(User.username == name)).one()


def events(gatehouse: Gatehouse, action: str) -> list[AuditEvent]:
    with gatehouse.session() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def sign_in(gatehouse: Gatehouse, **claims: object) -> auth.OidcSignIn:
    return gatehouse.run(auth.record_oidc_sign_in, gatehouse.settings, {"sub": "x", "is_logged_in": True, **claims})


def test_a_member_named_by_the_claim_signs_in_and_it_is_on_record(gatehouse: Gatehouse) -> None:
    assert sign_in(gatehouse, preferred_username="Alice ") == auth.OidcSignIn("alice")
    [event] = events(gatehouse, "sign-in")
    assert (event.actor, event.details) == ("alice", {"method": "oidc"})
    assert member(gatehouse, "alice").last_sign_in_at is not None


def test_an_identity_with_an_at_is_matched_to_the_members_email(gatehouse: Gatehouse) -> None:
    gatehouse.settings.oidc_username_claim = "email"
    assert sign_in(gatehouse, email="Bob@Example.org").username == "bob"


def test_another_claim_can_name_the_member(gatehouse: Gatehouse) -> None:
    gatehouse.settings.oidc_username_claim = "nickname"
    assert sign_in(gatehouse, nickname="carol", preferred_username="mallory").username == "carol"


def test_an_identity_that_is_no_member_is_refused_in_one_sentence_and_may_ask_to_join(gatehouse: Gatehouse) -> None:
    outcome = sign_in(gatehouse, preferred_username="mallory", email="mallory@example.org")
    assert outcome == auth.OidcSignIn(None, auth.NOT_A_MEMBER, may_ask_to_join=True)
    assert outcome.refusal == "You are not a member of the platform yet: the platform team adds members."
    [event] = events(gatehouse, "sign-in-refused")
    assert event.actor == "oidc:mallory" and event.subject == "mallory"
    assert events(gatehouse, "sign-in") == []


def test_a_leaver_is_refused_and_it_is_on_record(gatehouse: Gatehouse) -> None:
    outcome = sign_in(gatehouse, preferred_username="erin")
    assert outcome.username is None and not outcome.may_ask_to_join
    assert outcome.refusal == auth.LEFT_THE_PLATFORM
    [event] = events(gatehouse, "sign-in-refused")
    assert event.summary == "erin has left and could not sign in"


def test_no_claim_is_refused(gatehouse: Gatehouse) -> None:
    outcome = sign_in(gatehouse, email="alice@example.org")  # no preferred_username
    assert outcome.username is None and "preferred_username" in (outcome.refusal or "")
    assert len(events(gatehouse, "sign-in-refused")) == 1


def test_the_platform_team_follows_the_providers_group(gatehouse: Gatehouse) -> None:
    gatehouse.settings.oidc_platform_group = "platform-team"
    assert sign_in(gatehouse, preferred_username="alice", groups=["analysts", "platform-team"]).username == "alice"
    assert member(gatehouse, "alice").is_platform_admin
    assert sign_in(gatehouse, preferred_username="dave", groups=["analysts"]).username == "dave"
    assert not member(gatehouse, "dave").is_platform_admin
    assert [e.subject for e in events(gatehouse, "platform-team-changed")] == ["alice", "dave"]
    sign_in(gatehouse, preferred_username="alice", groups=["platform-team"])  # no change: nothing recorded
    assert len(events(gatehouse, "platform-team-changed")) == 2


def test_asking_to_join_reaches_the_platform_team_who_add_the_member(gatehouse: Gatehouse) -> None:
    claims = {"preferred_username": "Frank", "email": "frank@example.org", "name": "Frank <b>Green</b>"}
    asked = actions.ask_to_join(gatehouse, claims)
    assert (asked.identity, asked.already_asked) == ("frank", False)
    assert actions.ask_to_join(gatehouse, claims).already_asked  # one open request an identity
    dave = member(gatehouse, "dave")
    [row] = gatehouse.run(open_join_requests, dave).items
    assert (row.identity, row.email, row.display_name, row.username) == (
        "frank",
        "frank@example.org",
        "Frank <b>Green</b>",
        "frank",
    )
    with gatehouse.session() as session:
        told = session.exec(select(Notification).where(Notification.kind == "join-request")).all()
    assert [n.user_id for n in told] == [dave.id]
    assert [e.actor for e in events(gatehouse, "join-requested")] == ["oidc:frank"]

    actions.add_user(gatehouse, dave, row.username, row.email, display_name=row.display_name)
    assert gatehouse.run(open_join_requests, dave).items == []
    with gatehouse.session() as session:
        closed = session.exec(select(JoinRequest)).one()
    assert (closed.outcome, closed.closed_by) == ("added", "dave")
    assert sign_in(gatehouse, preferred_username="frank").username == "frank"
    with pytest.raises(InvalidInput, match="already known"):
        actions.ask_to_join(gatehouse, claims)


def test_the_platform_team_may_dismiss_a_request_to_join(gatehouse: Gatehouse) -> None:
    actions.ask_to_join(gatehouse, {"preferred_username": "mallory@evil.example"})
    dave, alice = member(gatehouse, "dave"), member(gatehouse, "alice")
    [row] = gatehouse.run(open_join_requests, dave).items
    assert (row.email, row.username) == ("mallory@evil.example", "mallory")
    with pytest.raises(NotAllowed):
        actions.dismiss_join_request(gatehouse, alice, row.id)
    with pytest.raises(NotAllowed):
        gatehouse.run(open_join_requests, alice)
    actions.dismiss_join_request(gatehouse, dave, row.id)
    assert gatehouse.run(open_join_requests, dave).total == 0
    assert [e.actor for e in events(gatehouse, "join-request-dismissed")] == ["dave"]


def test_a_request_to_join_needs_an_identity(gatehouse: Gatehouse) -> None:
    with pytest.raises(NotAllowed):
        actions.ask_to_join(gatehouse, {"email": "x@example.org"})


@pytest.mark.parametrize(
    ("identity", "expected"),
    [("alice", "alice"), ("Alice.Smith@corp.example", "alice-smith"), ("a__b", "a-b"), ("-x-", "x")],
)
def test_a_username_is_suggested_from_the_identity(identity: str, expected: str) -> None:
    assert suggested_username(identity) == expected
