"""Admin → Manage access → Personal data (issue #29): bob marks his source as personal data with carol as its
information asset owner; a refusal is one sentence under the form and changes nothing; My data then shows it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.adapters.models import AuditEvent, DataSource, utcnow
from core.context import Gatehouse
from core.domain import Classification, day
from core.queries import get_user
from pages.ui.markup import WORD_JOINER
from tests.app.test_journeys import go, messages, open_tab, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)

SOURCE = "alpha-sales-analysis"


def personal_data_tab(at: AppTest) -> AppTest:
    go(at, "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select(SOURCE)
    at.run()
    return open_tab(at, "Personal data")


def shown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown).replace("\\", "").replace(WORD_JOINER, "")


def stored(gatehouse: Gatehouse) -> tuple[Classification, int | None]:
    with gatehouse.session() as session:
        source = session.exec(select(DataSource).where(DataSource.name == SOURCE)).one()
        return Classification(source.classification), source.iao_id


def test_bob_marks_his_source_as_personal_data_with_carol_as_its_owner(app_env: Gatehouse) -> None:  # noqa: F811
    at = personal_data_tab(sign_in("bob"))
    assert f"{SOURCE} holds: Standard" in shown(at)
    widget(at, "radio", "What it holds").set_value(Classification.PERSONAL)
    widget(at, "button", "Save").click()
    at.run()  # no owner chosen: refused beside the form, nothing changed
    assert not at.exception, at.exception
    [refused] = [m for m in messages(at) if "information asset owner" in m]
    assert refused.replace("\\", "").startswith("A source holding personal data must name its information asset owner")
    assert stored(app_env) == (Classification.STANDARD, None)

    widget(at, "selectbox", "Information asset owner").select("carol")
    widget(at, "button", "Save").click()
    at.run()
    assert not at.exception, at.exception
    ends = day(utcnow().date() + timedelta(days=365))  # alice's and bob's grants did not end: they end within a year
    assert (
        f"{SOURCE} is personal data, with carol as its information asset owner; 2 grants that did not end by then now "
        f"end on {ends}, as it asks."
    ) in [m.replace("\\", "") for m in messages(at)]
    with app_env.session() as session:
        assert stored(app_env) == (Classification.PERSONAL, get_user(session, "carol").id)
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "source-classified")).all()
        assert event.actor == "bob"
    assert f"{SOURCE} holds: Personal data · IAO carol" in shown(at)

    open_tab(at, "Grant access")  # what its terms must be, said above the form
    said = [c.value.replace("\\", "") for c in at.caption]
    assert f"{SOURCE} holds personal data. Access ends: an end date is required, at most 365 days away." in said, said

    widget(at, "multiselect", "Users (platform members only)").select("carol")
    widget(at, "text_area", "Paths (optional)").input("/published")
    widget(at, "button", "Grant access").click()
    at.run()  # no end date: refused beside it, nothing granted
    assert not at.exception, at.exception
    assert "Access to personal data always ends: choose an end date, at most 365 days away." in [
        m.replace("\\", "") for m in messages(at)
    ]

    alice = go(sign_in("alice"), "pages/my_data.py")
    assert "Personal data · IAO carol" in shown(alice)  # My data's table says it beside the source
