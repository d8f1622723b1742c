"""kill -9 of the tracking API loses nothing it acknowledged, and resends are not counted twice.

The server runs as its own process group (`quarterdeck source serve` with two processes),
senders post batches concurrently, and the whole group is SIGKILLed mid-stream and started
again. Senders resend every batch that got no 200, with the same messageIds, as Segment's
libraries do; the real Segment client sends alongside them with its own retries.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from quarterdeck.sources.tracking_ingest import ingest_tracking
from quarterdeck.sources.write_keys import WriteKeys
from quarterdeck.warehouse.connection import connect

pytestmark = pytest.mark.slow

SENDERS, BATCHES, BATCH = 4, 25, 40
SEGMENT_EVENTS = 1_000
DEADLINE = 120  # seconds: bounds every loop; only reached if the server never comes back


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(root: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from quarterdeck.cli.main import app; app()", "source", "serve",
         "--port", str(port), "--workers", "2", "--workspace", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the tracking server exited"
        try:
            httpx.post(f"http://127.0.0.1:{port}/v1/track", json={}, timeout=1)
            return proc  # any answer (401 here) means it serves
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the tracking server did not start")


def _batch(sender: int, seq: int) -> dict:
    return {"batch": [
        {"type": "track", "userId": f"u{sender}", "event": "Report Created",
         "messageId": f"s{sender}-{seq}-{i}", "timestamp": "2024-05-01T10:00:00Z",
         "properties": {"n": i}} for i in range(BATCH)]}


def test_kill_9_mid_stream_loses_no_acknowledged_event_and_counts_resends_once(workspace):
    analytics = pytest.importorskip("segment.analytics")
    key = WriteKeys.for_workspace(workspace.data_dir).create("web_app")[1]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start_server(workspace.root, port)
    acked: list[str] = []
    refused = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + DEADLINE

    def send(sender: int) -> None:
        with httpx.Client(base_url=url, auth=(key, ""), timeout=5) as client:
            for seq in range(BATCHES):
                body = _batch(sender, seq)
                while time.monotonic() < stop_at:
                    try:
                        if client.post("/v1/batch", json=body).status_code == 200:
                            with lock:
                                acked.extend(m["messageId"] for m in body["batch"])
                            break
                    except httpx.TransportError:
                        pass
                    with lock:
                        refused[0] += 1
                    time.sleep(0.05)  # resend the same batch, same messageIds

    segment_errors: list[Exception] = []
    segment = analytics.Client(key, host=url, upload_size=50, max_retries=30,
                               on_error=lambda e, batch: segment_errors.append(e))
    threads = [threading.Thread(target=send, args=(s,)) for s in range(SENDERS)]
    try:
        for t in threads:
            t.start()
        for i in range(SEGMENT_EVENTS // 2):
            segment.track(f"seg-user-{i % 7}", "Dashboard Viewed", {"i": i},
                          message_id=f"seg-{i}")
        while len(acked) < SENDERS * BATCH * 3 and time.monotonic() < stop_at:
            time.sleep(0.01)
        os.killpg(server.pid, signal.SIGKILL)  # mid-stream: every sender is still sending
        server.wait()
        for i in range(SEGMENT_EVENTS // 2, SEGMENT_EVENTS):
            segment.track(f"seg-user-{i % 7}", "Dashboard Viewed", {"i": i},
                          message_id=f"seg-{i}")
        server = _start_server(workspace.root, port)
        for t in threads:
            t.join(DEADLINE)
        segment.flush()
        segment.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(DEADLINE)

    assert refused[0] > 0  # the kill did cut senders off mid-stream
    assert len(acked) == SENDERS * BATCHES * BATCH  # every batch got its 200 in the end
    assert segment_errors == []  # the Segment client delivered everything it queued
    spool_files = list((workspace.data_dir / "tracking" / "spool").glob("spool-*.ndjson"))
    assert len(spool_files) >= 3  # two processes before the kill, at least one after

    done = ingest_tracking(workspace)
    assert done is not None and done.report is not None and done.report.ok
    con = connect(f"duckdb://{workspace.data_dir / 'warehouse.duckdb'}", read_only=True)
    try:
        ids = con.sql("SELECT event_id FROM events").to_pyarrow().column(0).to_pylist()
    finally:
        con.disconnect()
    expected = set(acked) | {f"seg-{i}" for i in range(SEGMENT_EVENTS)}
    assert len(ids) == len(set(ids))  # exactly once
    assert set(ids) == expected
