"""Driving the web app from tests as a browser would: forms carry the CSRF token the page
gave them."""

from __future__ import annotations

import re

import httpx
from starlette.testclient import TestClient

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token the page at `path` gives its forms."""
    match = _TOKEN.search(client.get(path).text)
    if match is None:
        raise AssertionError(f"no CSRF token on {path}")
    return match.group(1)


def post_login(client: TestClient, email: str, password: str, **fields: str) -> httpx.Response:
    """Submit the login form (the httpx response; 303 on success)."""
    data = {"email": email, "password": password, "csrf_token": csrf_of(client), **fields}
    return client.post("/login", data=data, follow_redirects=False)


def post_logout(client: TestClient) -> httpx.Response:
    """Press "Sign out" on a page."""
    return client.post("/logout", data={"csrf_token": csrf_of(client, "/accounts")},
                       follow_redirects=False)
