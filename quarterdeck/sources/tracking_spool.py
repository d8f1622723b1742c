"""The tracking spool: accepted tracking calls, appended as NDJSON and fsync'd before the reply.

Each server process appends to its own file, `spool-<start time>-<pid>.ndjson`, opened for
append only; accepted lines are never rewritten. A line is written whole and fsync'd before
the API answers 200, so an acknowledged call survives a crash; a crash mid-write can leave
only an unacknowledged partial last line, which conversion ignores.

Conversion (`convert_spool`) turns what was appended since the last conversion into files of
the data contract (`events-*.ndjson`, `users-*.ndjson`, `accounts-*.ndjson`) that
`quarterdeck load` takes. It remembers how far it read each spool file, and which account
each user belongs to, in `converted.json` next to the spool files.

Example::

    spool = Spool(ws.data_dir / "tracking" / "spool")
    spool.append([{"type": "track", "messageId": "m1", "event": "Signed Up", ...}])
    convert_spool(spool.dir, ws.data_dir / "tracking" / "contract")
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from quarterdeck.landing.landing_area import fsync_path, publish_version, temp_path

SPOOL_GLOB = "spool-*.ndjson"
STATE_FILE = "converted.json"
RECENT_IDS = 1_000_000  # messageIds remembered for de-duplication at ingest


class Spool:
    """An append-only, fsync'd NDJSON file of accepted messages, de-duplicated by messageId."""

    def __init__(self, spool_dir: Path, recent_ids: int = RECENT_IDS) -> None:
        self.dir = spool_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._limit = recent_ids
        self._lock = threading.Lock()
        self._prime_recent_ids()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.path = self.dir / f"spool-{stamp}-{os.getpid()}.ndjson"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fsync_path(self.dir)  # the new file's name is durable before anything is acknowledged

    def append(self, messages: list[dict[str, Any]]) -> int:
        """Append the messages not seen before, in one write and one fsync; returns how many."""
        with self._lock:
            fresh, ids = [], []
            for msg in messages:
                mid = msg["messageId"]
                if mid in self._recent or mid in ids:
                    continue
                fresh.append(orjson.dumps(msg))
                ids.append(mid)
            if fresh:
                data = b"\n".join(fresh) + b"\n"
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view):]
                os.fsync(self._fd)
            # Only acknowledged ids count as seen: a failed write must be retried, not dropped.
            for mid in ids:
                self._remember(mid)
            return len(fresh)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _remember(self, mid: str) -> None:
        self._recent[mid] = None
        if len(self._recent) > self._limit:
            self._recent.popitem(last=False)

    def _prime_recent_ids(self) -> None:
        """Remember the ids of the newest spooled messages, so a resend after restart is dropped."""
        ids: list[str] = []
        for path in sorted(self.dir.glob(SPOOL_GLOB), reverse=True):
            for msg in reversed(list(_complete_lines(path, 0)[0])):
                ids.append(msg["messageId"])
            if len(ids) >= self._limit:
                break
        for mid in reversed(ids[: self._limit]):
            self._remember(mid)


@dataclass
class Conversion:
    """What one conversion wrote: files by entity and row counts."""

    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    users_without_account: int = 0


def convert_spool(spool_dir: Path, out_dir: Path) -> Conversion:
    """Write the messages spooled since the last conversion as data-contract files.

    track → `events` (event_id = messageId); identify → `users` (email, name traits); group →
    the user's account in `users` and an `accounts` row (account_id = groupId, name trait).
    A user is written once their account is known. Running it again with nothing new writes
    nothing; a conversion interrupted before saving its state writes the same files again
    under the same names, and the loader recognises them.
    """
    state_path = spool_dir / STATE_FILE
    state = json.loads(state_path.read_text("utf-8")) if state_path.exists() else {}
    offsets: dict[str, int] = state.get("offsets", {})
    users: dict[str, dict[str, Any]] = state.get("users", {})

    messages, ranges = [], []
    for path in sorted(spool_dir.glob(SPOOL_GLOB)):
        start = offsets.get(path.name, 0)
        batch, end = _complete_lines(path, start)
        if end > start:
            messages.extend(batch)
            ranges.append(f"{path.name}:{start}:{end}")
            offsets[path.name] = end
    result = Conversion()
    if not messages:
        return result

    events, accounts, touched, seen = [], {}, set(), set()
    for msg in messages:
        if msg["messageId"] in seen:
            result.duplicates += 1
            continue
        seen.add(msg["messageId"])
        user_id = msg.get("userId") or msg.get("anonymousId")
        kind = msg["type"]
        if kind == "track":
            events.append(_event_row(msg, user_id))
        elif kind == "identify":
            traits = msg.get("traits") or {}
            profile = users.setdefault(user_id, {"created_at": _when(msg)})
            for column in ("email", "name"):
                if isinstance(traits.get(column), str):
                    profile[column] = traits[column]
            touched.add(user_id)
        elif kind == "group":
            account_id = str(msg["groupId"])
            traits = msg.get("traits") or {}
            accounts[account_id] = _drop_none({
                "account_id": account_id,
                "name": str(traits.get("name") or account_id),
                "domain": traits.get("domain") if isinstance(traits.get("domain"), str) else None,
            })
            users.setdefault(user_id, {"created_at": _when(msg)})["account_id"] = account_id
            touched.add(user_id)

    user_rows = [
        _drop_none({"user_id": uid, **users[uid]}) for uid in sorted(touched)
        if users[uid].get("account_id")
    ]
    result.users_without_account = len(touched) - len(user_rows)
    digest = hashlib.sha256("\n".join(ranges).encode()).hexdigest()[:16]
    out_dir.mkdir(parents=True, exist_ok=True)
    for entity, rows in (("accounts", list(accounts.values())), ("users", user_rows),
                         ("events", events)):
        if rows:
            result.files[entity] = _write_rows(out_dir / f"{entity}-tracking-{digest}.ndjson", rows)
            result.rows[entity] = len(rows)

    tmp = temp_path(state_path)
    tmp.write_text(json.dumps({"offsets": offsets, "users": users}), encoding="utf-8")
    publish_version(tmp, state_path)
    return result


def _complete_lines(path: Path, start: int) -> tuple[list[dict[str, Any]], int]:
    """Messages on whole lines from byte `start`, and the offset after the last whole line."""
    with path.open("rb") as f:
        f.seek(start)
        data = f.read()
    end = data.rfind(b"\n") + 1
    lines = data[:end].splitlines()
    messages = []
    for line in lines:
        try:
            messages.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue  # only an unacknowledged write torn by a crash can look like this
    return messages, start + end


def _event_row(msg: dict[str, Any], user_id: str | None) -> dict[str, Any]:
    props = msg.get("properties") or {}
    context = msg.get("context") or {}
    account_id = context.get("groupId") or props.get("account_id") or props.get("groupId")
    value = props.get("value")
    return _drop_none({
        "event_id": msg["messageId"],
        "timestamp": _when(msg),
        "event": msg["event"],
        "user_id": user_id,
        "account_id": str(account_id) if account_id else None,
        "value": value if isinstance(value, int | float) and not isinstance(value, bool) else None,
        "properties": orjson.dumps(props).decode() if props else None,
    })


def _when(msg: dict[str, Any]) -> str:
    return msg.get("timestamp") or msg["receivedAt"]


def _drop_none(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None}


def _write_rows(final: Path, rows: list[dict[str, Any]]) -> Path:
    tmp = temp_path(final)
    with tmp.open("wb") as f:
        for row in rows:
            f.write(orjson.dumps(row) + b"\n")
    publish_version(tmp, final)
    return final
