"""Spool to data contract: what the tracking API accepted, as files `quarterdeck load` takes.

Conversion (`convert_spool`) turns what was appended to the spool files since the last
conversion into files of the data contract (`events-*.ndjson`, `users-*.ndjson`,
`accounts-*.ndjson`). It remembers how far it read each spool file, and which account each
user belongs to, in `converted.json` next to the spool files. It streams: events are written
out as they are read, so a conversion's memory holds the messageIds it has seen (for
de-duplication), the users and the accounts, not the events.

Exactly once: a message can be in the spool more than once (resent to another server process,
or resent after its id left the spool's memory). Conversion keeps the first copy of each
`messageId` it reads, and a copy that arrives in a later conversion becomes the same
`event_id` again, which the loader replaces rather than adds (the id is the key of `events`).

Example::

    convert_spool(ws.data_dir / "tracking" / "spool", ws.data_dir / "tracking" / "outbox")
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from quarterdeck.landing.landing_area import TMP_PREFIX, publish_version, temp_path
from quarterdeck.sources.tracking_spool import SPOOL_GLOB, spooled_messages

STATE_FILE = "converted.json"
LOCK_FILE = ".convert.lock"


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
    under the same names, and the loader recognises them. One conversion runs at a time.
    """
    result = Conversion()
    if not spool_dir.is_dir():
        return result
    with _exclusive(spool_dir / LOCK_FILE):
        state_path = spool_dir / STATE_FILE
        state = json.loads(state_path.read_text("utf-8")) if state_path.exists() else {}
        offsets: dict[str, int] = state.get("offsets", {})
        users: dict[str, dict[str, Any]] = state.get("users", {})
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.glob(f"{TMP_PREFIX}*"):  # left by a conversion that crashed
            stale.unlink()

        events_tmp = out_dir / f"{TMP_PREFIX}events-tracking.ndjson"
        accounts: dict[str, dict[str, Any]] = {}
        touched: set[str] = set()
        seen: set[str] = set()
        ranges: list[str] = []
        events = 0
        with events_tmp.open("wb") as events_out:
            for path in sorted(spool_dir.glob(SPOOL_GLOB)):
                start = end = offsets.get(path.name, 0)
                for msg, end in spooled_messages(path, start):  # noqa: B007 - end is kept
                    if msg is None:
                        continue
                    if msg["messageId"] in seen:
                        result.duplicates += 1
                        continue
                    seen.add(msg["messageId"])
                    events += _take(msg, events_out, users, accounts, touched)
                if end > start:
                    ranges.append(f"{path.name}:{start}:{end}")
                    offsets[path.name] = end
        if not ranges:
            events_tmp.unlink()
            return result

        user_rows = [_drop_none({"user_id": uid, **users[uid]}) for uid in sorted(touched)
                     if users[uid].get("account_id")]
        result.users_without_account = len(touched) - len(user_rows)
        digest = hashlib.sha256("\n".join(ranges).encode()).hexdigest()[:16]
        for entity, rows in (("accounts", list(accounts.values())), ("users", user_rows)):
            if rows:
                final = out_dir / f"{entity}-tracking-{digest}.ndjson"
                result.files[entity] = _write_rows(final, rows)
                result.rows[entity] = len(rows)
        if events:
            final = out_dir / f"events-tracking-{digest}.ndjson"
            publish_version(events_tmp, final)
            result.files["events"], result.rows["events"] = final, events
        else:
            events_tmp.unlink()

        tmp = temp_path(state_path)
        tmp.write_text(json.dumps({"offsets": offsets, "users": users}), encoding="utf-8")
        publish_version(tmp, state_path)
        return result


def _take(msg: dict[str, Any], events_out: IO[bytes], users: dict[str, dict[str, Any]],
          accounts: dict[str, dict[str, Any]], touched: set[str]) -> int:
    """Turn one message into contract rows; returns the number of events written."""
    user_id = msg.get("userId") or msg.get("anonymousId")
    kind = msg.get("type")
    if kind == "track":
        events_out.write(orjson.dumps(_event_row(msg, user_id), option=orjson.OPT_APPEND_NEWLINE))
        return 1
    if kind == "identify":
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
    return 0


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
            f.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
    publish_version(tmp, final)
    return final


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
