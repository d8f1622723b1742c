"""The tracking spool: group commit, de-duplication under concurrency, failed writes, torn lines.

The disk is made to wait (or fail) on purpose with a gate around `os.fsync`, so what each test
checks follows from the order of events, never from timing.
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import orjson
import pytest

from quarterdeck.sources.tracking_conversion import convert_spool
from quarterdeck.sources.tracking_spool import Spool, spooled_messages

WAIT = 10  # seconds: a bound on every wait, only reached if the code under test hangs


class FsyncGate:
    """Holds the spool's data fsyncs until released, counting them; can fail the next one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.spool: Spool | None = None
        self.calls = 0
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.release.set()
        self.fail_next = False
        real = os.fsync

        def fsync(fd: int) -> None:
            if self.spool is None or fd != self.spool._fd:
                return real(fd)  # the folder, or a file being published
            self.calls += 1
            self.entered.release()
            assert self.release.wait(WAIT)
            if self.fail_next:
                self.fail_next = False
                raise OSError(errno.EIO, "I/O error")
            return real(fd)

        monkeypatch.setattr(os, "fsync", fsync)

    def hold(self) -> None:
        self.release.clear()

    def wait_entered(self) -> None:
        assert self.entered.acquire(timeout=WAIT)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> FsyncGate:
    return FsyncGate(monkeypatch)


@pytest.fixture
def spool(tmp_path: Path, gate: FsyncGate) -> Spool:
    s = Spool(tmp_path / "spool")
    gate.spool = s
    yield s
    gate.release.set()
    s.close()


def lines(*ids: str) -> tuple[list[str], list[bytes]]:
    return list(ids), [orjson.dumps(track(m)) + b"\n" for m in ids]


def track(mid: str) -> dict:
    return {"type": "track", "userId": "u1", "event": "x", "messageId": mid,
            "receivedAt": "2024-05-01T00:00:00+00:00"}


def spooled_ids(spool_dir: Path) -> list[str]:
    return [m["messageId"] for p in sorted(spool_dir.glob("spool-*.ndjson"))
            for m, _ in spooled_messages(p, 0) if m]


def test_requests_arriving_during_an_fsync_share_the_next_write_and_fsync(spool, gate):
    gate.hold()
    first = spool.submit(*lines("a1", "a2"))
    gate.wait_entered()  # the first group is on the disk's side now
    others = [spool.submit(*lines(f"b{i}", f"c{i}")) for i in range(5)]
    assert not first.durable.done() and not any(o.durable.done() for o in others)
    gate.release.set()
    for sub in [first, *others]:
        sub.durable.result(WAIT)
    assert gate.calls == 2  # six requests, two fsyncs
    assert spooled_ids(spool.dir) == ["a1", "a2"] + [x for i in range(5) for x in (f"b{i}",
                                                                                  f"c{i}")]


def test_a_resent_message_still_on_its_way_to_disk_waits_for_that_fsync(spool, gate):
    gate.hold()
    original = spool.submit(*lines("m1"))
    gate.wait_entered()
    resent = spool.submit(*lines("m1"))
    assert resent.fresh == 0
    assert not resent.durable.done()  # a 200 now would promise what is not on disk yet
    gate.release.set()
    resent.durable.result(WAIT)
    assert original.durable.done() and spooled_ids(spool.dir) == ["m1"]


def test_concurrent_senders_of_the_same_ids_spool_each_once(spool):
    ids = [f"m{i}" for i in range(200)]
    barrier = threading.Barrier(8)
    results: list[int] = []

    def send() -> None:
        barrier.wait(WAIT)
        for start in range(0, 200, 20):
            sub = spool.submit(*lines(*ids[start:start + 20]))
            sub.durable.result(WAIT)
            results.append(sub.fresh)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert sum(results) == 200
    assert sorted(spooled_ids(spool.dir)) == sorted(ids)


def test_a_failed_fsync_fails_its_requests_and_a_resend_is_taken_in_a_new_file(spool, gate):
    first_file = spool.path
    gate.hold()
    gate.fail_next = True
    failed = spool.submit(*lines("m1", "m2"))
    gate.wait_entered()
    queued = spool.submit(*lines("m3"))
    gate.release.set()
    with pytest.raises(OSError):
        failed.durable.result(WAIT)
    with pytest.raises(OSError):  # it may have waited on the failed group: refused too
        queued.durable.result(WAIT)
    assert spool.path != first_file  # the old file may end in a torn line: never append to it
    again = spool.submit(*lines("m1", "m2", "m3"))
    assert again.fresh == 3
    again.durable.result(WAIT)
    # The failed write reached the page cache here, so the old file holds a copy too; they
    # are one event each once converted.
    assert spooled_ids(spool.dir).count("m1") == 2
    result = convert_spool(spool.dir, spool.dir.parent / "out")
    assert result.rows["events"] == 3 and result.duplicates == 2


def test_a_restarted_spool_remembers_what_the_last_one_took(tmp_path):
    first = Spool(tmp_path / "spool")
    assert first.append([track("m1")]) == 1
    first.close()
    second = Spool(tmp_path / "spool")
    try:
        assert second.append([track("m1"),
                              track("m2")]) == 1
    finally:
        second.close()
    assert spooled_ids(tmp_path / "spool") == ["m1", "m2"]


def test_old_ids_are_forgotten_beyond_two_generations(tmp_path):
    spool = Spool(tmp_path / "spool", recent_ids=2)
    try:
        for mid in ("m1", "m2", "m3", "m4", "m5"):
            spool.append([track(mid)])
        assert spool.append([track("m4")]) == 0
        assert spool.append([track("m1")]) == 1
    finally:
        spool.close()


def test_a_torn_last_line_is_ignored_by_conversion_and_not_read_twice(tmp_path):
    spool_dir, out = tmp_path / "spool", tmp_path / "out"
    spool_dir.mkdir()
    whole = [orjson.dumps({"type": "track", "userId": "u1", "event": "Login",
                           "messageId": f"m{i}", "receivedAt": "2024-05-01T00:00:00+00:00"})
             for i in range(2)]
    torn = orjson.dumps({"type": "track", "userId": "u1", "event": "Login", "messageId": "m2",
                         "receivedAt": "2024-05-01T00:00:00+00:00"})[:40]
    (spool_dir / "spool-20240501T000000000000Z-1.ndjson").write_bytes(
        b"\n".join(whole) + b"\n" + torn)
    result = convert_spool(spool_dir, out)
    events = [orjson.loads(x) for x in result.files["events"].read_bytes().splitlines()]
    assert [e["event_id"] for e in events] == ["m0", "m1"]
    assert convert_spool(spool_dir, out).files == {}
