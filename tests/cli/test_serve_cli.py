"""`quarterdeck serve` as people start it: one process, or several sharing the port."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.testing.live_server import free_port

PASSWORD = "a password long enough for the policy"


def qd(*args: object, stdin: str | None = None) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args], input=stdin,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _serve(ws: Path, port: int, workers: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from quarterdeck.cli.main import app; app()", "serve",
         "--port", str(port), "--workers", str(workers), "--workspace", str(ws)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1200):  # bounded: about 60 s
        assert proc.poll() is None, "the web server exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the web server did not start")


def _sign_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    answer = client.post("/login", data={"email": email, "password": PASSWORD,
                                         "csrf_token": token.group(1), "next": "/"})
    assert answer.status_code == 303, answer.text
    return client


@pytest.mark.slow
def test_several_processes_share_sessions_and_a_sign_out_ends_it_in_all(tmp_path):
    ws = tmp_path / "ws"
    qd("init", ws)
    qd("user", "add", "ann@example.com", "--password-stdin", "--workspace", ws,
       stdin=PASSWORD + "\n")
    port = free_port()
    server = _serve(ws, port, workers=2)
    try:
        children = psutil.Process(server.pid).children(recursive=True)
        assert len([c for c in children if "python" in c.name().lower()]) >= 2
        base = f"http://127.0.0.1:{port}"
        client = _sign_in(base, "ann@example.com")
        # Many requests, so both processes answer some: each knows the session.
        assert {client.get("/accounts").status_code for _ in range(40)} == {200}
        cookies = dict(client.cookies)
        page = client.get("/").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
        stale = httpx.Client(base_url=base, cookies=cookies, timeout=30)
        answers = {stale.get("/accounts", follow_redirects=False).status_code
                   for _ in range(40)}
        assert answers == {303}  # back to the sign-in page, whichever process answers
    finally:
        server.terminate()
        server.wait(30)
