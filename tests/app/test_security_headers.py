"""What every answer tells the browser, what it never builds from the client's Host header,
and what it does with absurd input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from quarterdeck.app.security_headers import CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/quarterdeck.css", "/accounts",
                                  "/api/accounts", "/no-such-page"])
def test_every_answer_carries_the_security_headers(signed_in: TestClient, path: str) -> None:
    headers = signed_in.get(path).headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers  # plain HTTP here


def test_pages_are_not_cached_but_static_files_may_be(signed_in: TestClient) -> None:
    assert signed_in.get("/accounts").headers["cache-control"] == "no-store"
    assert signed_in.get("/static/quarterdeck.css").headers.get("cache-control") != "no-store"


def test_pages_load_nothing_the_policy_forbids(signed_in: TestClient) -> None:
    for path in ("/accounts", "/accounts/acme", "/quality", "/login"):
        html = signed_in.get(path).text
        assert "<script" not in html and "<style" not in html
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_no_url_is_built_from_the_host_header(client: TestClient) -> None:
    evil = {"Host": "evil.example"}
    login = client.get("/login", headers=evil)
    assert "evil.example" not in login.text
    for path in ("/accounts", "/quality/", "/accounts/"):
        response = client.get(path, headers=evil, follow_redirects=False)
        assert "evil.example" not in response.headers.get("location", "")


def test_a_trailing_slash_is_not_redirected(signed_in: TestClient) -> None:
    response = signed_in.get("/quality/", follow_redirects=False)
    assert response.status_code == 404


def test_a_50000_character_search_is_answered_without_a_server_error(
    signed_in: TestClient,
) -> None:
    term = "a" * 50_000
    page = signed_in.get("/accounts", params={"q": term})
    assert page.status_code == 200 and "No accounts match" in page.text
    api = signed_in.get("/api/accounts", params={"q": term})
    assert api.status_code == 200 and api.json()["total"] == 0
    assert signed_in.get("/api/accounts", params={"q": "Acme"}).json()["total"] == 2
