"""Production hashes passwords at bcrypt's cost 12 (a third of a second a guess): the tests hash at its least
(tests/conftest.py: quick_passwords), so this one puts production's bcrypt back and reads the cost in the hashes that
Gatehouse makes, and checks them as a sign-in does."""

from __future__ import annotations

import bcrypt
import pytest

from core import auth, seed
from core.seed import DEMO_PASSWORD
from tests.conftest import PRODUCTION_GENSALT


def test_passwords_and_the_demo_accounts_are_hashed_at_cost_12(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bcrypt, "gensalt", PRODUCTION_GENSALT)
    made = auth.hash_password("correct horse battery staple")
    demo = seed.demo_password_hash.__wrapped__()  # made afresh, not the worker's cached one
    assert made.startswith("$2b$12$") and demo.startswith("$2b$12$"), (made[:7], demo[:7])
    assert bcrypt.checkpw(b"correct horse battery staple", made.encode())
    assert bcrypt.checkpw(DEMO_PASSWORD.encode(), demo.encode())
    assert not bcrypt.checkpw(b"correct horse battery stapler", made.encode())
