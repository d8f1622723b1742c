"""Checking a password (argon2, deliberately slow) never holds up other requests: it runs in
a worker thread, so the server answers others while a sign-in is being checked."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from quarterdeck.app import create_app
from quarterdeck.app.pages import login as login_page
from quarterdeck.appdb import add_user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_other_requests_are_answered_while_a_password_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'app.db'}", secret_key="loop")
    add_user(app.state.engine, "ana@example.com", "Ana", "csm", "off the loop password")
    checking, release = threading.Event(), threading.Event()
    real = login_page.authenticate

    def held_authenticate(*args: object) -> object:
        checking.set()
        release.wait(30)  # stands for a slow argon2 verification
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(login_page, "authenticate", held_authenticate)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base) as browser:
            form = browser.get("/login").text
            token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            results: list[int] = []
            signing_in = threading.Thread(target=lambda: results.append(browser.post(
                "/login", data={"email": "ana@example.com", "password": "off the loop password",
                                "csrf_token": token}).status_code))
            signing_in.start()
            assert checking.wait(10)
            # The sign-in is still being checked; another client is answered all the same.
            assert httpx.get(base + "/healthz", timeout=10).json() == {"status": "ok"}
            assert not release.is_set() and signing_in.is_alive()
            release.set()
            signing_in.join(10)
            assert results == [303]  # signed in
    finally:
        release.set()
        server.should_exit = True
        thread.join(10)
