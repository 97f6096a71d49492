"""Questions before deciding on the pages (issue #29): the decision card offers Ask a question beside Approve and
Refuse; the requester sees "needs your answer" with the question, answers it, and the admin's card then shows the
thread, as text."""

from __future__ import annotations

from core import actions
from core.context import Gatehouse
from core.domain import RequestStatus
from core.queries import get_user
from tests.app.test_deciding import drawn, tab
from tests.app.test_journeys import ask, go, messages, open_tab, requests_of, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)

QUESTION = "Which **quarter** do you need? See [this](https://example.org)"
ANSWER = "Q3 only: _the_ finance committee's review."


def open_ask(at, request_id):  # type: ignore[no-untyped-def]
    at.session_state[f"decision-{request_id}"] = "Ask a question"
    at.run()
    assert not at.exception, at.exception
    return at


def test_bob_asks_alice_answers_and_bobs_card_shows_the_thread(app_env: Gatehouse) -> None:  # noqa: F811
    ask(sign_in("alice"), "alpha-pricing-models", "/reports")
    [request] = requests_of(app_env, "alice")

    bob = go(sign_in("bob"), "pages/admin.py")
    assert [t.label for t in bob.tabs if t.label in ("Approve", "Refuse", "Ask a question")] == [
        "Approve",
        "Refuse",
        "Ask a question",
    ]
    assert list(drawn(tab(bob, "Ask a question"))) == []  # built once its tab is opened
    open_ask(bob, request.id)
    assert [label for _, label in drawn(tab(bob, "Ask a question"))] == ["Your question", "Ask"]
    widget(bob, "button", "Ask").click()  # empty: refused under the form, nothing changes
    bob.run()
    assert ("error", "Type the question the requester is to answer.") in list(drawn(tab(bob, "Ask a question")))
    assert requests_of(app_env, "alice")[0].status == RequestStatus.PENDING_ADMIN
    widget(bob, "text_area", "Your question").input(QUESTION)
    widget(bob, "button", "Ask").click()
    bob.run()
    assert not bob.exception, bob.exception
    assert "Asked alice: the request waits for their answer." in messages(bob)
    assert any(
        c.value.startswith("Waiting for an answer to your question: alice's request for alpha-pricing-models")
        for c in bob.caption
    ), [c.value for c in bob.caption]
    assert requests_of(app_env, "alice")[0].status == RequestStatus.PENDING_ANSWER

    alice = go(sign_in("alice"), "pages/inbox.py")
    assert "**Needs your answer**" in [m.value for m in alice.markdown]  # her message says where it stands
    # and where she answers it: one line on the Inbox, the question and its form under My requests
    assert any("waits for your answer: answer under Request access" in str(e.proto) for e in alice.get("page_link"))
    alice = open_tab(go(alice, "pages/request_access.py"), "My requests")
    assert any(m.value.startswith("**Needs your answer**") for m in alice.markdown)
    assert QUESTION in [t.value for t in alice.text]  # as typed: no bold, no link
    widget(alice, "text_area", "Your answer").input(ANSWER)
    widget(alice, "button", "Send answer").click()
    alice.run()
    assert not alice.exception, alice.exception
    assert "Answer sent: your request for alpha-pricing-models waits for bob's decision again." in messages(alice)
    assert not any(m.value.startswith("**Needs your answer** ·") for m in alice.markdown)
    assert requests_of(app_env, "alice")[0].status == RequestStatus.PENDING_ADMIN

    bob = go(bob, "pages/admin.py")
    assert f"bob asked: {QUESTION}\nAnswer: {ANSWER}" in [t.value for t in bob.text]
    assert "**Questions and answers**" in [m.value for m in bob.markdown]


def test_my_requests_says_needs_your_answer_and_answers_there(app_env: Gatehouse) -> None:  # noqa: F811
    ask(sign_in("alice"), "alpha-pricing-models")
    [request] = requests_of(app_env, "alice")
    with app_env.session() as session:
        bob = get_user(session, "bob")
    actions.ask_question(app_env, bob, request.id or 0, "Why the whole source?")
    alice = open_tab(go(sign_in("alice"), "pages/request_access.py"), "My requests")
    assert "Why the whole source?" in [t.value for t in alice.text]
    assert any("needs your answer" in c.value for c in alice.caption)
    widget(alice, "text_area", "Your answer").input("The models and the reports both.")
    widget(alice, "button", "Send answer").click()
    alice.run()
    assert not alice.exception, alice.exception
    assert requests_of(app_env, "alice")[0].status == RequestStatus.PENDING_ADMIN
