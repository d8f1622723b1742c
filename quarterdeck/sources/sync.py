"""Syncing a source: pages from its connector → contract files → the warehouse, cursor last.

For each object the connector reads, pages are gathered until `FLUSH_ROWS` rows, then written
as NDJSON contract files into `data/sources/<name>/outbox/` (temp file, fsync, rename), loaded
through the same loader as any file (validated, landed append-only, upserted by id), and only
then is the cursor after the last of those pages stored. So:

- a sync that fails half-way (the vendor down past its retries, a crash) loads what it had
  read, keeps that cursor, and the next sync resumes there;
- a page read twice (a crash between loading and storing the cursor) loads the same rows by
  the same ids: an upsert, nothing doubled;
- a child account read a batch before its parent loads at once and gets its parent link when
  the sync has read everything (`quarterdeck.sources.deferred_parents`).

Rows that break the contract (a Stripe customer without a name …) are set aside in
`data/rejects/` with file, row and field, as for any file; the sync goes on with the others.

Example::

    result = sync_source(ws, "stripe", progress=lambda obj, records: ...)
    result.records, result.rows_loaded
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from quarterdeck.contract.entities import ENTITIES, loading_order
from quarterdeck.errors import QuarterdeckError
from quarterdeck.ingest import (
    RESOLUTION_INPUTS,
    load_into_workspace,
    resolve_workspace_identities,
)
from quarterdeck.landing.landing_area import publish_version, temp_path
from quarterdeck.landing.loader import LoadReport
from quarterdeck.sources.connector import Connector, Page, Row
from quarterdeck.sources.credentials import load_credentials
from quarterdeck.sources.deferred_parents import DeferredParents
from quarterdeck.sources.ndjson import write_rows
from quarterdeck.sources.sync_state import SyncRun, SyncState, now_iso
from quarterdeck.workspace.workspace import Workspace

FLUSH_ROWS = 50_000
CONNECTORS = {
    "stripe": "quarterdeck.sources.stripe_connector:StripeConnector",
    "hubspot": "quarterdeck.sources.hubspot_connector:HubSpotConnector",
    "salesforce": "quarterdeck.sources.salesforce_connector:SalesforceConnector",
    "zendesk": "quarterdeck.sources.zendesk_connector:ZendeskConnector",
    "warehouse_table": "quarterdeck.sources.warehouse_table:WarehouseTableSource",
}
SyncProgress = Callable[[str, int], None]


class SyncFailed(QuarterdeckError):
    """A sync stopped part-way; what it read before is loaded and its cursor kept."""


@dataclass
class SyncResult:
    source: str
    records: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    objects: dict[str, int] = field(default_factory=dict)
    reports: list[LoadReport] = field(default_factory=list)
    loaded_entities: set[str] = field(default_factory=set)

    @property
    def rejects_files(self) -> list[str]:
        return sorted({f.rejects_file for r in self.reports for f in r.files if f.rejects_file})


def source_dir(ws: Workspace, name: str) -> Path:
    return ws.data_dir / "sources" / name


def connector_class(kind: str) -> type[Connector]:
    module, _, cls = CONNECTORS[kind].partition(":")
    return getattr(importlib.import_module(module), cls)


def make_connector(ws: Workspace, name: str) -> Connector:
    """The connector of source `name`, with its credentials from the environment or secrets."""
    source = ws.sources.source(name)
    cls = connector_class(source.kind)
    return cls(name, source, load_credentials(ws.root, name, cls.secrets))


def _safe(obj: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in obj)


def latest_per_key(entity: str, records: list[Row]) -> list[Row]:
    """Pages come in the order records changed: of a record read twice, its later row."""
    key = ENTITIES[entity].key
    latest: dict[object, Row] = {}
    for n, row in enumerate(records):
        ids = tuple(row.get(k) for k in key)
        latest[n if None in ids else ids] = row  # a row without its id is left to be refused
    return list(latest.values())


def write_outbox(folder: Path, obj: str, rows: dict[str, list[list[Row] | pa.Table]]
                 ) -> list[Path]:
    """Each entity's rows as one contract file, durable before it is loaded: NDJSON for mapped
    records, Parquet for Arrow tables."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    paths = []
    for entity in loading_order([e for e, parts in rows.items() if parts]):
        tables = [p for p in rows[entity] if isinstance(p, pa.Table)]
        records = latest_per_key(
            entity, [r for p in rows[entity] if not isinstance(p, pa.Table) for r in p])
        if tables:
            final = folder / f"{entity}-{_safe(obj)}-{stamp}.parquet"
            tmp = temp_path(final)
            pq.write_table(pa.concat_tables(tables, promote_options="permissive"), tmp)
            publish_version(tmp, final)
            paths.append(final)
        if records:
            paths.append(write_rows(folder / f"{entity}-{_safe(obj)}-{stamp}.ndjson", records))
    return paths


class _ObjectSync:
    """The pages of one object, gathered and flushed: loaded, then the cursor stored."""

    def __init__(self, ws: Workspace, name: str, obj: str, state: SyncState, run: SyncRun,
                 result: SyncResult, deferred: DeferredParents) -> None:
        self.ws, self.name, self.obj = ws, name, obj
        self.deferred = deferred
        self.state, self.run, self.result = state, run, result
        self.pending: dict[str, list[list[Row] | pa.Table]] = {}
        self.pending_rows = 0
        self.pending_records = 0
        self.cursor = state.object(obj).cursor
        self.newest: datetime | None = None
        self.dirty = False

    def add(self, page: Page) -> None:
        for entity, rows in page.rows.items():
            self.pending.setdefault(entity, []).append(rows)
            self.pending_rows += rows.num_rows if isinstance(rows, pa.Table) else len(rows)
        self.pending_records += page.records
        self.cursor = page.cursor
        if page.newest is not None and (self.newest is None or page.newest > self.newest):
            self.newest = page.newest
        self.dirty = True
        if self.pending_rows >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.dirty:
            return
        outbox = source_dir(self.ws, self.name) / "outbox"
        self.deferred.hold_back(self.ws, self.pending)
        files = write_outbox(outbox, self.obj, self.pending)
        obj_state = self.state.object(self.obj)
        if files:
            report = load_into_workspace(self.ws, files, skip_invalid=True, resolve=False)
            self.result.loaded_entities.update(f.entity for f in report.files
                                               if f.rows_loaded)
            self.result.reports.append(report)
            for f in report.files:
                obj_state.rows[f.entity] = obj_state.rows.get(f.entity, 0) + f.rows_loaded
                self.result.rows_loaded += f.rows_loaded
                self.result.rows_rejected += f.rows_rejected
                self.run.rows_loaded += f.rows_loaded
                self.run.rows_rejected += f.rows_rejected
        obj_state.cursor = self.cursor
        obj_state.records += self.pending_records
        if self.newest is not None:
            newest = self.newest.astimezone(UTC).isoformat(timespec="seconds")
            obj_state.newest = max(filter(None, (obj_state.newest, newest)))
        self.result.records += self.pending_records
        self.result.objects[self.obj] = (self.result.objects.get(self.obj, 0)
                                         + self.pending_records)
        self.run.records += self.pending_records
        self.state.save()
        for path in files:  # landed now; the outbox copy is no longer needed
            path.unlink(missing_ok=True)
        self.pending, self.pending_rows, self.pending_records = {}, 0, 0
        self.dirty = False


def sync_source(ws: Workspace, name: str, *, objects: list[str] | None = None,
                connector: Connector | None = None,
                progress: SyncProgress | None = None) -> SyncResult:
    """Read what changed in source `name` since its last sync and load it into the warehouse."""
    connector = connector or make_connector(ws, name)
    folder = source_dir(ws, name)
    # Files of a flush that crashed before loading: their pages are read again, cursor unmoved.
    shutil.rmtree(folder / "outbox", ignore_errors=True)
    state = SyncState.load(folder)
    run = state.start_run()
    state.save()
    result = SyncResult(name)
    deferred = DeferredParents.load(folder)
    chosen = connector.selected_objects()
    if objects:
        unknown = sorted(set(objects) - set(chosen))
        if unknown:
            raise QuarterdeckError(f"source {name!r} does not sync {', '.join(unknown)} "
                                   f"(it syncs {', '.join(chosen)})")
        chosen = tuple(o for o in chosen if o in objects)
    try:
        for obj in chosen:
            job = _ObjectSync(ws, name, obj, state, run, result, deferred)
            read = 0
            try:
                for page in connector.pages(obj, job.cursor):
                    job.add(page)
                    read += page.records
                    if progress:
                        progress(obj, read)
            finally:
                job.flush()  # what was read before a failure is kept, with its cursor
            state.object(obj).synced_at = now_iso()
            state.save()
        if (report := deferred.settle(ws)) is not None:
            result.reports.append(report)
            for f in report.files:
                result.rows_rejected += f.rows_rejected
                run.rows_rejected += f.rows_rejected
    except QuarterdeckError as exc:
        _finish(state, run, "failed", str(exc))
        raise
    except Exception as exc:
        _finish(state, run, "failed", f"{type(exc).__name__}: {exc}")
        raise SyncFailed(f"sync of {name!r} stopped: {type(exc).__name__}: {exc}; what was "
                         "read before is loaded and the next sync resumes from there") from exc
    finally:
        # Once per sync, not per batch: who is one customer, with what was loaded.
        if result.loaded_entities & set(RESOLUTION_INPUTS):
            resolve_workspace_identities(ws)
    _finish(state, run, "ok", None)
    return result


def _finish(state: SyncState, run: SyncRun, status: str, error: str | None) -> None:
    run.status, run.error, run.finished_at = status, error, now_iso()
    state.save()
