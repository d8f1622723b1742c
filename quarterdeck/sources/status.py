"""Where each configured source stands: last sync, rows loaded, and whether it is fresh.

Freshness here is the sync's view: how long ago the last successful sync finished, against
the source's `expected_every`. The data-quality report (`quarterdeck quality`) judges the data
itself: the age of the newest row of each entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from quarterdeck.sources.sync import source_dir
from quarterdeck.sources.sync_state import SyncState
from quarterdeck.workspace.workspace import Workspace


@dataclass
class SourceStatus:
    name: str
    kind: str
    expected_every: timedelta
    last_status: str | None = None  # ok | failed | running, None when never synced
    last_sync_at: datetime | None = None  # when the last successful sync finished
    last_error: str | None = None
    records: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    newest: datetime | None = None

    def age(self, now: datetime) -> timedelta | None:
        return None if self.last_sync_at is None else now - self.last_sync_at

    def freshness(self, now: datetime) -> str:
        """never synced | fresh | stale"""
        age = self.age(now)
        if age is None:
            return "never synced"
        return "fresh" if age <= self.expected_every else "stale"


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def source_statuses(ws: Workspace) -> list[SourceStatus]:
    """Every configured source's status, in name order."""
    statuses = []
    for name, source in sorted(ws.sources.sources.items()):
        state = SyncState.load(source_dir(ws, name))
        status = SourceStatus(name, source.kind, source.expected_for("accounts"))
        if state.last_run:
            status.last_status = state.last_run.status
            status.last_error = state.last_run.error
        if state.last_success:
            status.last_sync_at = _parse(state.last_success.finished_at)
        for obj in state.objects.values():
            status.records += obj.records
            for entity, n in obj.rows.items():
                status.rows[entity] = status.rows.get(entity, 0) + n
            newest = _parse(obj.newest)
            if newest and (status.newest is None or newest > status.newest):
                status.newest = newest
        statuses.append(status)
    return statuses


def sync_warnings(statuses: list[SourceStatus], now: datetime) -> list[str]:
    """What a run should say of its synced sources: a last sync that failed, a source never
    synced, a last good sync older than the source's `expected_every`.

    Example: "source billing was last synced 3 days ago (expected every 1d)"."""
    from quarterdeck.quality.freshness import age_text, duration_text

    out = []
    for s in statuses:
        if s.last_status == "failed":
            out.append(f"the last sync of source {s.name} failed: {s.last_error}")
        freshness = s.freshness(now)
        if freshness == "never synced":
            out.append(f"source {s.name} was never synced (quarterdeck sync {s.name})")
        elif freshness == "stale":
            out.append(f"source {s.name} was last synced {age_text(s.age(now))} ago "
                       f"(expected every {duration_text(s.expected_every)})")
    return out
