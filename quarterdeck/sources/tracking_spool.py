"""The tracking spool: accepted tracking calls, appended as NDJSON and fsync'd before the reply.

Each server process appends to its own file, `spool-<start time>-<pid>.ndjson`, opened for
append only; accepted lines are never rewritten. A request's lines are answered only once an
fsync covering them has returned, so an acknowledged call survives a crash of the process or
the machine; a crash mid-write can leave only an unacknowledged partial last line, which
conversion ignores (see `quarterdeck.sources.tracking_conversion`).

Group commit: requests arriving together share one write and one fsync. A single committer
thread takes every line queued since its last fsync, writes them in one `write`, fsyncs once
and then releases every request whose lines were in that group; while it waits on the disk,
the next group fills. The cost of an fsync is paid per group, not per request.

De-duplication: the spool remembers the `messageId`s of at least the last 500,000 lines it
took, and up to twice that (and, when it starts, those of the newest spooled lines), and drops
a message it has already seen.
A request whose message repeats one still on its way to the disk waits for that fsync too, so
a 200 always means every message of the request is durable.

Example::

    spool = Spool(ws.data_dir / "tracking" / "spool")
    spool.append([{"type": "track", "messageId": "m1", "event": "Signed Up", ...}])
    spool.close()
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from quarterdeck.errors import QuarterdeckError
from quarterdeck.landing.landing_area import fsync_path

SPOOL_GLOB = "spool-*.ndjson"
RECENT_IDS = 500_000  # messageIds remembered at least, for de-duplication at ingest
READ_CHUNK = 16 * 2**20  # bytes of a spool file parsed at a time


def tracking_spool_dir(data_dir: Path) -> Path:
    """Where the workspace's tracking API spools what it accepts."""
    return data_dir / "tracking" / "spool"


class SpoolClosedError(QuarterdeckError):
    """The spool is closed (the server is shutting down): the request is not accepted."""


@dataclass
class _Group:
    """Lines committed together: one write, one fsync, one future for every waiting request."""

    seq: int
    lines: list[bytes] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    durable: Future[int] = field(default_factory=Future)


@dataclass(frozen=True)
class Submitted:
    """A request's place in the spool: how many of its messages were new, and the future that
    resolves once every one of them (or the earlier copy of a repeated one) is fsync'd."""

    fresh: int
    durable: Future[int]


class Spool:
    """An append-only, group-committed NDJSON file of accepted messages, de-duplicated by
    messageId. Thread-safe; `submit` never blocks on the disk, `append` does."""

    def __init__(self, spool_dir: Path, recent_ids: int = RECENT_IDS) -> None:
        self.dir = spool_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        # messageId -> seq of the group that wrote it (0: durable before this process started),
        # in two generations: when the newer is full, it becomes the older and the older goes.
        self._generation = recent_ids
        self._ids_new: dict[str, int] = {}
        self._ids_old: dict[str, int] = {}
        self._prime_recent_ids()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending = _Group(seq=1)
        self._in_flight: _Group | None = None
        self._durable_seq = 0
        self._closing = False
        self._fd = -1
        self.path = self._open_new_file()
        self._committer = threading.Thread(target=self._commit_loop, name="spool-commit",
                                           daemon=True)
        self._committer.start()

    # -- taking messages -------------------------------------------------------------------

    def submit(self, ids: Sequence[str], lines: Sequence[bytes]) -> Submitted:
        """Queue one request's serialized lines (each ending in a newline) under their ids.

        Returns at once; `Submitted.durable` resolves when the lines are fsync'd, or fails with
        the error (an OSError) that prevented it: then nothing of the request counts as seen,
        and a resend is taken again.
        """
        with self._lock:
            if self._closing:
                raise SpoolClosedError("the tracking spool is closed")
            group = self._pending
            new, old = self._ids_new, self._ids_old
            if new.keys().isdisjoint(ids) and old.keys().isdisjoint(ids) and (
                    len(ids) == 1 or len(set(ids)) == len(ids)):
                # The usual case, without a Python loop over the messages: all are new.
                group.lines.extend(lines)
                group.ids.extend(ids)
                fresh, wait_seq = len(ids), (group.seq if ids else 0)
                self._remember(ids, group.seq)
            else:
                fresh, wait_seq = self._submit_one_by_one(group, ids, lines)
            if fresh:
                self._wake.notify()
            return Submitted(fresh, self._future_for(wait_seq))

    def _submit_one_by_one(self, group: _Group, ids: Sequence[str], lines: Sequence[bytes]
                           ) -> tuple[int, int]:
        """Queue the messages not seen before; returns how many, and the seq of the latest
        group holding one of the request's messages. Under the lock."""
        fresh, wait_seq = 0, 0
        for mid, line in zip(ids, lines, strict=True):
            seq = self._ids_new.get(mid)
            if seq is None:
                seq = self._ids_old.get(mid)
            if seq is not None:
                wait_seq = max(wait_seq, seq)
                continue
            self._remember((mid,), group.seq)
            group.lines.append(line)
            group.ids.append(mid)
            fresh += 1
        return fresh, (group.seq if fresh else wait_seq)

    def _remember(self, ids: Sequence[str], seq: int) -> None:
        self._ids_new.update(dict.fromkeys(ids, seq))
        if len(self._ids_new) >= self._generation:
            self._ids_old, self._ids_new = self._ids_new, {}

    def append(self, messages: list[dict[str, Any]]) -> int:
        """Append the messages not seen before and wait until they are durable; returns how
        many were new. Each message needs its `messageId`."""
        submitted = self.submit([m["messageId"] for m in messages],
                                [orjson.dumps(m, option=orjson.OPT_APPEND_NEWLINE)
                                 for m in messages])
        submitted.durable.result()
        return submitted.fresh

    def close(self) -> None:
        """Commit what is queued, stop the committer and close the file."""
        with self._lock:
            self._closing = True
            self._wake.notify()
        self._committer.join()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    # -- committing ------------------------------------------------------------------------

    def _future_for(self, seq: int) -> Future[int]:
        """The future of group `seq`: done already when that group is durable. Under the lock."""
        if seq <= self._durable_seq:
            done: Future[int] = Future()
            done.set_result(seq)
            return done
        if self._in_flight is not None and self._in_flight.seq == seq:
            return self._in_flight.durable
        return self._pending.durable

    def _commit_loop(self) -> None:
        while True:
            with self._lock:
                while not self._pending.lines and not self._closing:
                    self._wake.wait()
                if not self._pending.lines:
                    return
                group = self._in_flight = self._pending
                self._pending = _Group(seq=group.seq + 1)
            try:
                self._write(b"".join(group.lines))
            except Exception as exc:  # the committer must outlive any failure
                self._fail(group, exc)
                continue
            with self._lock:
                self._durable_seq, self._in_flight = group.seq, None
            group.durable.set_result(group.seq)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)

    def _fail(self, group: _Group, exc: Exception) -> None:
        """A write or fsync failed: fail the group and the one queued behind it (its requests
        may wait on this one), forget their ids so resends are taken, and continue in a new
        file, since the old one may end in a torn line that a later append would corrupt."""
        with self._lock:
            queued = self._pending
            self._pending, self._in_flight = _Group(seq=queued.seq + 1), None
            for failed in (group, queued):
                for mid in failed.ids:
                    self._ids_new.pop(mid, None)
                    self._ids_old.pop(mid, None)
            try:
                os.close(self._fd)
                self.path = self._open_new_file()
            except OSError:
                self._fd = -1
                self._closing = True  # nowhere left to write: refuse from now on
        for failed in (group, queued):
            failed.durable.set_exception(exc)

    def _open_new_file(self) -> Path:
        """A new spool file, never an existing one (which could end in a torn line)."""
        while True:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            path = self.dir / f"spool-{stamp}-{os.getpid()}.ndjson"
            try:
                self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND,
                                   0o600)
                break
            except FileExistsError:
                continue
        fsync_path(self.dir)  # the new file's name is durable before anything is acknowledged
        return path

    def _prime_recent_ids(self) -> None:
        """Remember the ids of the newest spooled messages, so a resend after restart is dropped."""
        files: list[list[str]] = []
        for path in sorted(self.dir.glob(SPOOL_GLOB), reverse=True):
            files.append([msg["messageId"] for msg, _ in spooled_messages(path, 0) if msg])
            if sum(map(len, files)) >= self._generation:
                break
        for ids in reversed(files):
            self._remember(ids, 0)


def spooled_messages(path: Path, start: int) -> Iterator[tuple[dict[str, Any] | None, int]]:
    """Every whole line of a spool file from byte `start`: its message (None for a line that
    holds none) and the offset just after the line. A last line without its newline is a
    write torn by a crash, never acknowledged: it is not read."""
    with path.open("rb") as f:
        f.seek(start)
        offset, rest = start, b""
        while chunk := f.read(READ_CHUNK):
            data = rest + chunk
            end = data.rfind(b"\n") + 1
            rest = data[end:]
            pos = 0
            while pos < end:
                nl = data.index(b"\n", pos, end)
                line = data[pos:nl]
                pos = nl + 1
                yield _message(line), offset + pos
            offset += end


def _message(line: bytes) -> dict[str, Any] | None:
    try:
        msg = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # blank, or a write torn by a crash (never acknowledged)
    return msg if type(msg) is dict and type(msg.get("messageId")) is str else None
