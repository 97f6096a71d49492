"""What follows a commit, and only a commit (core/effects.py): a decision kept is applied in IAM and emailed without
any caller asking; a decision rolled back changes nothing in AWS and tells nobody."""

from __future__ import annotations

import json

import pytest
from sqlmodel import delete, select

from core import access, actions, effects
from core.actor import platform_operator
from core.adapters.models import Grant, RoleSync, SyncState
from core.context import Gatehouse
from core.domain import AccessLevel
from core.notify import NotificationKind, notify
from core.queries import get_user
from tests.integration.test_notifications import free_port, mail_server, use_smtp

OPERATOR = platform_operator("test")
PRICING = "alpha-pricing-models"


def live_buckets(gatehouse: Gatehouse, username: str) -> set[str]:
    """The buckets a member's role names in IAM now (moto), read from the role's policies."""
    live = gatehouse.aws.read_role_policies(f"alpha_user_{username}")
    text = json.dumps([live.inline, *live.managed.values()])
    return {name for name in ("alpha-pricing-models", "alpha-sales-analysis", "alpha-shared-workspace") if name in text}


def test_a_decision_kept_is_in_iam_and_emailed_when_the_action_returns(gatehouse: Gatehouse) -> None:
    assert "alpha-sales-analysis" not in live_buckets(gatehouse, "carol")
    with gatehouse.session() as session:
        address = get_user(session, "carol").email
    port = free_port()
    use_smtp(gatehouse, port)
    with mail_server(port) as mailbox:
        outcome = actions.grant_access(gatehouse, OPERATOR, "alpha-sales-analysis", ["carol"], AccessLevel.READ_ONLY)
        assert outcome.failed == []  # applied: the sentence "Applied in AWS" is true when it is said
        assert "alpha-sales-analysis" in live_buckets(gatehouse, "carol")  # nobody called a sync
        effects.wait_for_background()  # nobody called a delivery either: the commit started it
    assert [str(m["To"]) for m in mailbox.messages] == [address]
    assert "alpha-sales-analysis" in str(mailbox.messages[0]["Subject"])


def test_a_decision_rolled_back_changes_nothing_in_aws_and_tells_nobody(gatehouse: Gatehouse) -> None:
    before = live_buckets(gatehouse, "alice")
    assert before  # alice holds demo access
    port = free_port()
    use_smtp(gatehouse, port)
    with mail_server(port) as mailbox:
        with pytest.raises(RuntimeError), gatehouse.session() as session:
            alice = get_user(session, "alice")
            session.exec(delete(Grant).where(Grant.user_id == alice.id))  # type: ignore[call-overload]
            access.mark_changed(session, [access.user_principal("alpha", alice)])
            notify(session, [alice], NotificationKind.ACCESS_CHANGED, "Your access ended", "All of it.")
            raise RuntimeError("the decision failed before its commit")
        effects.wait_for_background()
    assert effects.applied(session) == []
    assert live_buckets(gatehouse, "alice") == before
    assert mailbox.messages == []
    with gatehouse.session() as session:
        assert session.exec(select(RoleSync.state).where(RoleSync.role_name == "alpha_user_alice")).one() == (
            SyncState.APPLIED
        )
