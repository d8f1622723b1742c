"""`quarterdeck source`: write keys, and events from the tracking API into the warehouse."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.sources.tracking_api import create_tracking_app
from quarterdeck.sources.write_keys import WriteKeys
from quarterdeck.warehouse.connection import connect

runner = CliRunner()


def qd(*args: object) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


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
