"""API tokens: a read token only reads, a write token may change what its user's role allows,
and a revoked or expired token opens nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.app.permissions import ROUTES
from quarterdeck.appdb import add_user
from quarterdeck.appdb.users import create_token, list_tokens, revoke_token


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """An app with one state-changing API route (as alerts and tasks will have), declared."""
    app = create_app(f"sqlite:///{tmp_path / 'app.db'}", secret_key="tokens")
    for email, role in (("ana@example.com", "csm"), ("vic@example.com", "viewer")):
        add_user(app.state.engine, email, email[:3], role, "token tests password")

    @app.post("/api/notes-test")
    def add_note() -> dict[str, str]:
        return {"status": "noted"}

    monkeypatch.setitem(ROUTES, ("POST", "/api/notes-test"), "act_on_accounts")
    yield app
    app.state.engine.dispose()


def _call(app: FastAPI, method: str, path: str, token: str) -> int:
    return TestClient(app).request(method, path, headers={"Authorization": f"Bearer {token}"}
                                   ).status_code


def test_a_read_token_reads_but_may_not_write(app: FastAPI) -> None:
    token = create_token(app.state.engine, "ana@example.com", "dashboard")
    assert _call(app, "GET", "/api/accounts", token) == 200
    assert _call(app, "POST", "/api/notes-test", token) == 403


def test_a_write_token_writes_without_a_csrf_token(app: FastAPI) -> None:
    token = create_token(app.state.engine, "ana@example.com", "sync", scope="write")
    assert _call(app, "POST", "/api/notes-test", token) == 200


def test_a_write_token_never_exceeds_its_users_role(app: FastAPI) -> None:
    token = create_token(app.state.engine, "vic@example.com", "sync", scope="write")
    assert _call(app, "POST", "/api/notes-test", token) == 403


def test_a_revoked_token_opens_nothing(app: FastAPI) -> None:
    token = create_token(app.state.engine, "ana@example.com", "laptop")
    (info,) = list_tokens(app.state.engine, "ana@example.com")
    revoke_token(app.state.engine, info.id, actor="ana@example.com", owner="ana@example.com")
    assert _call(app, "GET", "/api/accounts", token) == 401


def test_an_expired_token_opens_nothing(app: FastAPI) -> None:
    token = create_token(app.state.engine, "ana@example.com", "old", lifetime=timedelta(0))
    assert _call(app, "GET", "/api/accounts", token) == 401


def test_a_browser_session_still_needs_the_csrf_token_for_the_api(app: FastAPI) -> None:
    from quarterdeck.testing.web_client import csrf_of, post_login

    client = TestClient(app)
    post_login(client, "ana@example.com", "token tests password")
    assert client.post("/api/notes-test").status_code == 403
    token = csrf_of(client, "/accounts")
    assert client.post("/api/notes-test", headers={"X-CSRF-Token": token}).status_code == 200


def test_a_user_creates_lists_and_revokes_their_own_tokens(app: FastAPI) -> None:
    read = create_token(app.state.engine, "ana@example.com", "cli", scope="write")
    auth = {"Authorization": f"Bearer {read}"}
    client = TestClient(app)
    created = client.post("/api/tokens", json={"name": "dashboard", "expires_days": 7},
                          headers=auth)
    assert created.status_code == 201
    body = created.json()
    assert body["scope"] == "read" and body["token"].startswith("qd_")
    assert _call(app, "GET", "/api/accounts", body["token"]) == 200
    listed = client.get("/api/tokens", headers=auth).json()
    assert [t["name"] for t in listed] == ["dashboard", "cli"]
    assert all("token" not in t for t in listed)
    assert client.delete(f"/api/tokens/{body['id']}", headers=auth).status_code == 204
    assert _call(app, "GET", "/api/accounts", body["token"]) == 401


def test_nobody_revokes_or_sees_another_users_token(app: FastAPI) -> None:
    create_token(app.state.engine, "ana@example.com", "ana's")
    (anas,) = list_tokens(app.state.engine, "ana@example.com")
    vic = create_token(app.state.engine, "vic@example.com", "vic's", scope="write")
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {vic}"}
    assert client.delete(f"/api/tokens/{anas.id}", headers=auth).status_code == 404
    assert [t["name"] for t in client.get("/api/tokens", headers=auth).json()] == ["vic's"]
    assert list_tokens(app.state.engine, "ana@example.com")[0].state == "active"


def test_a_read_token_cannot_mint_a_write_token(app: FastAPI) -> None:
    read = create_token(app.state.engine, "ana@example.com", "dashboard")
    response = TestClient(app).post("/api/tokens", json={"name": "x", "scope": "write"},
                                    headers={"Authorization": f"Bearer {read}"})
    assert response.status_code == 403
