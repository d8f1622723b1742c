"""Sessions live on the server: signing out, deactivation and a password reset end them, and
cookies are HttpOnly, SameSite and Secure over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.app.auth import SESSION_COOKIE
from quarterdeck.app.csrf import CSRF_COOKIE
from quarterdeck.appdb import add_user
from quarterdeck.appdb.users import reset_password, set_active, set_role
from quarterdeck.testing.web_client import csrf_of, post_login, post_logout

PASSWORD = "sessions test password"


@pytest.fixture
def own_app(tmp_path: Path) -> Iterator[FastAPI]:
    """An app of its own, so users can be changed without touching the shared world."""
    app = create_app(f"sqlite:///{tmp_path / 'app.db'}", secret_key="sessions")
    add_user(app.state.engine, "ana@example.com", "Ana", "csm", PASSWORD)
    yield app
    app.state.engine.dispose()


def _signed_in(app: FastAPI, **client_options: object) -> TestClient:
    client = TestClient(app, **client_options)  # type: ignore[arg-type]
    assert post_login(client, "ana@example.com", PASSWORD).status_code == 303
    return client


def _opens_accounts(app: FastAPI, session_id: str) -> bool:
    other = TestClient(app, cookies={SESSION_COOKIE: session_id})
    return other.get("/accounts", follow_redirects=False).status_code == 200


def test_the_old_cookie_is_dead_after_logout(own_app: FastAPI) -> None:
    client = _signed_in(own_app)
    stolen = client.cookies[SESSION_COOKIE]
    assert _opens_accounts(own_app, stolen)
    assert post_logout(client).status_code == 303
    assert not _opens_accounts(own_app, stolen)


def test_signing_in_again_replaces_the_session(own_app: FastAPI) -> None:
    client = _signed_in(own_app)
    first = client.cookies[SESSION_COOKIE]
    assert post_login(client, "ana@example.com", PASSWORD).status_code == 303
    assert client.cookies[SESSION_COOKIE] != first
    assert not _opens_accounts(own_app, first)


@pytest.mark.parametrize("change", ["deactivate", "reset_password"])
def test_deactivation_and_password_reset_end_every_session(own_app: FastAPI, change: str) -> None:
    session_id = _signed_in(own_app).cookies[SESSION_COOKIE]
    if change == "deactivate":
        set_active(own_app.state.engine, "ana@example.com", False, actor="admin@example.com")
    else:
        reset_password(own_app.state.engine, "ana@example.com", "a brand new password")
    assert not _opens_accounts(own_app, session_id)


def test_a_role_change_applies_to_the_next_request(own_app: FastAPI) -> None:
    client = _signed_in(own_app)
    assert client.get("/admin/audit").status_code == 403
    set_role(own_app.state.engine, "ana@example.com", "admin")
    assert client.get("/admin/audit").status_code == 200


def test_an_invented_session_id_opens_nothing(own_app: FastAPI) -> None:
    assert not _opens_accounts(own_app, "made-up-session-id")
    assert not _opens_accounts(own_app, "x" * 5000)


def _cookie_header(response_headers: list[tuple[str, str]], name: str) -> str:
    return next(v for k, v in response_headers if k == "set-cookie" and v.startswith(name))


def test_session_cookie_is_httponly_samesite_and_not_secure_over_http(own_app: FastAPI) -> None:
    response = post_login(TestClient(own_app), "ana@example.com", PASSWORD)
    cookie = _cookie_header(response.headers.multi_items(), SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_session_cookie_is_secure_over_https(own_app: FastAPI) -> None:
    client = TestClient(own_app, base_url="https://testserver")
    response = post_login(client, "ana@example.com", PASSWORD)
    assert "secure" in _cookie_header(response.headers.multi_items(), SESSION_COOKIE).lower()
    assert response.headers.get("strict-transport-security") == "max-age=31536000"


@pytest.mark.parametrize(("mode", "base_url", "secure"), [
    ("always", "http://testserver", True), ("never", "https://testserver", False)])
def test_the_secure_cookies_setting_overrides_the_scheme(
    tmp_path: Path, mode: str, base_url: str, secure: bool
) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'app.db'}", secret_key="s", secure_cookies=mode)
    response = TestClient(app, base_url=base_url).get("/login")
    cookie = _cookie_header(response.headers.multi_items(), CSRF_COOKIE).lower()
    assert ("secure" in cookie) is secure


def test_login_without_the_forms_token_is_refused(own_app: FastAPI) -> None:
    client = TestClient(own_app)
    response = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 403 and SESSION_COOKIE not in client.cookies
    forged = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD,
                                         "csrf_token": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403


def test_logout_without_the_token_leaves_the_session_alone(own_app: FastAPI) -> None:
    client = _signed_in(own_app)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert _opens_accounts(own_app, client.cookies[SESSION_COOKIE])


def test_a_form_posted_from_another_site_is_refused_even_with_a_token(own_app: FastAPI) -> None:
    client = _signed_in(own_app)
    token = csrf_of(client, "/accounts")
    response = client.post("/logout", data={"csrf_token": token},
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403
    same_site = client.post("/logout", data={"csrf_token": token},
                            headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert same_site.status_code == 303


def test_the_token_of_one_session_does_not_work_in_another(own_app: FastAPI) -> None:
    first, second = _signed_in(own_app), _signed_in(own_app)
    response = second.post("/logout", data={"csrf_token": csrf_of(first, "/accounts")},
                           follow_redirects=False)
    assert response.status_code == 403


def test_behind_a_trusted_proxy_that_says_https_the_cookie_is_secure(own_app: FastAPI) -> None:
    """`quarterdeck serve` runs uvicorn with proxy headers from `server.trusted_proxies`."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    proxied = ProxyHeadersMiddleware(own_app, trusted_hosts="testclient")
    client = TestClient(proxied, headers={"X-Forwarded-Proto": "https",  # type: ignore[arg-type]
                                          "X-Forwarded-For": "203.0.113.20"})
    response = client.get("/login")
    assert "secure" in _cookie_header(response.headers.multi_items(), CSRF_COOKIE).lower()
    untrusted = TestClient(ProxyHeadersMiddleware(own_app, trusted_hosts="10.9.9.9"),  # type: ignore[arg-type]
                           headers={"X-Forwarded-Proto": "https"})
    cookie = _cookie_header(untrusted.get("/login").headers.multi_items(), CSRF_COOKIE)
    assert "secure" not in cookie.lower()
