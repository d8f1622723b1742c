"""Open the warehouse: an Ibis backend from a URL (embedded DuckDB by default)."""

from __future__ import annotations

from pathlib import Path

import ibis
from ibis.backends import BaseBackend


def connect(url: str, *, memory_limit: str | None = None, threads: int | None = None,
            read_only: bool = False) -> BaseBackend:
    """Connect to the warehouse at `url` (e.g. `duckdb:///abs/path.duckdb`, `postgres://…`).

    DuckDB sessions run in UTC so that timestamps without an offset mean UTC.
    """
    if url.startswith("duckdb://"):
        path = url[len("duckdb://"):] or ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, object] = {}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        con = ibis.duckdb.connect(path, read_only=read_only, **config)
        con.raw_sql("SET TimeZone = 'UTC'")
        # Derived tables never rely on row order; not keeping it lets big aggregations spill.
        con.raw_sql("SET preserve_insertion_order = false")
        con.raw_sql("SET enable_progress_bar = false")
        return con
    return ibis.connect(url)


def is_duckdb(con: BaseBackend) -> bool:
    return con.name == "duckdb"
