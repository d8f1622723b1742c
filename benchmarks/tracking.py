"""Benchmark of the tracking API: sustained events/s with every 200 fsync'd, and zero loss.

    .venv/bin/python benchmarks/tracking.py              # scale S: 200,000 events
    .venv/bin/python benchmarks/tracking.py --scale M    # 1,000,000 events
    .venv/bin/python benchmarks/tracking.py --scale L    # 5,000,000 events

`quarterdeck source serve` runs as its own process on loopback, in a fresh workspace with a
write key. A separate load process drives it: several senders, each on one keep-alive HTTP/1.1
connection, post `/v1/batch` with 100 track events each (unique messageIds), one request at a
time per connection, until the scale's count is sent. It reports events/s over the whole run,
the p50 and p99 request latency, and the server's peak RSS (all its processes, sampled every
50 ms). Then the server is stopped, `quarterdeck source load` converts and loads the spool, and
the warehouse's `events` are counted: every acknowledged event must be there exactly once.
Target: 50,000 events/s on 2 cores, with the client on the same 2 cores.

The baseline, driven the same way in the same run, before and after: a plain asyncio HTTP
server in this file that appends each request's body to one file, fsyncs it and answers 200
(no authentication, validation, de-duplication or stamping). Printed: Quarterdeck's drive
seconds ÷ the baseline's and its server CPU seconds ÷ the baseline's (the mean of the two
baseline drives; higher is slower), and the baseline's peak RSS. One fsync per request
makes the baseline's wall time follow the disk's latency; its CPU time is the steadier.

`--fsync-ms 5` makes every fsync of the server take 5 ms longer (os.fsync wrapped in the
server's processes only), to see how the spool does on a slower disk or a network volume.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from machine_load import with_load

BIN = Path(sys.executable).parent / "quarterdeck"
SCALES = {"S": 200_000, "M": 1_000_000, "L": 5_000_000}  # events
BATCH = 100
TARGET = 50_000
USERS, ACCOUNTS = 1_000, 50


# -- the load process -------------------------------------------------------------------------

def _event_template() -> list[bytes]:
    """Track events as %-templates for their messageId: a batch is one join, no JSON encoding."""
    import orjson

    names = ("Report Created", "Dashboard Viewed", "Export Downloaded", "User Invited")
    out = []
    for i in range(BATCH):
        event = {
            "type": "track", "userId": f"user-{i * 7 % USERS}", "event": names[i % len(names)],
            "messageId": "@ID@", "timestamp": "2026-09-30T12:00:00.000Z",
            "properties": {"value": i % 5 + 1, "plan": "growth", "path": f"/reports/{i}"},
            "context": {"library": {"name": "analytics-python", "version": "2.3.2"}},
        }
        out.append(orjson.dumps(event).replace(b"%", b"%%").replace(b'"@ID@"', b'"%s"'))
    return out


def _setup_batch() -> bytes:
    """identify and group calls tying every benchmark user to an account."""
    import orjson

    batch = []
    for u in range(USERS):
        account = f"acc-{u % ACCOUNTS}"
        batch.append({"type": "identify", "userId": f"user-{u}", "messageId": f"id-{u}",
                      "traits": {"email": f"user{u}@example.com"}})
        batch.append({"type": "group", "userId": f"user-{u}", "groupId": account,
                      "messageId": f"gr-{u}", "traits": {"name": f"Account {u % ACCOUNTS}"}})
    return orjson.dumps({"batch": batch})


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """An HTTP/1.1 request's or response's first line and its body (by Content-Length)."""
    first = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return first, await reader.readexactly(length)


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes,
                body: bytes) -> int:
    writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    status, _ = await _read_message(reader)
    return int(status.split()[1])


async def _drive(port: int, key: str, events: int, senders: int) -> dict:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    head = (f"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n").encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await _post(reader, writer, head, _setup_batch()) == 200
    writer.close()
    template = _event_template()
    batches = events // BATCH
    latencies: list[float] = []
    acked: list[list[int]] = [[] for _ in range(senders)]
    failed = [0]

    async def sender(s: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for seq in range(s, batches, senders):
            prefix = b"b%d-%d-" % (s, seq)
            body = b'{"batch":[' + b",".join(
                t % (prefix + b"%d" % i) for i, t in enumerate(template)) + b"]}"
            started = time.perf_counter()
            status = await _post(reader, writer, head, body)
            latencies.append(time.perf_counter() - started)
            if status == 200:
                acked[s].append(seq)
            else:
                failed[0] += 1
        writer.close()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(sender(s) for s in range(senders)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies.sort()
    return {
        "seconds": seconds, "client_cpu": cpu, "requests": len(latencies), "failed": failed[0],
        "acked_events": sum(len(a) for a in acked) * BATCH,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "acked": acked,
    }


def drive_main(args: argparse.Namespace) -> None:
    result = asyncio.run(_drive(args.port, args.key, args.events, args.senders))
    Path(args.out).write_text(json.dumps(result))


# -- the baseline server ------------------------------------------------------------------------

async def _plain_serve(port: int, spool: Path) -> None:
    """Append each request's body to `spool`, fsync, answer 200: the least a durable ingest
    endpoint does."""
    out = spool.open("ab")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (message := await _read_message(reader))[0]:
                out.write(message[1] + b"\n")
                out.flush()
                os.fsync(out.fileno())
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


# -- the runner -------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start listening")


class ServerSampler:
    """Samples the peak resident memory of a process and its children every 50 ms, and adds
    up their CPU time."""

    def __init__(self, pid: int) -> None:
        self.peak = 0.0
        self.cpu: dict[int, float] = {}
        self._proc = psutil.Process(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            try:
                procs = [self._proc, *self._proc.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs) / 2**20)
                for p in procs:
                    times = p.cpu_times()
                    self.cpu[p.pid] = times.user + times.system
            except psutil.Error:
                pass
            time.sleep(0.05)

    @staticmethod
    def cpu_now(pid: int) -> float:
        proc = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in [proc, *proc.children(recursive=True)])

    def stop(self) -> tuple[float, float]:
        """Peak RSS in MB and CPU seconds, up to now."""
        self._done.set()
        self._thread.join()
        return self.peak, sum(self.cpu.values())


def _count(ws: Path, acked: list[list[int]]) -> dict[str, int]:
    """Rows of the warehouse's events, distinct event ids, and the acknowledged events found."""
    import duckdb

    con = duckdb.connect(str(ws / "data" / "warehouse.duckdb"), read_only=True)
    try:
        con.execute("CREATE TEMP TABLE acked (s INTEGER, seq INTEGER)")
        con.executemany("INSERT INTO acked VALUES (?, ?)",
                        [(s, q) for s, seqs in enumerate(acked) for q in seqs])
        rows, distinct = con.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM events").fetchone()
        found = con.execute("""
            SELECT count(*) FROM events e JOIN acked a
              ON e.event_id LIKE 'b%' AND split_part(e.event_id, '-', 1) = 'b' || a.s
             AND split_part(e.event_id, '-', 2) = CAST(a.seq AS VARCHAR)""").fetchone()[0]
    finally:
        con.close()
    return {"rows": rows, "distinct": distinct, "acked_found": found}


SLOW_FSYNC = """
import os, time
_fsync = os.fsync
def _slow_fsync(fd):
    _fsync(fd)
    time.sleep({delay})
os.fsync = _slow_fsync
"""


def _server_env(root: Path, fsync_ms: float) -> dict[str, str]:
    env = dict(os.environ)
    if fsync_ms:
        site = root / "slow-fsync"
        site.mkdir()
        (site / "sitecustomize.py").write_text(SLOW_FSYNC.format(delay=fsync_ms / 1000))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env


def _serve_and_drive(cmd: list, root: Path, name: str, args: argparse.Namespace, key: str,
                     events: int) -> tuple[dict, float, float]:
    """Start a server, drive it from the load process, stop it (SIGTERM: it flushes its
    spool); the drive's result, the server's peak RSS MB and its CPU seconds."""
    port = _free_port()
    log = (root / f"{name}.log").open("w")
    server = subprocess.Popen([*cmd, "--port", str(port)], stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True,
                              env=_server_env(root, args.fsync_ms))
    try:
        _wait_listening(port, server)
        cpu_before = ServerSampler.cpu_now(server.pid)
        sampler = ServerSampler(server.pid)
        out = root / f"{name}.json"
        subprocess.run([sys.executable, __file__, "--drive", "--port", str(port), "--key", key,
                        "--events", str(events), "--senders", str(args.senders), "--out", out],
                       check=True)
        peak, cpu = sampler.stop()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    return json.loads(out.read_text()), peak, cpu - cpu_before


def _plain_baseline(root: Path, args: argparse.Namespace, events: int, run: int) -> dict:
    """One drive of the baseline server; prints its line."""
    spool = root / f"plain-{run}.ndjson"
    result, peak, cpu = _serve_and_drive(
        [sys.executable, __file__, "--plain-serve", "--spool", spool], root, f"plain-{run}",
        args, "plain", events)
    spool.unlink()
    if result["acked_events"] != events:
        raise SystemExit(f"the baseline server acknowledged {result['acked_events']:,} "
                         f"events of {events:,}")
    print(f"{'baseline drive ' + str(run) + ' seconds':<28}{result['seconds']:>14.2f}"
          f"  ({result['acked_events'] / result['seconds']:,.0f} events/s, p50 / p99 "
          f"{result['p50_ms']:.1f} / {result['p99_ms']:.1f} ms, peak RSS {peak:,.0f} MB, "
          f"CPU {cpu:.1f} s)", flush=True)
    return {"seconds": result["seconds"], "peak": peak, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--senders", type=int, default=8, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--fsync-ms", type=float, default=0,
                        help="extra milliseconds added to each fsync of the server")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--plain-serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--spool", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive_main(args)
        return
    if args.plain_serve:
        asyncio.run(_plain_serve(args.port, args.spool))
        return
    run_benchmark(args)


@with_load
def run_benchmark(args: argparse.Namespace) -> None:
    """Both drives and the warehouse's count; the load average around them."""
    events = SCALES[args.scale]
    root = Path(tempfile.mkdtemp(prefix="qd-bench-tracking-"))
    try:
        ws = root / "ws"
        subprocess.run([BIN, "init", ws], check=True, capture_output=True)
        added = subprocess.run([BIN, "source", "add", "bench", "--workspace", ws], check=True,
                               capture_output=True, text=True)
        key = added.stdout.strip().splitlines()[-1]
        print(f"Quarterdeck tracking API benchmark, scale {args.scale}: {events:,} events in "
              f"batches of {BATCH}, {args.senders} senders, {args.workers} server process(es), "
              f"{psutil.cpu_count()} cores shared by server and client"
              + (f", fsync slowed by {args.fsync_ms:g} ms" if args.fsync_ms else ""), flush=True)
        plain = [_plain_baseline(root, args, events, 1)]
        result, peak, server_cpu = _serve_and_drive(
            [BIN, "source", "serve", "--workers", str(args.workers), "--workspace", ws],
            root, "server", args, key, events)
        plain.append(_plain_baseline(root, args, events, 2))
        base = sum(p["seconds"] for p in plain) / len(plain)
        rate = result["acked_events"] / result["seconds"]
        print(f"{'acknowledged events':<28}{result['acked_events']:>14,}"
              f"  ({result['failed']} requests refused)")
        print(f"{'seconds':<28}{result['seconds']:>14.2f}")
        print(f"{'× baseline':<28}{result['seconds'] / base:>14.2f}"
              f"  (seconds ÷ the baseline's mean {base:.2f} s; higher is slower, below 1 faster)")
        print(f"{'events/s (sustained)':<28}{rate:>14,.0f}"
              f"  {'meets' if rate >= TARGET else 'BELOW'} the {TARGET:,}/s target")
        print(f"{'requests/s':<28}{result['requests'] / result['seconds']:>14,.0f}")
        print(f"{'latency p50 / p99 ms':<28}{result['p50_ms']:>8.1f} / {result['p99_ms']:.1f}")
        print(f"{'server peak RSS MB':<28}{peak:>14,.0f}"
              f"  (baseline {max(p['peak'] for p in plain):,.0f})")
        print(f"{'CPU s: server / client':<28}{server_cpu:>8.1f} / "
              f"{result['client_cpu']:.1f}", flush=True)
        base_cpu = sum(p["cpu"] for p in plain) / len(plain)
        print(f"{'server CPU × baseline':<28}{server_cpu / base_cpu:>14.2f}"
              f"  (server CPU s ÷ the baseline's mean {base_cpu:.2f} s; higher is slower)")
        started = time.perf_counter()
        subprocess.run([BIN, "source", "load", "--workspace", ws], check=True,
                       capture_output=True)
        print(f"{'source load seconds':<28}{time.perf_counter() - started:>14.1f}")
        counts = _count(ws, result["acked"])
        ok = (counts["rows"] == counts["distinct"] == counts["acked_found"]
              == result["acked_events"])
        print(f"{'warehouse events rows':<28}{counts['rows']:>14,}")
        print(f"{'distinct event ids':<28}{counts['distinct']:>14,}")
        print(f"{'acknowledged ones found':<28}{counts['acked_found']:>14,}")
        print("zero loss, no duplicates" if ok else "MISMATCH: events lost or duplicated")
        if not ok:
            raise SystemExit(1)
    finally:
        if args.keep:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
