"""An instance never adopts a local AWS emulation another instance (on another database) uses: a second `dev.py run`
on the first one's port once rewrote its roles, while the first still said "Applied in AWS"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core import actions
from core.adapters.aws import Aws
from core.config import Settings
from core.context import Gatehouse
from core.domain import GatehouseError
from core.queries import get_user
from core.startup import start


def roles(gatehouse: Gatehouse) -> dict[str, Any]:
    """Every platform user's role in the emulation, with its policies."""
    prefix = f"{gatehouse.settings.env}_user_"
    return {name: gatehouse.aws.read_role_policies(name) for name in gatehouse.aws.role_names(prefix)}


def test_a_second_instance_refuses_the_emulation_of_another(moto_reset: str, tmp_path: Path) -> None:
    port = int(moto_reset.rsplit(":", 1)[1])
    first = start(Settings(_env_file=None, data_dir=tmp_path / "first", local_aws_port=port))
    with first.session() as session:
        dave = get_user(session, "dave")
    actions.mark_left(first, dave, "bob")  # the first instance's roles now differ from a fresh demo's
    before = roles(first)
    assert before, "the demo's users have roles"

    with pytest.raises(GatehouseError) as refused:
        start(Settings(_env_file=None, data_dir=tmp_path / "second", local_aws_port=port))
    assert str(refused.value) == (
        f"Port {port} already serves the AWS emulation of another Gatehouse, on another database: set "
        "GATEHOUSE_LOCAL_AWS_PORT to a free port to run this one beside it."
    )
    assert roles(first) == before

    # The first instance started again on its own database (the CLI beside the app, a restart) still uses it.
    again = start(Settings(_env_file=None, data_dir=tmp_path / "first", local_aws_port=port))
    assert roles(again) == before
    first.engine.dispose()
    again.engine.dispose()


def test_an_emulation_with_anything_in_it_that_no_instance_marked_is_refused(moto_reset: str, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, local_aws_port=int(moto_reset.rsplit(":", 1)[1]))
    location = {"LocationConstraint": settings.region}
    Aws(settings).s3.create_bucket(Bucket="someone-elses", CreateBucketConfiguration=location)  # by hand
    with pytest.raises(GatehouseError, match=f"^Port {settings.local_aws_port} already serves .* GATEHOUSE_LOCAL_AWS"):
        start(settings)
    assert [b["Name"] for b in Aws(settings).s3.list_buckets()["Buckets"]] == ["someone-elses"]
