"""Every page and API route but login, health and static files needs a signed-in user."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from quarterdeck.appdb import create_token, session
from quarterdeck.appdb.models import AuditLogEntry
from quarterdeck.testing.web_client import post_login, post_logout


@pytest.mark.parametrize("path", ["/", "/accounts", "/accounts/acme", "/accounts?segment=smb"])
def test_pages_redirect_to_login_when_signed_out(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2F")


@pytest.mark.parametrize("path", ["/api/accounts", "/api/accounts/acme", "/api/openapi.json"])
def test_api_answers_401_json_when_signed_out(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["error"] == "NotAuthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_login_health_and_static_are_open(client: TestClient) -> None:
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/static/quarterdeck.css").status_code == 200


def test_signing_in_goes_to_the_page_asked_for(client: TestClient, password: str) -> None:
    response = post_login(client, "ana@example.com", password, next="/accounts/acme")
    assert response.status_code == 303
    assert response.headers["location"] == "/accounts/acme"
    assert client.get("/accounts/acme").status_code == 200


def test_next_never_leaves_the_site(client: TestClient, password: str) -> None:
    response = post_login(client, "ana@example.com", password, next="//evil.example/")
    assert response.headers["location"] == "/accounts"


def test_wrong_password_and_unknown_email_get_the_same_answer(client: TestClient) -> None:
    wrong_password = post_login(client, "ana@example.com", "x")
    unknown_email = post_login(client, "zed@example.com", "x")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert "do not match an active account" in wrong_password.text
    assert wrong_password.text == unknown_email.text.replace("zed@", "ana@")
    assert client.get("/accounts", follow_redirects=False).status_code == 303


def test_logout_ends_the_session(signed_in: TestClient) -> None:
    assert signed_in.get("/accounts").status_code == 200
    response = post_logout(signed_in)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert signed_in.get("/accounts", follow_redirects=False).status_code == 303


def test_a_signed_in_user_sees_their_name_and_can_use_the_api(signed_in: TestClient) -> None:
    assert "Ana Ruiz" in signed_in.get("/accounts").text
    assert signed_in.get("/api/accounts").status_code == 200


def test_a_bearer_token_opens_the_api(app: FastAPI, client: TestClient) -> None:
    token = create_token(app.state.engine, "ben@example.com", "reporting")
    response = client.get("/api/accounts", params={"status": "all"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["total"] == 6
    bad = client.get("/api/accounts", headers={"Authorization": f"Bearer {token}x"})
    assert bad.status_code == 401


def test_the_openapi_spec_is_served_to_signed_in_users(signed_in: TestClient) -> None:
    spec = signed_in.get("/api/openapi.json").json()
    assert {"/api/accounts", "/api/accounts/{account_id}", "/healthz"} <= set(spec["paths"])
    assert "/accounts" not in spec["paths"]


def test_logins_are_audited_without_the_password(
    app: FastAPI, client: TestClient, sign_in_as: Callable[..., TestClient], password: str
) -> None:
    post_login(client, "ben@example.com", "nope")
    sign_in_as(client, "ben@example.com")
    with session(app.state.engine) as db:
        entries = db.scalars(
            select(AuditLogEntry).where(AuditLogEntry.target == "ben@example.com")
        ).all()
    actions = [e.action for e in entries]
    assert "login.failed" in actions and "login" in actions
    assert all(password not in repr(e.detail) and "nope" not in repr(e.detail) for e in entries)
