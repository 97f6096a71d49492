"""A database first started in local mode holds the demo (dave / gatehouse-demo, platform team): started later with
GATEHOUSE_AWS_MODE=aws it is refused in one line, and so is any demo account whose password is still the demo's
(issue #24 §5)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core.adapters.models import User
from core.auth import hash_password
from core.config import ConfigurationError, Settings
from core.context import Gatehouse
from core.seed import DEMO_PASSWORD, demo_password_hash
from core.startup import refuse_the_demo, start


def in_aws_mode(gatehouse: Gatehouse) -> Settings:
    """The same database, as a production start would have it."""
    return Settings(
        _env_file=None,
        database_url=gatehouse.settings.db_url,
        data_dir=gatehouse.settings.data_dir,
        aws_mode="aws",
        sign_in="oidc",
        aws_endpoint_url=gatehouse.settings.local_aws_endpoint,
    )


def test_a_database_the_demo_was_seeded_into_does_not_start_against_aws(gatehouse: Gatehouse) -> None:
    with pytest.raises(ConfigurationError) as refused:
        start(in_aws_mode(gatehouse))
    message = str(refused.value)
    assert "demo" in message and "GATEHOUSE_AWS_MODE=aws" in message and "\n" not in message


def test_a_demo_account_with_the_demo_password_does_not_start_against_aws(bare_gatehouse: Gatehouse) -> None:
    """No seed event (the demo was copied in by hand, say), but dave's published password still signs in."""
    with bare_gatehouse.session() as session:
        session.add(User(username="alice", email="alice@example.org", password_hash=hash_password("her-own")))
        session.add(User(username="dave", email="dave@example.org", password_hash=demo_password_hash()))
    with pytest.raises(ConfigurationError) as refused:
        start(in_aws_mode(bare_gatehouse))
    message = str(refused.value)
    assert message.startswith("The account dave has the demo's published password") and "\n" not in message


def test_demo_usernames_with_passwords_of_their_own_start(bare_gatehouse: Gatehouse) -> None:
    with bare_gatehouse.session() as session:
        session.add(User(username="dave", email="dave@example.org", password_hash=hash_password("not-the-demo")))
        session.add(User(username="bob", email="bob@example.org"))  # signs in through the identity provider
        session.add(User(username="frank", email="frank@example.org", password_hash=demo_password_hash()))
    refuse_the_demo(bare_gatehouse)  # frank is no demo account: not checked (bcrypt is slow by design)
    with bare_gatehouse.session() as session:
        session.exec(select(User).where(User.username == "dave")).one().password_hash = hash_password(DEMO_PASSWORD)
    with pytest.raises(ConfigurationError, match="dave"):
        refuse_the_demo(bare_gatehouse)
