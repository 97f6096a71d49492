"""Teams on Platform → Users in Chromium (issue #27): after the identity provider pushed a group over SCIM and the
platform team made one with `gatehouse teams create`, dave reads each team with its members and where it comes
from, the identity provider or Gatehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from core.actions.scim_token import create_token
from core.actor import platform_operator
from core.config import Settings
from core.queries import get_user
from core.service.app import make_app
from core.startup import start
from tests.browser.conftest import ROOT, settled
from tests.browser.test_access_stories import open_page, shot, signed_in

pytestmark = pytest.mark.browser

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def test_dave_reads_the_teams_and_where_they_come_from(app_url: str, browser, moto_reset: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1]))
    gatehouse = start(settings)  # the app's own database (its embedded SQLite file), as `gatehouse serve` opens it
    try:
        with gatehouse.session() as session:
            alice, bob = (get_user(session, n).id for n in ("alice", "bob"))
        token = create_token(gatehouse, platform_operator("test"), "entra")
        with TestClient(make_app(gatehouse), headers={"Authorization": f"Bearer {token}"}) as scim:
            body = {"schemas": [GROUP], "displayName": "Data engineering", "members": [{"value": str(alice)}]}
            pushed = scim.post("/scim/v2/Groups", json=body)
            assert pushed.status_code == 201, pushed.text
            added = {"op": "Add", "path": "members", "value": [{"value": str(bob)}]}
            patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [added]}
            assert scim.patch(f"/scim/v2/Groups/{pushed.json()['id']}", json=patch).status_code == 200
    finally:
        gatehouse.engine.dispose()
    environment = {
        **os.environ,
        "GATEHOUSE_DATA_DIR": str(tmp_path),
        "GATEHOUSE_LOCAL_AWS_PORT": str(settings.local_aws_port),
    }
    environment.pop("GATEHOUSE_DATABASE_URL", None)
    made = subprocess.run(
        [sys.executable, "-m", "core.cli", "teams", "create", "analysts", "--member", "carol"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr

    dave = signed_in(browser, app_url, "dave")
    open_page(dave, "Platform")
    dave.get_by_role("tab", name="Users").click()
    teams = dave.locator('[data-testid="stExpander"]', has_text="Teams: your identity provider's groups")
    teams.get_by_text("Teams: your identity provider's groups").first.click()
    teams.get_by_text("Data engineering").first.wait_for()
    settled(dave)
    rows = [r.inner_text().split("\t") for r in teams.locator("table tbody tr").all()]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["Data engineering", "identity provider", "alice, bob"],
        ["analysts", "Gatehouse", "carol"],
    ], rows
    shot(dave, "teams-1-dave-reads-where-each-team-comes-from")
