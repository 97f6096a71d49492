"""`gatehouse access grant|revoke|list --team NAME`: the platform team grants a team once and its members have it;
bad input (a team unknown, a username given as a team, both or neither) is one sentence, exit 2, nothing changed."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from core.actions.provision_team import create_team
from core.adapters.models import AuditEvent, Grant
from core.context import Gatehouse
from core.queries import get_user
from tests.integration.test_cli import gatehouse_cli  # noqa: F401  (fixture)

PRICING = "alpha-pricing-models"


@pytest.fixture
def prisons(gatehouse: Gatehouse) -> None:
    with gatehouse.session() as session:
        dave, alice, carol = (get_user(session, n) for n in ("dave", "alice", "carol"))
    create_team(gatehouse, dave, "prisons", [alice.id or 0, carol.id or 0])


def _team_grants(gatehouse: Gatehouse) -> int:
    with gatehouse.session() as session:
        return len(session.exec(select(Grant).where(col(Grant.team_id).is_not(None))).all())


def test_a_team_is_granted_listed_and_revoked(gatehouse: Gatehouse, gatehouse_cli, prisons: None) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    granted = gatehouse_cli(
        "access", "grant", PRICING, "--team", "prisons", "--level", "read-only", "--path", "/reports"
    )
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.strip() == f"granted read-only on {PRICING} to the prisons team"
    listed = gatehouse_cli("access", "list", "--team", "prisons")
    assert listed.returncode == 0 and listed.stdout == f"{PRICING}\tteam:prisons\tread-only\t/reports\n"
    assert (
        f"{PRICING}\tteam:prisons\tread-only\t/reports" in gatehouse_cli("access", "list", "--source", PRICING).stdout
    )
    # a member's access is their own and their teams': listing alice shows what she holds through the team
    assert f"{PRICING}\tteam:prisons\tread-only\t/reports" in gatehouse_cli("access", "list", "--user", "alice").stdout
    assert "team:prisons" not in gatehouse_cli("access", "list", "--user", "bob").stdout
    revoked = gatehouse_cli("access", "revoke", PRICING, "--team", "prisons")
    assert revoked.returncode == 0 and revoked.stdout.strip() == f"revoked the prisons team's access to {PRICING}"
    assert _team_grants(gatehouse) == 0
    with gatehouse.session() as session:
        actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.subject == "team:prisons"))]
    assert actions == ["access-granted", "access-revoked"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("access", "grant", PRICING, "--team", "nobody", "--level", "read-only"),
            "There is no team called nobody.",
        ),
        (
            ("access", "grant", PRICING, "--team", "alice", "--level", "read-only"),
            "There is no team called alice (alice is a platform member, not a team).",
        ),
        (
            ("access", "grant", PRICING, "alice", "--team", "prisons", "--level", "read-only"),
            "Grant either members or a team: drop alice, or --team prisons.",
        ),
        (
            ("access", "grant", PRICING, "--level", "read-only"),
            "Name one or more platform members, or a team with --team NAME.",
        ),
        (
            ("access", "grant", PRICING, "--team", "prisons"),
            "Say what they may do: --level read-only, read-write or admin.",
        ),
        (("access", "revoke", PRICING, "--team", "prisons"), "The prisons team has no access to alpha-pricing-models."),
        (
            ("access", "revoke", PRICING, "bob", "--team", "prisons"),
            "Revoke either a member's access or a team's: drop bob, or --team prisons.",
        ),
        (("access", "list", "--team", "nobody"), "There is no team called nobody."),
    ],
)
def test_bad_input_naming_a_team_is_one_sentence_and_exit_2(  # type: ignore[no-untyped-def]
    gatehouse: Gatehouse,
    gatehouse_cli,  # noqa: F811
    prisons: None,
    arguments: tuple[str, ...],
    message: str,
) -> None:
    refused = gatehouse_cli(*arguments)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == f"gatehouse: {message}\n"
    assert _team_grants(gatehouse) == 0
