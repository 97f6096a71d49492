"""The inbox page shows where a request a decider was asked about stands now: a withdrawn request says so; an access
review's question is asked until it is answered, and its message then says it is done."""

from __future__ import annotations

from datetime import timedelta

from core import actions
from core.adapters.models import utcnow
from core.context import Gatehouse
from core.domain import AccessLevel
from core.queries import get_user
from core.reads.reviews import QUESTION_DONE
from tests.app.test_journeys import NEED, go, widget
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


def test_the_review_question_is_asked_until_answered_then_its_message_says_it_is_done(app_env: Gatehouse) -> None:  # noqa: F811
    """The question once stayed on the Inbox, buttons and all, after alice had answered it."""
    with app_env.session() as session:
        dave = get_user(session, "dave")
    actions.start_review(app_env, dave, utcnow().date() + timedelta(days=14), ["alpha-sales-analysis"])
    alice = go(sign_in("alice"), "pages/inbox.py")
    assert "Do you still need this access?" in [s.value for s in alice.subheader]
    [message] = [e for e in alice.expander if "Do you still need your access?" in e.label]
    assert QUESTION_DONE not in str([m.value for m in message.markdown])
    widget(alice, "button", "Yes, still needed").click()
    alice.run()
    assert not alice.exception, alice.exception
    assert "Do you still need this access?" not in [s.value for s in alice.subheader]
    assert not [b for b in alice.button if b.label in ("Yes, still needed", "No longer needed")]
    [message] = [e for e in alice.expander if "Do you still need your access?" in e.label]
    assert f"**{QUESTION_DONE}**" in [m.value for m in message.markdown]
