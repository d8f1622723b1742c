"""`quarterdeck source`: write keys, and events from the tracking API into the warehouse."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from quarterdeck.sources.tracking_api import create_tracking_app
from quarterdeck.sources.write_keys import WriteKeys
from quarterdeck.warehouse.connection import connect
from tests.cli_runner import qd


def test_a_key_is_added_listed_and_revoked(tmp_path):
    ws = tmp_path / "ws"
    qd("init", ws)
    out = qd("source", "add", "web-app", "--workspace", ws)
    plaintext = out.strip().splitlines()[-1]
    keys = WriteKeys.for_workspace(ws / "data")
    assert keys.source_for(plaintext) == "web-app"
    listed = qd("source", "list", "--workspace", ws)
    assert "web-app" in listed and plaintext not in listed
    key_id = keys.list()[0].key_id
    qd("source", "revoke", key_id, "--workspace", ws)
    assert keys.source_for(plaintext) is None


def test_tracked_events_reach_the_warehouse_with_source_load(tmp_path):
    ws = tmp_path / "ws"
    qd("init", ws)
    plaintext = qd("source", "add", "web-app", "--workspace", ws).strip().splitlines()[-1]
    keys = WriteKeys.for_workspace(ws / "data")
    auth = {"Authorization": "Basic " + base64.b64encode(f"{plaintext}:".encode()).decode()}
    spool = ws / "data" / "tracking" / "spool"
    with TestClient(create_tracking_app(spool, keys), headers=auth) as client:
        assert client.post("/v1/group", json={"userId": "u1", "groupId": "acme",
                                              "traits": {"name": "Acme"},
                                              "messageId": "g1"}).status_code == 200
        for i in range(3):
            assert client.post("/v1/track", json={
                "userId": "u1", "event": "Report Created", "messageId": f"m{i}",
                "timestamp": "2024-05-01T10:00:00Z"}).status_code == 200
    qd("source", "load", "--workspace", ws)
    con = connect(f"duckdb://{ws / 'data' / 'warehouse.duckdb'}", read_only=True)
    try:
        assert con.table("events").count().execute() == 3
        assert con.table("accounts").count().execute() == 1
    finally:
        con.disconnect()
    assert "Nothing new" in qd("source", "load", "--workspace", ws)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(ws: Path, port: int) -> subprocess.Popen:
    """`quarterdeck source serve` as its own process, once it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from quarterdeck.cli.main import app; app()", "source", "serve",
         "--port", str(port), "--workspace", str(ws)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):  # bounded: about 30 s
        assert proc.poll() is None, "the tracking server exited"
        try:
            httpx.post(f"http://127.0.0.1:{port}/v1/track", json={}, timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("the tracking server did not start")


@pytest.mark.slow
def test_quarterdeck_run_loads_what_the_segment_client_sent(tmp_path):
    analytics = pytest.importorskip("segment.analytics")
    ws = tmp_path / "ws"
    qd("init", ws)
    plaintext = qd("source", "add", "web-app", "--workspace", ws).strip().splitlines()[-1]
    port = _free_port()
    server = _serve(ws, port)
    try:
        errors = []
        client = analytics.Client(plaintext, host=f"http://127.0.0.1:{port}", sync_mode=True,
                                  on_error=lambda e, batch: errors.append(e), max_retries=0)
        day = datetime(2024, 5, 1, 10, tzinfo=UTC)
        client.identify("u1", {"email": "ann@acme.com"}, timestamp=day)
        client.group("u1", "acme", {"name": "Acme"}, timestamp=day)
        for i in range(4):
            client.track("u1", "Report Created", {"n": i}, timestamp=day)
        client.track("u1", "Report Created", {"n": 9}, timestamp=day + timedelta(days=1))
        client.flush()
        assert errors == []
    finally:
        server.terminate()
        server.wait(30)

    out = qd("run", "--as-of", "2024-05-01", "--workspace", ws)
    assert "Tracking API: loaded 1 accounts, 1 users, 5 events" in out
    con = connect(f"duckdb://{ws / 'data' / 'warehouse.duckdb'}", read_only=True)
    try:
        usage = con.table("account_usage_daily").to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    assert [(r["account_id"], str(r["date"]), r["events"]) for r in usage] == [
        ("acme", "2024-05-01", 4)]  # the fifth event is after the as-of date
    again = qd("run", "--as-of", "2024-05-02", "--workspace", ws)
    assert "Tracking API" not in again  # nothing new: nothing said

