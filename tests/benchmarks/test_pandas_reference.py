"""The pandas reference of the metrics benchmark gives Quarterdeck's numbers exactly.

Money to the cent, counts exactly, ratios to 1e-12: on a small demo company and on the
hand-built revenue worlds, so that the benchmark compares two programs computing the same
thing.
"""

from __future__ import annotations

import importlib.util
import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from quarterdeck.demo.generator import generate_demo
from quarterdeck.ingest import load_into_workspace
from quarterdeck.metrics.registry import MetricOptions, metric
from quarterdeck.testing import revenue_worlds as rw
from quarterdeck.testing.worlds import load_world
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.connection import connect, open_warehouse
from quarterdeck.workspace.init import init_workspace
from quarterdeck.workspace.workspace import open_workspace

_spec = importlib.util.spec_from_file_location(
    "pandas_reference", Path(__file__).parents[2] / "benchmarks" / "pandas_reference.py")
pr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pr)

MONEY = ("amount", "mrr_before", "mrr_after", "mrr", "starting_mrr", *pr.MOVEMENT_TYPES,
         "ending_mrr", "starting_arr", "ending_arr", "retained_mrr", "expansion_mrr",
         "contraction_mrr", "churned_mrr")
RATIOS = ("nrr", "grr", "logo_churn", "revenue_churn", "expansion_rate", "contraction_rate")


def cents(value: Decimal) -> int:
    exact = value * 100
    assert exact == exact.to_integral_value(), value
    return int(exact)


def engine_rows(expr) -> list[dict]:
    """An engine result as plain rows: money in cents, dates as dates."""
    out = []
    for row in expr.to_pyarrow().to_pylist():
        out.append({k: cents(v) if isinstance(v, Decimal) else v for k, v in row.items()})
    return out


def reference_rows(frame) -> list[dict]:
    """A pandas result as plain rows: timestamps as dates, numpy scalars as Python ones."""
    out = []
    for row in frame.to_dict("records"):
        out.append({k: v.date() if isinstance(v, datetime) else
                    (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return out


def assert_same_rows(engine: list[dict], reference: list[dict], key: tuple[str, ...]) -> None:
    def index(rows):
        return {tuple(r[k] for k in key): r for r in rows}

    e, r = index(engine), index(reference)
    assert len(e) == len(engine) and len(r) == len(reference), "duplicate keys"
    assert sorted(e) == sorted(r), (sorted(set(e) ^ set(r)))[:10]
    for k, row in e.items():
        other = r[k]
        for column, value in row.items():
            if column not in other:
                continue
            if column in RATIOS:
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    assert math.isnan(other[column]), (k, column)
                else:
                    assert abs(value - other[column]) <= 1e-12, (k, column, value, other[column])
            else:
                assert value == other[column], (k, column, value, other[column])


def compare(con, as_of: date) -> tuple[int, int, int]:
    tables = canonical_tables(con)
    ref = pr.compute(pr.read_tables(con), as_of=as_of, base_currency="USD")
    day = MetricOptions(as_of=as_of, base_currency="USD", grain="day")
    month = MetricOptions(as_of=as_of, base_currency="USD", grain="month", window_months=12)

    movements = engine_rows(metric("mrr_movements", tables, day))
    assert_same_rows(movements, reference_rows(ref.movements),
                     ("account_id", "date", "movement_type"))
    daily = engine_rows(metric("account_mrr_daily", tables, month))
    assert_same_rows(daily, reference_rows(pr.account_mrr_daily(ref.days, as_of=as_of)),
                     ("account_id", "date"))
    bridge = engine_rows(metric("mrr_bridge", tables, month))
    assert_same_rows(bridge, reference_rows(ref.bridge), ("period",))
    assert set(bridge[0]) == set(ref.bridge.columns)
    retention = engine_rows(metric("retention", tables, month))
    assert_same_rows(retention, reference_rows(ref.retention), ("period",))
    assert set(retention[0]) == set(ref.retention.columns)
    # The variant reading a daily table gives the same.
    by_day = pr.compute(pr.read_tables(con), as_of=as_of, base_currency="USD", daily=True)
    assert_same_rows(bridge, reference_rows(by_day.bridge), ("period",))
    assert_same_rows(retention, reference_rows(by_day.retention), ("period",))
    return len(movements), len(bridge), len(retention)


def test_demo_company_agrees(tmp_path: Path) -> None:
    company = generate_demo(tmp_path / "company", accounts=80, years=2, seed=5)
    init_workspace(tmp_path / "ws")
    ws = open_workspace(tmp_path / "ws")
    data = company.data_dir
    report = load_into_workspace(ws, [data / f"{name}.parquet" for name in
                                      ("accounts", "subscriptions", "fx_rates", "invoices")])
    assert report.ok
    con = open_warehouse(ws)
    try:
        moves, months, windows = compare(con, company.today)
    finally:
        con.disconnect()
    assert moves > 100 and months == windows == 25


def test_revenue_worlds_agree() -> None:
    """The hand-built worlds: netting, prepaid contracts, discounts, several currencies,
    rates moving under running rows, trials, a leap day and reactivations."""
    con = connect("duckdb://")
    load_world(con, rw.revenue_world())
    moves, months, windows = compare(con, rw.AS_OF)
    assert moves > 20 and months == windows
