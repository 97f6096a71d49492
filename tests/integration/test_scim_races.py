"""SCIM's races on PostgreSQL (issue #27), in the house's way (tests/integration/racing.py): real sessions in threads
released together by a barrier. A leaver disabled by the identity provider while an admin grants them access holds no
live grant and IAM gives them nothing; one joiner sent several times at once is one member."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from core import actions
from core.access import desired_grants, user_principal
from core.adapters.models import AuditEvent, RoleSync, User
from core.context import Gatehouse
from core.domain import AccessLevel, GatehouseError, SyncState, UserStatus
from tests.aws_helpers import as_user
from tests.integration.racing import assert_one_sentence, at_once, on_postgres, user
from tests.integration.test_scim import scim  # noqa: F401  (fixture: over this module's gatehouse, on PostgreSQL)

pytestmark = pytest.mark.postgres

PRICING = "alpha-pricing-models"  # bob: its only admin
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ROUNDS = 3


@pytest.fixture
def gatehouse(postgres_url: str, moto_reset: str, tmp_path: Path) -> Iterator[Gatehouse]:
    yield from on_postgres(postgres_url, moto_reset, tmp_path)


def _joiner(name: str) -> dict[str, object]:
    return {"schemas": [CORE], "userName": name, "emails": [{"value": f"{name}@example.org", "primary": True}]}


def _answered(call: partial[object], status: int) -> None:
    answer = call()
    if getattr(answer, "status_code", None) != status:
        raise AssertionError(f"{answer!r}: {getattr(answer, 'text', '')}")


def test_a_leaver_disabled_while_an_admin_grants_them_access_holds_nothing_live_in_iam(
    gatehouse: Gatehouse,
    scim: TestClient,  # noqa: F811
) -> None:
    """Entra ID's PATCH active "False" and bob's grant take their turns on the person: the grant is refused (they
    have left), or made first and ended with their leaving. Either way nothing of it is live, in the database or in
    IAM, whichever of the joiner's role making (after their answer) and the two comes first."""
    bob = user(gatehouse, "bob")
    for round_ in range(ROUNDS):
        name = f"scim-leaver{round_}"
        joined = scim.post("Users", json=_joiner(name))
        assert joined.status_code == 201, joined.text
        disable = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
        outcomes = at_once(
            [
                partial(actions.grant_access, gatehouse, bob, PRICING, [name], AccessLevel.READ_ONLY),
                partial(_answered, partial(scim.patch, f"Users/{joined.json()['id']}", json=disable), 200),
            ]
        )
        assert outcomes[1] is None, outcomes
        if outcomes[0] is not None:
            assert isinstance(outcomes[0], GatehouseError), outcomes
            assert_one_sentence(outcomes[0])
        gatehouse.settle()
        leaver = user(gatehouse, name)
        assert leaver.status == UserStatus.LEFT
        with gatehouse.session() as session:
            assert desired_grants(session, user_principal(gatehouse.settings.env, leaver)) == []
            pending = session.exec(select(RoleSync.role_name).where(RoleSync.state != SyncState.APPLIED)).all()
        assert pending == []
        with as_user(gatehouse, name) as role:
            assert not role.can("list", PRICING)
            assert not role.can("get", PRICING, "reports/prices_q3.csv")
    with as_user(gatehouse, "bob") as role:  # the source's admin, for comparison: IAM does answer yes
        assert role.can("get", PRICING, "reports/prices_q3.csv")


def test_one_joiner_sent_four_times_at_once_is_one_member(gatehouse: Gatehouse, scim: TestClient) -> None:  # noqa: F811
    """Identity providers retry, and send several requests at once: one is created (201), the others are told the
    name is taken (409 uniqueness), and the joiner is added, and audited, once."""
    for round_ in range(ROUNDS):
        name = f"twin{round_}"
        answers: list[int] = []

        def send(name: str = name, answers: list[int] = answers) -> None:
            answers.append(scim.post("Users", json=_joiner(name)).status_code)

        assert at_once([send] * 4) == [None] * 4
        assert sorted(answers) == [201, 409, 409, 409], answers
        with gatehouse.session() as session:
            assert len(session.exec(select(User).where(User.username == name)).all()) == 1
            added = session.exec(
                select(AuditEvent).where(AuditEvent.action == "user-added", AuditEvent.subject == name)
            )
            assert len(added.all()) == 1
