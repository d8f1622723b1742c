"""Loading files into a workspace: the warehouse connection and the landing area together.

Files are always validated and landed with DuckDB. With the default DuckDB warehouse they load
straight into it; with another warehouse (PostgreSQL, Spark) they load into the DuckDB staging
file `data/staging.duckdb`, and the canonical tables are then mirrored into the warehouse
(see `quarterdeck.warehouse.mirror` and docs/backends.md).
"""

from __future__ import annotations

from pathlib import Path

from quarterdeck.landing.loader import Loader, LoadReport, Progress
from quarterdeck.warehouse.backends import capabilities
from quarterdeck.warehouse.connection import connect
from quarterdeck.warehouse.mirror import mirror, staging_url
from quarterdeck.workspace.workspace import Workspace


def load_into_workspace(ws: Workspace, paths: list[Path], *, entity: str | None = None,
                        skip_invalid: bool = False, progress: Progress | None = None
                        ) -> LoadReport:
    """Validate and load `paths` (files or folders) into the workspace's warehouse."""
    target = ws.warehouse_url
    direct = capabilities(target).supports("load_files")
    con = connect(target if direct else staging_url(ws.data_dir),
                  memory_limit=ws.settings.warehouse.load_memory_limit,
                  threads=ws.settings.warehouse.threads)
    try:
        tmp = ws.data_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        con.raw_sql(f"SET temp_directory = '{tmp}'")
        loader = Loader(con.con, ws.landing_dir, ws.rejects_dir, progress=progress)
        report = loader.load(paths, entity=entity, skip_invalid=skip_invalid)
        if not direct:
            # Also catches up after a load whose mirroring was interrupted.
            mirror(con.con, target, root=ws.root, progress=progress)
        return report
    finally:
        con.disconnect()
