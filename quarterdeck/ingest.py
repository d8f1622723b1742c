"""Loading files into a workspace: the warehouse connection and the landing area together."""

from __future__ import annotations

from pathlib import Path

from quarterdeck.errors import NotSupportedError
from quarterdeck.landing.loader import Loader, LoadReport, Progress
from quarterdeck.warehouse.connection import connect, is_duckdb
from quarterdeck.workspace.workspace import Workspace


def load_into_workspace(ws: Workspace, paths: list[Path], *, entity: str | None = None,
                        skip_invalid: bool = False, progress: Progress | None = None
                        ) -> LoadReport:
    """Validate and load `paths` (files or folders) into the workspace's warehouse."""
    con = connect(ws.warehouse_url, memory_limit=ws.settings.warehouse.load_memory_limit,
                  threads=ws.settings.warehouse.threads)
    try:
        if not is_duckdb(con):
            raise NotSupportedError(
                f"loading files straight into a {con.name} warehouse is not supported yet: load "
                "into the default DuckDB warehouse, or map existing tables as a warehouse source")
        tmp = ws.data_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        con.raw_sql(f"SET temp_directory = '{tmp}'")
        loader = Loader(con.con, ws.landing_dir, ws.rejects_dir, progress=progress)
        return loader.load(paths, entity=entity, skip_invalid=skip_invalid)
    finally:
        con.disconnect()
