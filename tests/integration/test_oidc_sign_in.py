"""Sign-in through the identity provider (issues #15, #24), in core: the identity (iss, sub) bound to one member at
its first sign-in through the username claim (validated, never cleaned; an email only when verified), found by it
alone from then on; refusals (no member, a leaver, another identity, a bad claim) on record; the platform team's
group, from fresh claims only; and asking to join."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from core import actions, auth
from core.adapters.models import AuditEvent, Notification, User, utcnow
from core.adapters.sign_in_models import JoinRequest
from core.context import Gatehouse
from core.domain import InvalidInput, NotAllowed
from core.reads.join_requests import open_join_requests, suggested_username


def member(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return session.exec(select(User).where(User.username == name)).one()


def events(gatehouse: Gatehouse, action: str) -> list[AuditEvent]:
    with gatehouse.session() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


ISSUER = "https://idp.example.org"


def sign_in(gatehouse: Gatehouse, **claims: object) -> auth.OidcSignIn:
    """A sign-in with these claims; by default from ISSUER, a `sub` of its own for each name, issued just now."""
    named = claims.get(gatehouse.settings.oidc_username_claim)
    token = {"iss": ISSUER, "sub": f"sub-{named}", "iat": int(utcnow().timestamp()), "is_logged_in": True}
    return gatehouse.run(auth.record_oidc_sign_in, gatehouse.settings, {**token, **claims})


def test_a_member_named_by_the_claim_signs_in_and_it_is_on_record(gatehouse: Gatehouse) -> None:
    assert sign_in(gatehouse, preferred_username="Alice", sub="a-1") == auth.OidcSignIn("alice")  # ASCII folded
    [event] = events(gatehouse, "sign-in")
    assert (event.actor, event.details) == ("alice", {"method": "oidc"})
    alice = member(gatehouse, "alice")
    assert alice.last_sign_in_at is not None and (alice.oidc_issuer, alice.oidc_subject) == (ISSUER, "a-1")
    [linked] = events(gatehouse, "identity-linked")
    assert (linked.subject, linked.details["sub"], linked.details["issuer"]) == ("alice", "a-1", ISSUER)


def test_once_bound_the_member_is_found_by_the_identity_alone(gatehouse: Gatehouse) -> None:
    assert sign_in(gatehouse, preferred_username="alice", sub="a-1").username == "alice"
    # the provider renamed her, or the claim names someone else now: the identity still means alice
    assert sign_in(gatehouse, preferred_username="dave", sub="a-1").username == "alice"
    assert sign_in(gatehouse, sub="a-1").username == "alice"  # no username claim at all
    assert len(events(gatehouse, "identity-linked")) == 1


@pytest.mark.parametrize("other", [{"sub": "attacker-123"}, {"sub": "a-1", "iss": "https://evil.example"}])
def test_another_identity_claiming_a_bound_members_name_is_refused(gatehouse: Gatehouse, other: dict[str, str]) -> None:
    """Two different subs (one from another issuer) with preferred_username alice used both to sign in as alice."""
    assert sign_in(gatehouse, preferred_username="alice", sub="a-1").username == "alice"
    outcome = sign_in(gatehouse, preferred_username="alice", **other)
    assert outcome == auth.OidcSignIn(None, auth.ANOTHER_IDENTITY)
    [refused] = events(gatehouse, "sign-in-refused")
    assert refused.actor == "alice" and refused.details["sub"] == other["sub"]
    assert "linked to another identity" in refused.summary
    assert (member(gatehouse, "alice").oidc_issuer, member(gatehouse, "alice").oidc_subject) == (ISSUER, "a-1")
    assert [e.actor for e in events(gatehouse, "sign-in")] == ["alice"]


def test_an_unverified_email_claim_names_nobody(gatehouse: Gatehouse) -> None:
    """{"sub": "attacker-123", "email": "alice@example.org", "email_verified": false} used to sign in as alice."""
    gatehouse.settings.oidc_username_claim = "email"
    for verified in ({"email_verified": False}, {}, {"email_verified": "false"}):
        outcome = sign_in(gatehouse, sub="attacker-123", email="alice@example.org", **verified)
        assert outcome == auth.OidcSignIn(None, auth.EMAIL_NOT_VERIFIED)
    refused = events(gatehouse, "sign-in-refused")
    assert len(refused) == 3 and all(e.details["sub"] == "attacker-123" for e in refused)
    assert member(gatehouse, "alice").oidc_subject is None and events(gatehouse, "sign-in") == []


def test_a_verified_email_is_matched_to_the_members_email(gatehouse: Gatehouse) -> None:
    gatehouse.settings.oidc_username_claim = "email"
    assert sign_in(gatehouse, email="Bob@Example.org", email_verified=True).username == "bob"
    assert sign_in(gatehouse, email="carol@example.org", email_verified="true").username == "carol"  # Cognito


@pytest.mark.parametrize(
    ("claimed", "named"),
    [("da\u200bve", "U+200B"), ("\ufeffdave", "U+FEFF"), ("\u212aate", "U+212A"), ("dave ", "spaces around it")],
)
def test_a_claim_a_normalisation_would_change_is_refused_not_cleaned(
    gatehouse: Gatehouse, claimed: str, named: str
) -> None:
    """Invisible characters used to be deleted before matching (dave, the platform team) and .lower() made the
    Kelvin sign a k (kate)."""
    with gatehouse.session() as session:  # kate exists: the Kelvin sign must not reach her either
        session.add(User(username="kate", email="kate@example.org"))
    outcome = sign_in(gatehouse, preferred_username=claimed)
    assert outcome.username is None and not outcome.may_ask_to_join
    assert named in (outcome.refusal or "") and "preferred_username" in (outcome.refusal or "")
    [refused] = events(gatehouse, "sign-in-refused")
    assert named in refused.summary and refused.actor.startswith("oidc:")
    assert refused.actor.strip() not in ("oidc:dave", "oidc:kate")  # the trail never reads as if dave tried
    assert events(gatehouse, "sign-in") == [] and events(gatehouse, "identity-linked") == []


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


@pytest.mark.parametrize("missing", ["iss", "sub"])
def test_no_identity_is_refused(gatehouse: Gatehouse, missing: str) -> None:
    outcome = sign_in(gatehouse, preferred_username="alice", **{missing: ""})
    assert outcome == auth.OidcSignIn(None, auth.NO_IDENTITY)
    assert len(events(gatehouse, "sign-in-refused")) == 1 and member(gatehouse, "alice").oidc_subject is None


def test_claims_older_than_the_providers_session_do_not_make_anyone_platform_team(gatehouse: Gatehouse) -> None:
    """Streamlit's identity cookie keeps the claims 30 days: removed from the group at the provider since, dave is
    not platform team on the strength of the old ones; he is told to sign in again."""
    gatehouse.settings.oidc_platform_group = "platform-team"
    old = int((utcnow() - timedelta(minutes=gatehouse.settings.oidc_groups_max_age_minutes + 1)).timestamp())
    outcome = sign_in(gatehouse, preferred_username="dave", groups=["platform-team"], iat=old)
    assert outcome.username == "dave" and "sign in again" in (outcome.note or "")
    assert not member(gatehouse, "dave").is_platform_admin
    [changed] = events(gatehouse, "platform-team-changed")
    assert changed.summary == "dave left the platform team (the identity provider's claims are too old to say)"
    assert sign_in(gatehouse, preferred_username="dave", groups=["platform-team"]).note is None  # fresh: back
    assert member(gatehouse, "dave").is_platform_admin
    assert sign_in(gatehouse, preferred_username="dave", groups=["platform-team"], iat="soon").note is not None
    assert not member(gatehouse, "dave").is_platform_admin  # no usable iat: not fresh


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
    claims = {
        "iss": ISSUER,
        "sub": "f-1",
        "preferred_username": "Frank",
        "email": "frank@example.org",
        "name": "Frank <b>Green</b>",
    }
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

    actions.add_user(gatehouse, dave, row.username, row.email, display_name=row.display_name, join_request=row.id)
    assert gatehouse.run(open_join_requests, dave).items == []
    with gatehouse.session() as session:
        closed = session.exec(select(JoinRequest)).one()
    assert (closed.outcome, closed.closed_by) == ("added", "dave")
    frank = member(gatehouse, "frank")
    assert (frank.oidc_issuer, frank.oidc_subject) == (ISSUER, "f-1")  # bound to the identity that asked
    assert sign_in(gatehouse, preferred_username="frank", sub="f-1").username == "frank"
    assert sign_in(gatehouse, preferred_username="frank", sub="f-2").refusal == auth.ANOTHER_IDENTITY
    with pytest.raises(InvalidInput, match="already known"):
        actions.ask_to_join(gatehouse, claims)


def test_a_second_identity_asking_under_the_same_name_is_a_request_of_its_own(gatehouse: Gatehouse) -> None:
    """Whoever asked first does not take the name: the platform team sees both, and adds the one they mean."""
    actions.ask_to_join(gatehouse, {"iss": ISSUER, "sub": "evil", "preferred_username": "frank"})
    actions.ask_to_join(gatehouse, {"iss": ISSUER, "sub": "f-1", "preferred_username": "frank"})
    dave = member(gatehouse, "dave")
    rows = gatehouse.run(open_join_requests, dave).items
    assert [r.identity for r in rows] == ["frank", "frank"]
    actions.add_user(gatehouse, dave, "frank", "frank@example.org", join_request=rows[1].id)
    assert sign_in(gatehouse, preferred_username="frank", sub="f-1").username == "frank"
    assert sign_in(gatehouse, preferred_username="frank", sub="evil").refusal == auth.ANOTHER_IDENTITY


def test_the_platform_team_may_dismiss_a_request_to_join(gatehouse: Gatehouse) -> None:
    actions.ask_to_join(gatehouse, {"iss": ISSUER, "sub": "m-1", "preferred_username": "mallory@evil.example"})
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
