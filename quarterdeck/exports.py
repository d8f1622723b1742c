"""`quarterdeck export`: write any warehouse, derived or published table as CSV, Parquet or NDJSON.

Exportable tables, by name:
- every canonical entity (`accounts`, `subscriptions`, `events`, …) as loaded;
- `subscription_mrr`, `account_daily`, `account_snapshot`: computed as of the date;
- `health_scores`, `churn_risk`, `renewal_outcomes`: health and risk computed as of the date
  (the churn model trained as of the date, or the one saved for it);
- `account_mrr_daily`, `account_dimensions`, `mrr_movements`, `mrr_bridge`, `retention`,
  `cohorts`, `survival`: the revenue metrics (see docs/metrics-*.md), shaped by `grain`,
  `window`, `by` and the workspace's metric settings;
- `loads`: the load manifest;
- `account_resolution`, `account_matches`: identity resolution (see docs/identity.md);
- `account_snapshots`, `account_arr_history`, `pipeline_runs`: what the app database holds
  (the snapshots of the as-of date);
- `lifecycle_stages`, `lifecycle_history`, `alerts`, `alert_events`, `playbook_runs`, `tasks`:
  the book as it stood on the as-of date, and `ops_metrics`, the operations metrics of that
  day by CSM (`--by team` or `--by segment`) (see docs/operations.md);
- `renewal_forecast`, `forecast_periods`, `forecast_accuracy`: the renewal forecast as of the
  date over `horizon_days`, rolled up by `grain` and `by`, and
  its backtest (see docs/forecast.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from quarterdeck.warehouse.subscription_mrr import check_rates, subscription_mrr
from quarterdeck.workspace.workspace import Workspace

Computed = Callable[[Workspace, BaseBackend, date], ir.Table | pa.Table]


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


def _health_scores(ws: Workspace, con: BaseBackend, as_of: date) -> ir.Table:
    from quarterdeck.health import feature_table, health_scores

    f = feature_table(canonical_tables(con), as_of=as_of, base_currency=ws.settings.base_currency,
                      features=ws.health_models.features, lookback=(7, 30))
    return health_scores(f, ws.health_models, as_of=as_of)


def _renewal_outcomes(ws: Workspace, con: BaseBackend, as_of: date) -> ir.Table:
    from quarterdeck.health import renewal_outcomes

    return renewal_outcomes(canonical_tables(con), as_of=as_of,
                            base_currency=ws.settings.base_currency)


def _churn_risk(ws: Workspace, con: BaseBackend, as_of: date) -> pa.Table:
    from quarterdeck.health.churn_risk import churn_risk
    from quarterdeck.health.model_store import churn_models_dir, load_model, saved_dates
    from quarterdeck.landing.account_versions import with_account_versions

    root = churn_models_dir(ws.data_dir)
    model = load_model(root, as_of) if as_of in saved_dates(root) else None
    tables = with_account_versions(canonical_tables(con), con, ws.landing_dir)
    return churn_risk(tables, as_of=as_of, base_currency=ws.settings.base_currency,
                      model=model, window_days=ws.settings.churn.window_days,
                      attributes=ws.settings.churn.attributes)


COMPUTED: dict[str, Computed] = {
    "subscription_mrr": _subscription_mrr,
    "account_daily": _daily,
    "account_snapshot": _snapshot,
    "health_scores": _health_scores,
    "renewal_outcomes": _renewal_outcomes,
    "churn_risk": _churn_risk,
}
PUBLISHED = ("account_snapshots", "account_arr_history", "pipeline_runs")
BOOK_TABLES = ("lifecycle_stages", "lifecycle_history", "alerts", "alert_events",
               "playbook_runs", "tasks", "ops_metrics")
IDENTITY_TABLES = ("account_resolution", "account_matches")
QUALITY_TABLE = "data_quality"
FORECAST_TABLES = ("renewal_forecast", "forecast_periods", "forecast_accuracy")
# The metric registry's names (quarterdeck.metrics.registry.METRICS; a test keeps them equal).
METRIC_TABLES = ("account_mrr_daily", "account_dimensions", "mrr_movements", "mrr_bridge",
                 "retention", "cohorts", "survival")


#: Tables whose rows come out of the engine in no set order (parallel aggregations), sorted on
#: every column so that two exports of the same day are the same file. (`events`, which can
#: hold a hundred million rows, keeps the order the warehouse reads them in.)
SORTED_ON_EXPORT = frozenset({"account_daily", "account_mrr_daily", "health_scores",
                              "renewal_outcomes", "mrr_movements"})


@dataclass(frozen=True)
class Shape:
    """How a metric export is cut: period grain, retention window, dimensions, roll-up."""

    grain: str = "month"
    window_months: int = 12
    by: tuple[str, ...] = ()
    start: date | None = None
    roll_up_parents: bool = False
    horizon_days: int = 90  # renewal_forecast, forecast_periods


def rated_tables(con: BaseBackend, as_of: date, base_currency: str) -> dict[str, ir.Table]:
    """The canonical tables, once every subscription row has its exchange rate: a missing
    rate stops here with an error naming the currency and date, never a silent 1.0 or 0."""
    tables = canonical_tables(con)
    check_rates(con, subscription_mrr(tables["subscriptions"], tables["fx_rates"], as_of=as_of,
                                      base_currency=base_currency), base_currency)
    return tables


def exportable_tables() -> list[str]:
    return sorted([*ENTITIES, *COMPUTED, *METRIC_TABLES, *PUBLISHED, *BOOK_TABLES,
                   *IDENTITY_TABLES, *FORECAST_TABLES,
                   QUALITY_TABLE, "loads"])


def metric_options(ws: Workspace, as_of: date, shape: Shape):
    """The registry's options for this workspace's settings and the requested shape."""
    from quarterdeck.metrics.registry import MetricOptions

    settings = ws.settings
    return MetricOptions(
        as_of=as_of, base_currency=settings.base_currency, grain=shape.grain,
        window_months=shape.window_months, by=shape.by, start=shape.start,
        fiscal_start_month=settings.fiscal_year_start_month,
        free_plan=settings.metrics.free_plan,
        past_due_churn_days=settings.metrics.past_due_churn_days,
        roll_up_parents=shape.roll_up_parents)


def export_table(ws: Workspace, name: str, *, as_of: date, fmt: str = "csv",
                 out: Path | None = None, shape: Shape | None = None,
                 con: BaseBackend | None = None) -> int:
    """Write table `name` to `out` (standard output when None); returns the rows written.
    `con` is the warehouse when the caller has it open (it stays open), else it is opened
    here when needed."""
    if name not in exportable_tables():
        raise UnknownTableError(
            f"no table called {name!r}; exportable tables: {', '.join(exportable_tables())}")
    if name in PUBLISHED or name in BOOK_TABLES:
        by = (shape or Shape()).by
        return _write_arrow(_published(ws, name, as_of, ops_by=by[0] if by else "csm"), fmt,
                            out)
    from quarterdeck.warehouse.connection import open_warehouse

    own = con is None
    con = open_warehouse(ws, read_only=True) if con is None else con
    try:
        if name in FORECAST_TABLES:
            return _write_arrow(_forecast(ws, con, name, as_of, shape or Shape()), fmt, out)
        if name == QUALITY_TABLE:
            from quarterdeck.pipeline import quality_stage

            return _write_arrow(quality_stage(ws, con, as_of).to_arrow(), fmt, out)
        if name in COMPUTED:
            rated_tables(con, as_of, ws.settings.base_currency)
            expr = COMPUTED[name](ws, con, as_of)
            if isinstance(expr, pa.Table):  # computed in Python (the churn model)
                return _write_arrow(expr, fmt, out)
        elif name in METRIC_TABLES:
            from quarterdeck.metrics.registry import metric

            options = metric_options(ws, as_of, shape or Shape())
            # The metric's inputs check the exchange rates once they have the subscription rows.
            expr = metric(name, canonical_tables(con), options)
        elif name in IDENTITY_TABLES:
            expr = _identity_table(con, name)
        elif name == "loads":
            expr = con.sql(f"SELECT * FROM {MANIFEST_TABLE} ORDER BY load_id")
        else:
            expr = canonical_tables(con)[name]
        if name in SORTED_ON_EXPORT:
            expr = expr.order_by(list(expr.columns))
        # Batches stream from whichever backend computes the table into DuckDB's writer,
        # so an export of any size runs in bounded memory.
        return _write_batches(con.to_pyarrow_batches(expr, chunk_size=100_000), fmt, out)
    finally:
        if own:
            con.disconnect()


def _identity_table(con: BaseBackend, name: str) -> ir.Table:
    """An identity resolution table, ordered by account ids (empty before any resolution)."""
    import ibis

    from quarterdeck.identity.tables import ACCOUNT_MATCHES_SCHEMA, ACCOUNT_RESOLUTION_SCHEMA

    schema = {"account_resolution": ACCOUNT_RESOLUTION_SCHEMA,
              "account_matches": ACCOUNT_MATCHES_SCHEMA}[name]
    if name not in con.list_tables():
        return ibis.memtable(schema.empty_table())
    table = con.table(name)
    return table.order_by([table[c] for c in schema.names[:2]])


def _copy(con: duckdb.DuckDBPyConnection, sql: str, fmt: str, out: Path | None) -> int:
    """Write a query's rows to a file with DuckDB's COPY."""
    target = str(out) if out is not None else "/dev/stdout"
    options = {"csv": "FORMAT csv, HEADER", "parquet": "FORMAT parquet, COMPRESSION zstd",
               "json": "FORMAT json"}[fmt]
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
    result = con.execute(f"COPY ({sql}) TO {literal(target)} ({options})").fetchall()
    return int(result[0][0]) if result else 0


def _write_batches(batches: pa.RecordBatchReader, fmt: str, out: Path | None) -> int:
    # Engines may hand back a batch in a wider type than the expression declares (DuckDB
    # sums integers as 128-bit decimals); every batch is cast to the declared schema so the
    # writer never reads one type as another.
    schema = batches.schema
    conformed = pa.RecordBatchReader.from_batches(
        schema, (b if b.schema.equals(schema) else b.cast(schema) for b in batches))
    con = duckdb.connect()
    con.register("export_rows", conformed)
    return _copy(con, "SELECT * FROM export_rows", fmt, out)


def _write_arrow(table: pa.Table, fmt: str, out: Path | None) -> int:
    con = duckdb.connect()
    con.register("published", table)
    return _copy(con, "SELECT * FROM published", fmt, out)


def _published(ws: Workspace, name: str, as_of: date, *, ops_by: str = "csm") -> pa.Table:
    from quarterdeck.appdb.database import make_engine, migrate
    from quarterdeck.appdb.exports import published_table
    from quarterdeck.appdb.operations_exports import operations_table

    engine = make_engine(ws.app_database_url)
    try:
        migrate(engine)  # before the first run the tables are made empty: "nothing published"
        if name == "ops_metrics":
            from quarterdeck.appdb.ops_metrics import ops_metrics

            return ops_metrics(engine, as_of=as_of, by=ops_by)
        if name in BOOK_TABLES:
            return operations_table(engine, name, as_of)
        return published_table(engine, name, as_of)
    finally:
        engine.dispose()


def _forecast(ws: Workspace, con: BaseBackend, name: str, as_of: date, shape: Shape) -> pa.Table:
    from quarterdeck.appdb import forecast_exports as f
    from quarterdeck.appdb.database import make_engine, migrate

    engine = make_engine(ws.app_database_url)
    try:
        migrate(engine)
        rated_tables(con, as_of, ws.settings.base_currency)
        if name == "renewal_forecast":
            return f.renewal_forecast_table(ws, con, engine, as_of=as_of,
                                            horizon_days=shape.horizon_days)
        if name == "forecast_periods":
            return f.forecast_periods_table(ws, con, engine, as_of=as_of,
                                            horizon_days=shape.horizon_days, grain=shape.grain,
                                            by=shape.by)
        return f.forecast_accuracy_result(ws, con, engine, as_of=as_of).periods
    finally:
        engine.dispose()
