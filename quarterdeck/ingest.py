"""Loading files into a workspace: the warehouse connection and the landing area together.

Files are always validated and landed with DuckDB. With the default DuckDB warehouse they load
straight into it; with another warehouse (PostgreSQL, Spark) they load into the DuckDB staging
file `data/staging.duckdb`, and the canonical tables are then mirrored into the warehouse
(see `quarterdeck.warehouse.mirror` and docs/backends.md).

A load that changed accounts or subscriptions re-runs identity resolution on the same DuckDB
(see `quarterdeck.identity` and docs/identity.md); its tables are mirrored with the others.
"""

from __future__ import annotations

from pathlib import Path

import ibis
from ibis.backends import BaseBackend

from quarterdeck.identity import (
    IdentityDefinitions,
    load_identity_definitions,
    resolve_identities,
)
from quarterdeck.identity.resolution import Resolution
from quarterdeck.identity.tables import ACCOUNT_RESOLUTION, RESOLUTION_TABLES
from quarterdeck.landing.loader import Loader, LoadReport, Progress
from quarterdeck.warehouse.backends import capabilities
from quarterdeck.warehouse.connection import connect
from quarterdeck.warehouse.mirror import mirror, staging_url
from quarterdeck.workspace.workspace import Workspace

# Entities whose change can change who is one customer (subscriptions: the paying rule).
RESOLUTION_INPUTS = ("accounts", "subscriptions")


def load_into_workspace(ws: Workspace, paths: list[Path], *, entity: str | None = None,
                        skip_invalid: bool = False, progress: Progress | None = None,
                        resolve: bool = True, encoding: str | None = None) -> LoadReport:
    """Validate and load `paths` (files or folders) into the workspace's warehouse.

    `encoding` names the encoding of text files that are not UTF-8 (by default Windows-1252
    is detected, anything else refused; see `quarterdeck.landing.text_encoding`).

    With `resolve=False` identity resolution is left to the caller (a sync loading many
    batches runs `resolve_workspace_identities` once at the end)."""
    target = ws.warehouse_url
    direct = capabilities(target).supports("load_files")
    definitions = load_identity_definitions(ws.definitions_dir)  # a bad file stops us first
    con = _load_connection(ws, direct)
    try:
        tmp = ws.data_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        con.raw_sql(f"SET temp_directory = '{tmp}'")
        loader = Loader(con.con, ws.landing_dir, ws.rejects_dir, progress=progress)
        report = loader.load(paths, entity=entity, skip_invalid=skip_invalid, encoding=encoding)
        resolved = resolve and _needs_resolution(con, report)
        if resolved:
            if progress:
                progress("accounts", "resolving identities")
            _resolve(ws, con, definitions)
        if not direct:
            # Also catches up after a load whose mirroring was interrupted.
            mirror(con.con, target, root=ws.root, progress=progress,
                   derived=RESOLUTION_TABLES, refresh_derived=resolved)
        return report
    finally:
        con.disconnect()


def resolve_workspace_identities(ws: Workspace, *, full: bool = False) -> Resolution:
    """Re-run identity resolution (e.g. after identity.yml changed) where loads run it, and
    mirror its tables to a PostgreSQL or Spark warehouse. `full` re-fits the matching model
    and scores every pair, instead of only the accounts changed since the last resolution."""
    target = ws.warehouse_url
    direct = capabilities(target).supports("load_files")
    con = _load_connection(ws, direct)
    try:
        resolution = _resolve(ws, con, load_identity_definitions(ws.definitions_dir),
                              full=full)
        if not direct:
            mirror(con.con, target, root=ws.root, derived=RESOLUTION_TABLES,
                   refresh_derived=True)
        return resolution
    finally:
        con.disconnect()


def existing_values(ws: Workspace, entity: str, column: str, values: set[str]) -> set[str]:
    """Which of `values` the loaded `entity` already holds in `column` (where loads land)."""
    direct = capabilities(ws.warehouse_url).supports("load_files")
    con = _load_connection(ws, direct)
    try:
        if entity not in con.list_tables():
            return set()
        wanted = ibis.memtable({"value": sorted(values)}, schema={"value": "string"})
        table = con.table(entity)
        found = table.select(value=table[column].cast("string")).distinct()
        hits = found.semi_join(wanted, "value").to_pyarrow()
        return set(hits.column("value").to_pylist())
    finally:
        con.disconnect()


def _load_connection(ws: Workspace, direct: bool) -> BaseBackend:
    return connect(ws.warehouse_url if direct else staging_url(ws.data_dir),
                   memory_limit=ws.settings.warehouse.load_memory_limit,
                   threads=ws.settings.warehouse.threads)


def _needs_resolution(con: BaseBackend, report: LoadReport) -> bool:
    changed = any(f.status == "loaded" and f.entity in RESOLUTION_INPUTS for f in report.files)
    # A warehouse loaded before identity resolution existed is resolved on its next load.
    return changed or ACCOUNT_RESOLUTION not in con.list_tables()


def _resolve(ws: Workspace, con: BaseBackend, definitions: IdentityDefinitions, *,
             full: bool = False) -> Resolution:
    kinds = {name: source.kind for name, source in ws.sources.sources.items()}
    return resolve_identities(con, definitions, kinds, full=full)
