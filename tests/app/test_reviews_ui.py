"""Access reviews on the real pages (AppTest): dave starts one on Platform → Reviews, bob keeps, lowers and revokes on
Admin → Review access, alice says on her Inbox that she no longer needs her access, and the report shows it."""

from __future__ import annotations

from datetime import timedelta

from streamlit.testing.v1 import AppTest

from core import actions
from core.adapters.models import utcnow
from core.context import Gatehouse
from core.domain import AccessLevel, day
from core.queries import get_user
from core.reads import reviews
from tests.app.test_journeys import go, messages, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)

SALES = "alpha-sales-analysis"


def section(at: AppTest, key: str, label: str) -> AppTest:
    at.session_state[key] = label  # a lazy tab's click (AppTest has none)
    at.run()
    assert not at.exception, at.exception
    return at


def test_dave_starts_bob_reviews_alice_answers(app_env: Gatehouse) -> None:  # noqa: F811
    gh = app_env
    with gh.session() as session:
        bob_user = get_user(session, "bob")
    actions.grant_access(gh, bob_user, SALES, ["carol"], AccessLevel.READ_WRITE)
    actions.grant_access(gh, bob_user, SALES, ["dave"], AccessLevel.READ_ONLY, "/published")

    dave = section(go(sign_in("dave"), "pages/platform.py"), "platform-tab", "Reviews")
    widget(dave, "multiselect", "Sources (none: every source)").select(SALES)
    due = utcnow().date() + timedelta(days=10)
    widget(dave, "date_input", "Due date").set_value(due)
    widget(dave, "button", "Start review").click().run()
    assert f"Started the access review due {day(due)}: 4 grants of 4 people." in messages(dave)

    bob = section(go(sign_in("bob"), "pages/admin.py"), "admin-section", "Review access")
    assert [p.value for p in bob.get("progress")] != []
    assert widget(bob, "selectbox", "Review").value is None  # several to review: no grant's card until one is chosen
    assert not [b for b in bob.button if b.label == "Keep"]
    widget(bob, "selectbox", "Review").select_index(1)  # carol: read/write on the whole source (alice first)
    bob.run()
    assert not [w for w in bob.selectbox if w.label == "Level"]  # the change's fields wait for Change…
    widget(bob, "button", "Change…").click().run()
    widget(bob, "selectbox", "Level").set_value(AccessLevel.READ_ONLY)
    widget(bob, "button", "Save change").click().run()
    assert "Lowered carol's access." in messages(bob), messages(bob)
    chosen = widget(bob, "selectbox", "Review")  # the next still to review is chosen: dave's, after carol's
    assert chosen.format_func(chosen.value) == f"dave: read only on /published of {SALES}"
    widget(bob, "button", "Keep").click().run()
    assert "Kept dave's access." in messages(bob), messages(bob)
    widget(bob, "button", "Revoke…").click().run()  # alice's, the one left: asks first, and Cancel changes nothing
    assert widget(bob, "button", "Revoke alice's access")
    widget(bob, "button", "Cancel").click().run()
    assert {"Keep", "Change…", "Revoke…"} <= {b.label for b in bob.button}
    assert "2 of 3 reviewed" in [p.proto.text for p in bob.get("progress")]

    alice = go(sign_in("alice"), "pages/inbox.py")
    assert [s.value for s in alice.subheader] == ["Do you still need this access?"]
    widget(alice, "button", "No longer needed").click().run()  # asks first: it ends her access at once
    asked = "\n".join([m.value for m in alice.markdown] + [t.value for t in alice.text])
    assert f"End your access to {SALES}?" in asked.replace("\\", "") and "ends now, in AWS too." in asked
    widget(alice, "button", "End my access").click().run()
    assert f"Your access to {SALES} is revoked." in messages(alice), messages(alice)

    bob = go(bob, "pages/admin.py")
    assert "3 of 3 reviewed" in [p.proto.text for p in bob.get("progress")], [p.proto for p in bob.get("progress")]

    dave = section(go(dave, "pages/platform.py"), "platform-tab", "Reviews")
    report = gh.run(reviews.report, get_user_row(gh, "dave"), 1)
    decisions = {r["holder"]: r["decision"] for r in report.items}
    assert decisions == {"alice": "Revoked", "bob": "Not reviewed yet", "carol": "Lowered", "dave": "Kept"}
    assert any(b.label == "Download the report (CSV)" for b in dave.get("download_button"))


def get_user_row(gh: Gatehouse, name: str):  # type: ignore[no-untyped-def]
    with gh.session() as session:
        return get_user(session, name)
