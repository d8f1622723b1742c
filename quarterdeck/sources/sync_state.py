"""What a source's syncs remember: a cursor per object, row counts, freshness and recent runs.

Kept in `data/sources/<name>/state.json`, replaced atomically (temp file, fsync, rename) after
each page batch is loaded, so the stored cursor never runs ahead of the data in the warehouse.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quarterdeck.landing.landing_area import fsync_path, temp_path

STATE_FILE = "state.json"
RUNS_KEPT = 20


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ObjectState:
    cursor: dict[str, Any] | None = None
    records: int = 0  # vendor records read over every sync
    rows: dict[str, int] = field(default_factory=dict)  # contract rows loaded, by entity
    newest: str | None = None  # newest change time the vendor reported (ISO)
    synced_at: str | None = None  # when a sync of this object last finished


@dataclass
class SyncRun:
    started_at: str
    finished_at: str | None = None
    status: str = "running"  # running | ok | failed
    records: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    error: str | None = None


@dataclass
class SyncState:
    path: Path
    objects: dict[str, ObjectState] = field(default_factory=dict)
    runs: list[SyncRun] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> SyncState:
        path = folder / STATE_FILE
        if not path.exists():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(path, {k: ObjectState(**v) for k, v in data.get("objects", {}).items()},
                   [SyncRun(**r) for r in data.get("runs", [])])

    def object(self, name: str) -> ObjectState:
        return self.objects.setdefault(name, ObjectState())

    @property
    def last_run(self) -> SyncRun | None:
        return self.runs[-1] if self.runs else None

    @property
    def last_success(self) -> SyncRun | None:
        return next((r for r in reversed(self.runs) if r.status == "ok"), None)

    def start_run(self) -> SyncRun:
        run = SyncRun(started_at=now_iso())
        self.runs = [*self.runs[-(RUNS_KEPT - 1):], run]
        return run

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"objects": {k: asdict(v) for k, v in self.objects.items()},
                "runs": [asdict(r) for r in self.runs]}
        tmp = temp_path(self.path)
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        fsync_path(self.path.parent)
