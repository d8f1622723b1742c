"""Too many failed sign-ins lock the account, or the client address, for a while, and
nobody else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from quarterdeck.app import create_app
from quarterdeck.app.login_throttle import LoginPolicy
from quarterdeck.appdb import add_user, session
from quarterdeck.appdb.models import AuditLogEntry, utcnow
from quarterdeck.appdb.security import LoginFailure
from quarterdeck.testing.web_client import post_login

PASSWORD = "throttle test password"
POLICY = LoginPolicy(account_failures=3, address_failures=5)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    app = create_app(f"sqlite:///{tmp_path / 'app.db'}", secret_key="t", login_policy=POLICY)
    for email in ("ana@example.com", "ben@example.com"):
        add_user(app.state.engine, email, email[:3], "csm", PASSWORD)
    yield app
    app.state.engine.dispose()


def _from(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def test_an_account_is_locked_after_too_many_failures_even_for_the_right_password(
    app: FastAPI,
) -> None:
    client = _from(app, "198.51.100.1")
    statuses = [post_login(client, "ana@example.com", "wrong").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    locked = post_login(client, "ana@example.com", PASSWORD)
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    assert int(locked.headers["retry-after"]) > 0


def test_a_locked_account_does_not_slow_or_block_anyone_else(app: FastAPI) -> None:
    attacker = _from(app, "198.51.100.1")
    for _ in range(4):
        post_login(attacker, "ana@example.com", "wrong")
    assert post_login(_from(app, "203.0.113.7"), "ben@example.com", PASSWORD).status_code == 303


def test_an_address_is_locked_after_failures_on_many_accounts(app: FastAPI) -> None:
    client = _from(app, "198.51.100.2")
    for i in range(5):
        assert post_login(client, f"guess{i}@example.com", "wrong").status_code == 401
    assert post_login(client, "ben@example.com", PASSWORD).status_code == 429
    assert post_login(_from(app, "203.0.113.8"), "ben@example.com", PASSWORD).status_code == 303


def test_the_lock_ends_when_its_time_is_up(app: FastAPI) -> None:
    client = _from(app, "198.51.100.3")
    for _ in range(3):
        post_login(client, "ana@example.com", "wrong")
    with session(app.state.engine) as db:
        db.execute(update(LoginFailure).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert post_login(client, "ana@example.com", PASSWORD).status_code == 303


def test_a_success_clears_the_accounts_count(app: FastAPI) -> None:
    client = _from(app, "198.51.100.4")
    for _ in range(2):
        post_login(client, "ana@example.com", "wrong")
    assert post_login(client, "ana@example.com", PASSWORD).status_code == 303
    with session(app.state.engine) as db:
        keys = set(db.scalars(select(LoginFailure.key)))
    assert keys == {"address:198.51.100.4"}


def test_unknown_and_known_accounts_lock_alike(app: FastAPI) -> None:
    client = _from(app, "198.51.100.5")
    known = [post_login(client, "ana@example.com", "x").status_code for _ in range(4)]
    other = _from(app, "198.51.100.6")
    unknown = [post_login(other, "zed@example.com", "x").status_code for _ in range(4)]
    assert known == unknown == [401, 401, 401, 429]


def test_failed_and_refused_sign_ins_are_audited_with_the_address(app: FastAPI) -> None:
    client = _from(app, "198.51.100.9")
    for _ in range(4):
        post_login(client, "ana@example.com", "wrong")
    with session(app.state.engine) as db:
        entries = db.scalars(select(AuditLogEntry).where(
            AuditLogEntry.action == "login.failed")).all()
    assert [e.detail["reason"] for e in entries] == ["wrong credentials"] * 3 + ["locked"]
    assert {e.detail["address"] for e in entries} == {"198.51.100.9"}
    assert all(e.target == "ana@example.com" for e in entries)
