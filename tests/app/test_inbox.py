"""The inbox page shows where a request a decider was asked about stands now: a withdrawn request says so."""

from __future__ import annotations

from core import actions
from core.context import Gatehouse
from core.domain import AccessLevel
from core.queries import get_user
from tests.app.test_journeys import NEED, go
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)


def test_bobs_message_about_a_withdrawn_request_says_it_is_withdrawn(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        alice = get_user(session, "alice")
    asked = actions.request_access(app_env, alice, "alpha-pricing-models", AccessLevel.READ_ONLY, None, NEED)
    bob = go(sign_in("bob"), "pages/inbox.py")
    shown = [m.value for m in bob.markdown]
    assert "**Waiting for a decision**" in shown, shown
    actions.withdraw_request(app_env, alice, asked.id or 0)
    bob = go(bob, "pages/inbox.py")
    [message] = [e for e in bob.expander if "alice asks for access to alpha-pricing-models" in e.label]
    assert ":blue-badge[new]" in message.label  # read before, new again now that the request moved on
    assert "**Withdrawn by alice**" in [m.value for m in message.markdown]
    assert "**Waiting for a decision**" not in [m.value for m in bob.markdown]
