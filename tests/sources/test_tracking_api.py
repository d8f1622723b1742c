"""The tracking API: Segment-compatible calls land durably in the spool and reach the contract."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import threading
import time
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from quarterdeck.sources.tracking_api import MAX_REQUEST_BYTES, create_tracking_app
from quarterdeck.sources.tracking_conversion import convert_spool
from quarterdeck.sources.tracking_ingest import (
    ingest_tracking,
    tracking_outbox_dir,
    tracking_set_aside_dir,
)
from quarterdeck.sources.tracking_spool import tracking_spool_dir
from quarterdeck.sources.write_keys import WriteKeys


@pytest.fixture
def keys(tmp_path: Path) -> WriteKeys:
    return WriteKeys(tmp_path / "data" / "write_keys.json")


@pytest.fixture
def key(keys: WriteKeys) -> str:
    return keys.create("web_app")[1]


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def client(spool_dir: Path, keys: WriteKeys, key: str) -> TestClient:
    with TestClient(create_tracking_app(spool_dir, keys), headers=basic(key)) as c:
        yield c


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def spooled(spool_dir: Path) -> list[dict]:
    return [orjson.loads(line) for p in sorted(spool_dir.glob("spool-*.ndjson"))
            for line in p.read_bytes().splitlines()]


def test_identify_track_and_group_are_spooled_and_answered_success(client, spool_dir):
    calls = {
        "identify": {"userId": "u1", "traits": {"email": "ann@acme.com", "name": "Ann"}},
        "group": {"userId": "u1", "groupId": "acc-1", "traits": {"name": "Acme"}},
        "track": {"userId": "u1", "event": "Report Created", "properties": {"value": 3}},
    }
    for kind, body in calls.items():
        r = client.post(f"/v1/{kind}", json=body)
        assert r.status_code == 200 and r.json() == {"success": True}
    rows = spooled(spool_dir)
    assert [r["type"] for r in rows] == ["identify", "group", "track"]
    assert all(r["messageId"] and r["receivedAt"] for r in rows)


def test_batch_of_100_is_one_append(client, spool_dir):
    batch = [{"type": "track", "userId": f"u{i}", "event": "Clicked", "messageId": f"m{i}"}
             for i in range(100)]
    assert client.post("/v1/batch", json={"batch": batch}).status_code == 200
    assert [r["messageId"] for r in spooled(spool_dir)] == [f"m{i}" for i in range(100)]


def test_an_empty_batch_is_answered_at_once(client, spool_dir):
    assert client.post("/v1/batch", json={"batch": []}).status_code == 200
    assert spooled(spool_dir) == []


def test_gzipped_batch_is_accepted(client, spool_dir):
    body = gzip.compress(json.dumps({"batch": [
        {"type": "identify", "userId": "u1", "messageId": "g1"}]}).encode())
    r = client.post("/v1/batch", content=body,
                    headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert r.status_code == 200
    assert spooled(spool_dir)[0]["messageId"] == "g1"


def test_unknown_or_revoked_key_gets_401(spool_dir, keys, key):
    app = create_tracking_app(spool_dir, keys)
    with TestClient(app) as c:
        body = {"userId": "u1", "event": "x"}
        assert c.post("/v1/track", json=body, headers=basic("nope")).status_code == 401
        assert c.post("/v1/track", json=body).json()["success"] is False
        assert c.post("/v1/track", json=body, headers=basic(key)).status_code == 200
        keys.revoke(keys.list()[0].key_id)
        assert c.post("/v1/track", json=body, headers=basic(key)).status_code == 401


def test_write_key_is_stored_hashed_and_shown_once(keys, key):
    stored = keys.path.read_text()
    assert key not in stored
    assert keys.list()[0].source == "web_app" and keys.source_for(key) == "web_app"


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/track", {"userId": "u1"}, "event"),
    ("/v1/track", {"event": "x"}, "userId"),
    ("/v1/group", {"userId": "u1"}, "groupId"),
    ("/v1/identify", {"userId": "u1", "traits": "not an object"}, "traits"),
    ("/v1/track", {"userId": "u1", "event": "x", "timestamp": "yesterday"}, "timestamp"),
    ("/v1/batch", {"batch": {"type": "track"}}, "batch"),
    ("/v1/batch", {"batch": [{"type": "track", "userId": "u", "event": "x"},
                             {"type": "page", "userId": "u"}]}, "batch[1].type"),
    ("/v1/batch", {"batch": [{"type": "track", "userId": "u"}]}, "batch[0].event"),
])
def test_malformed_payload_gets_400_naming_the_field(client, spool_dir, path, body, field):
    r = client.post(path, json=body)
    assert r.status_code == 400
    assert r.json()["field"] == field
    assert spooled(spool_dir) == []  # nothing of a refused request is kept


def test_invalid_json_gets_400(client):
    r = client.post("/v1/track", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]


def test_oversized_request_and_message_get_413(client):
    big = "x" * (MAX_REQUEST_BYTES // 10)
    batch = [{"type": "track", "userId": "u", "event": "x", "properties": {"p": big[:30_000]}}
             for _ in range(20)]
    assert client.post("/v1/batch", json={"batch": batch}).status_code == 413
    one = {"userId": "u", "event": "x", "properties": {"p": "y" * 40_000}}
    assert client.post("/v1/track", json=one).status_code == 413


def test_resent_message_id_is_kept_once_even_after_restart(spool_dir, keys, key):
    msg = {"userId": "u1", "event": "x", "messageId": "same"}
    with TestClient(create_tracking_app(spool_dir, keys), headers=basic(key)) as c:
        assert c.post("/v1/track", json=msg).status_code == 200
        assert c.post("/v1/batch", json={"batch": [dict(msg, type="track")] * 2}).status_code == 200
    with TestClient(create_tracking_app(spool_dir, keys), headers=basic(key)) as c:
        assert c.post("/v1/track", json=msg).status_code == 200
    assert [r["messageId"] for r in spooled(spool_dir)] == ["same"]


def test_conversion_dedupes_across_spool_files(spool_dir, tmp_path):
    spool_dir.mkdir()
    line = {"type": "track", "userId": "u1", "event": "x", "messageId": "dup",
            "receivedAt": "2024-05-01T00:00:00+00:00"}
    for name in ("spool-a.ndjson", "spool-b.ndjson"):
        (spool_dir / name).write_bytes(orjson.dumps(line) + b"\n")
    result = convert_spool(spool_dir, tmp_path / "out")
    assert result.rows == {"events": 1} and result.duplicates == 1


def test_spool_converts_to_contract_files_once(client, spool_dir, tmp_path):
    client.post("/v1/batch", json={"batch": [
        {"type": "identify", "userId": "u1", "traits": {"email": "ann@acme.com", "name": "Ann"}},
        {"type": "identify", "userId": "u2", "traits": {"email": "bo@else.com"}},
        {"type": "group", "userId": "u1", "groupId": "acc-1", "traits": {"name": "Acme"}},
        {"type": "track", "userId": "u1", "event": "Report Created", "messageId": "e1",
         "timestamp": "2024-05-01T10:00:00Z", "properties": {"value": 2, "kind": "pdf"}},
        {"type": "track", "userId": "u1", "event": "Login", "messageId": "e2",
         "context": {"groupId": "acc-1"}},
    ]})
    # A crash mid-write leaves a partial line; it was never acknowledged and is ignored.
    (spool_dir / "spool-0-crashed.ndjson").write_bytes(b'{"type": "track", "userId"')
    out = tmp_path / "contract"
    result = convert_spool(spool_dir, out)
    rows = {e: [orjson.loads(x) for x in p.read_bytes().splitlines()]
            for e, p in result.files.items()}
    assert rows["accounts"] == [{"account_id": "acc-1", "name": "Acme"}]
    assert [(u["user_id"], u["account_id"], u["email"], u["name"]) for u in rows["users"]] == [
        ("u1", "acc-1", "ann@acme.com", "Ann")]
    assert result.users_without_account == 1
    first, second = rows["events"]
    assert first["event_id"] == "e1" and first["timestamp"] == "2024-05-01T10:00:00Z"
    assert first["value"] == 2 and json.loads(first["properties"]) == {"value": 2, "kind": "pdf"}
    assert "account_id" not in first and second["account_id"] == "acc-1"
    assert convert_spool(spool_dir, out).files == {}  # nothing new, nothing written

    # u2 joins an account later: the user row comes out in the next conversion.
    client.post("/v1/group", json={"userId": "u2", "groupId": "acc-1", "traits": {"name": "Acme"}})
    later = convert_spool(spool_dir, out)
    users = [orjson.loads(x) for x in later.files["users"].read_bytes().splitlines()]
    assert users == [{"user_id": "u2", "account_id": "acc-1", "email": "bo@else.com",
                      "created_at": users[0]["created_at"]}]


def test_converted_files_load_into_the_warehouse(workspace, client, spool_dir):
    from quarterdeck.ingest import load_into_workspace

    client.post("/v1/batch", json={"batch": [
        {"type": "identify", "userId": "u1", "traits": {"email": "ann@acme.com"}},
        {"type": "group", "userId": "u1", "groupId": "acc-1", "traits": {"name": "Acme"}},
        {"type": "track", "userId": "u1", "event": "Login", "messageId": "e1"},
    ]})
    out = workspace.data_dir / "tracking" / "contract"
    convert_spool(spool_dir, out)
    report = load_into_workspace(workspace, [out])
    assert report.ok, report


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_segment_client_delivers_every_call(spool_dir, keys, key):
    uvicorn = pytest.importorskip("uvicorn")
    analytics = pytest.importorskip("segment.analytics")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_tracking_app(spool_dir, keys), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        errors = []
        client = analytics.Client(key, host=f"http://127.0.0.1:{port}", sync_mode=True,
                                  on_error=lambda e, batch: errors.append(e), max_retries=0)
        client.identify("u1", {"email": "ann@acme.com", "name": "Ann"})
        client.group("u1", "acc-1", {"name": "Acme"})
        for i in range(5):
            client.track("u1", "Report Created", {"n": i})
        client.flush()
        assert errors == []
    finally:
        server.should_exit = True
        thread.join(10)
    rows = spooled(spool_dir)
    assert [r["type"] for r in rows] == ["identify", "group"] + ["track"] * 5
    assert [r["properties"]["n"] for r in rows[2:]] == list(range(5))


def _event_ids(ws) -> list[str]:
    from quarterdeck.warehouse.connection import connect

    con = connect(f"duckdb://{ws.data_dir / 'warehouse.duckdb'}", read_only=True)
    try:
        return con.sql("SELECT event_id FROM events").to_pyarrow().column(0).to_pylist()
    finally:
        con.disconnect()


def test_ingest_without_a_spool_does_nothing(workspace):
    assert ingest_tracking(workspace) is None


def test_a_message_spooled_again_after_its_conversion_is_one_event(workspace, keys, key):
    # Another server process (with its own memory of ids) took the resend after the
    # original was converted and loaded: the load replaces the event rather than adding it.
    spool = tracking_spool_dir(workspace.data_dir)
    msg = {"userId": "u1", "event": "Login", "messageId": "same"}  # dated by receivedAt
    with TestClient(create_tracking_app(spool, keys), headers=basic(key)) as c:
        assert c.post("/v1/track", json=msg).status_code == 200
    assert ingest_tracking(workspace).events_loaded == 1
    second = spool.parent / "other-process"
    with TestClient(create_tracking_app(second, keys), headers=basic(key)) as c:
        assert c.post("/v1/track", json=msg).status_code == 200
    for path in second.glob("spool-*.ndjson"):
        path.rename(spool / path.name)
    assert ingest_tracking(workspace).events_loaded == 1
    assert _event_ids(workspace) == ["same"]


def test_an_event_naming_an_unknown_account_is_set_aside_and_loads_once_known(
        workspace, keys, key):
    spool = tracking_spool_dir(workspace.data_dir)
    aside = tracking_set_aside_dir(workspace.data_dir)
    with TestClient(create_tracking_app(spool, keys), headers=basic(key)) as c:
        assert c.post("/v1/group", json={"userId": "u0", "groupId": "known",
                                         "traits": {"name": "Known"}}).status_code == 200
        assert ingest_tracking(workspace).report.ok
        # The account is named before any group call made it known: set aside, with the
        # valid events around it loaded.
        for i, account in enumerate(["known", "acme", "known"]):
            assert c.post("/v1/track", json={
                "userId": "u1", "event": "Login", "messageId": f"e{i}",
                "context": {"groupId": account}}).status_code == 200
        first = ingest_tracking(workspace)
        assert first.report.ok and first.events_loaded == 2 and first.rows_set_aside == 1
        assert list(tracking_outbox_dir(workspace.data_dir).iterdir()) == []
        (events,) = [f for f in first.report.files if f.entity == "events"]
        assert "unknown account" in events.problems[0].reason
        assert sorted(_event_ids(workspace)) == ["e0", "e2"]
        nothing_new = ingest_tracking(workspace)
        assert nothing_new.still_set_aside == 1 and nothing_new.events_loaded == 0
        assert c.post("/v1/group", json={"userId": "u1", "groupId": "acme",
                                         "traits": {"name": "Acme"}}).status_code == 200
    later = ingest_tracking(workspace)
    assert later.report.ok and later.events_loaded == 1 and later.rows_set_aside == 0
    assert list(aside.glob("*.ndjson")) == []
    assert sorted(_event_ids(workspace)) == ["e0", "e1", "e2"]


def test_set_aside_file_partly_known_loads_what_is_known_and_keeps_the_rest(
        workspace, keys, key):
    spool = tracking_spool_dir(workspace.data_dir)
    aside = tracking_set_aside_dir(workspace.data_dir)
    with TestClient(create_tracking_app(spool, keys), headers=basic(key)) as c:
        for i, account in enumerate(["acme", "beta"]):
            assert c.post("/v1/track", json={
                "userId": "u1", "event": "Login", "messageId": f"e{i}",
                "context": {"groupId": account}}).status_code == 200
        assert ingest_tracking(workspace).rows_set_aside == 2
        assert c.post("/v1/group", json={"userId": "u1", "groupId": "acme",
                                         "traits": {"name": "Acme"}}).status_code == 200
    later = ingest_tracking(workspace)
    assert later.events_loaded == 1 and later.rows_set_aside == 1
    assert _event_ids(workspace) == ["e0"]
    (kept,) = aside.glob("*.ndjson")
    assert [json.loads(line)["event_id"] for line in kept.read_text().splitlines()] == ["e1"]
