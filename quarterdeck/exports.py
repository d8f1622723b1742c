"""`quarterdeck export`: write any warehouse, derived or published table as CSV, Parquet or NDJSON.

Exportable tables, by name:
- every canonical entity (`accounts`, `subscriptions`, `events`, …) as loaded;
- `subscription_mrr`, `account_daily`, `account_snapshot`: computed as of the date;
- `loads`: the load manifest;
- `account_snapshots`, `account_arr_history`, `pipeline_runs`: what the app database holds
  (the snapshots of the as-of date).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.errors import UnknownTableError
from quarterdeck.landing.manifest import TABLE as MANIFEST_TABLE
from quarterdeck.landing.row_checks import literal
from quarterdeck.warehouse.account_daily import account_daily
from quarterdeck.warehouse.account_snapshot import account_snapshot
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.subscription_mrr import subscription_mrr
from quarterdeck.workspace.workspace import Workspace

Computed = Callable[[Workspace, BaseBackend, date], ir.Table]


def _daily(ws: Workspace, con: BaseBackend, as_of: date) -> ir.Table:
    return account_daily(canonical_tables(con), as_of=as_of,
                         base_currency=ws.settings.base_currency)


def _snapshot(ws: Workspace, con: BaseBackend, as_of: date) -> ir.Table:
    tiers = [(t.name, t.min_arr) for t in ws.tiers.tiers]
    return account_snapshot(canonical_tables(con), _daily(ws, con, as_of), as_of=as_of,
                            base_currency=ws.settings.base_currency, tiers=tiers)


def _subscription_mrr(ws: Workspace, con: BaseBackend, as_of: date) -> ir.Table:
    t = canonical_tables(con)
    return subscription_mrr(t["subscriptions"], t["fx_rates"], as_of=as_of,
                            base_currency=ws.settings.base_currency)


COMPUTED: dict[str, Computed] = {
    "subscription_mrr": _subscription_mrr,
    "account_daily": _daily,
    "account_snapshot": _snapshot,
}
PUBLISHED = ("account_snapshots", "account_arr_history", "pipeline_runs")


def exportable_tables() -> list[str]:
    return sorted([*ENTITIES, *COMPUTED, *PUBLISHED, "loads"])


def export_table(ws: Workspace, name: str, *, as_of: date, fmt: str = "csv",
                 out: Path | None = None) -> int:
    """Write table `name` to `out` (standard output when None); returns the rows written."""
    if name not in exportable_tables():
        raise UnknownTableError(
            f"no table called {name!r}; exportable tables: {', '.join(exportable_tables())}")
    if name in PUBLISHED:
        return _write_arrow(_published(ws, name, as_of), fmt, out)
    from quarterdeck.pipeline import open_warehouse

    con = open_warehouse(ws, read_only=True)
    try:
        if name in COMPUTED:
            sql = str(con.compile(COMPUTED[name](ws, con, as_of)))
        elif name == "loads":
            sql = f"SELECT * FROM {MANIFEST_TABLE} ORDER BY load_id"
        else:
            sql = str(con.compile(canonical_tables(con)[name]))
        return _copy(con.con, sql, fmt, out)
    finally:
        con.disconnect()


def _copy(con: duckdb.DuckDBPyConnection, sql: str, fmt: str, out: Path | None) -> int:
    """Stream a query to a file with DuckDB's COPY (bounded memory for any size)."""
    target = str(out) if out is not None else "/dev/stdout"
    options = {"csv": "FORMAT csv, HEADER", "parquet": "FORMAT parquet, COMPRESSION zstd",
               "json": "FORMAT json"}[fmt]
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
    result = con.execute(f"COPY ({sql}) TO {literal(target)} ({options})").fetchall()
    return int(result[0][0]) if result else 0


def _write_arrow(table: pa.Table, fmt: str, out: Path | None) -> int:
    con = duckdb.connect()
    con.register("published", table)
    return _copy(con, "SELECT * FROM published", fmt, out)


def _published(ws: Workspace, name: str, as_of: date) -> pa.Table:
    from quarterdeck.appdb.database import make_engine
    from quarterdeck.appdb.exports import published_table

    engine = make_engine(ws.app_database_url)
    try:
        return published_table(engine, name, as_of)
    finally:
        engine.dispose()
