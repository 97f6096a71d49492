"""A page's reads are kept across reruns until the database is written to, by this process or any other: a rerun
with nothing changed asks the database one question (has anything been written?), and a decision made elsewhere shows
at the next rerun."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event
from streamlit.testing.v1 import AppTest

from core import actions, auth
from core.context import Gatehouse
from core.domain import AccessLevel
from core.queries import get_user
from tests.app.test_journeys import go, open_tab, widget
from tests.app.test_sign_in import app_env, page_text, sign_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.both_databases  # a write is seen through the write revision, kept per database


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL every engine of this process runs meanwhile (the app's own engine is made inside AppTest)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def test_a_rerun_with_nothing_written_reads_only_the_revision(app_env: Gatehouse) -> None:  # noqa: F811
    bob = go(sign_in("bob"), "pages/admin.py", "Manage access")
    shown = page_text(bob)
    with statements() as seen:
        bob.run()
    assert page_text(bob) == shown
    assert len(seen) == 1 and "revision" in seen[0], seen


def yours(at: AppTest) -> str:
    """My data's table of the sources one can use (its Access column shows a level; the other table has none)."""
    return next((m.value for m in at.markdown if m.value.startswith("| Data source | Kind | Access")), "")


def test_a_grant_made_by_another_process_shows_at_the_next_rerun(app_env: Gatehouse) -> None:  # noqa: F811
    alice = go(sign_in("alice"), "pages/my_data.py")
    alice.run()  # read from the cache now
    assert "**alpha-pricing-models**" not in yours(alice)
    # app_env is a Gatehouse of its own (its own engine): to the app, another process on the same database
    with app_env.session() as session:
        bob = get_user(session, "bob")
    actions.grant_access(app_env, bob, "alpha-pricing-models", ["alice"], AccessLevel.READ_ONLY)
    alice.run()
    assert "| **alpha-pricing-models** | Warehouse | Read only |" in yours(alice)


def test_an_admin_sees_their_own_change_at_once_and_others_see_it_too(app_env: Gatehouse) -> None:  # noqa: F811
    alice = go(sign_in("alice"), "pages/my_data.py")
    bob = go(sign_in("bob"), "pages/admin.py", "Who has access")
    widget(bob, "selectbox", "Data source").select("alpha-pricing-models")
    bob.run()
    assert "| bob | Admin |" in access_table(bob) and "| alice |" not in access_table(bob)
    open_tab(bob, "Grant access")
    widget(bob, "multiselect", "Users (platform members only)").select("alice")
    widget(bob, "button", "Grant access").click()
    bob.run()
    assert "Granted read only access to alice." in [s.value for s in bob.success]
    open_tab(bob, "Who has access")
    assert "| alice | Read only |" in access_table(bob)
    open_tab(bob, "Edit or revoke")
    assert "alice" in widget(bob, "selectbox", "User").options
    alice.run()
    assert "**alpha-pricing-models**" in yours(alice)


def access_table(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown if m.value.startswith("| User |"))


def test_another_persons_sign_in_leaves_the_pages_cached_but_shows_in_the_audit_trail(app_env: Gatehouse) -> None:  # noqa: F811
    bob = go(sign_in("bob"), "pages/admin.py", "Manage access")
    dave = go(sign_in("dave"), "pages/platform.py", "Audit trail")
    dave.checkbox(key="audit-sign-ins").check().run()  # sign-ins are left out until asked for
    assert "carol signed in" not in list(dave.dataframe[0].value["Summary"])
    shown = page_text(bob)
    with app_env.session() as session:  # carol signs in, in another process: her audit event and last sign-in
        auth.record_sign_in(session, "carol")
    with statements() as seen:
        bob.run()
    assert page_text(bob) == shown
    assert len(seen) == 1 and "revision" in seen[0], seen  # bob's page read nothing again
    dave.run()
    assert next(iter(dave.dataframe[0].value["Summary"])) == "carol signed in"  # the trail's reads did
