"""MetricInputs: metrics asked together share their priced rows and change days, give what
they give alone, check the exchange rates, and query the tables' own engine."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.operations as ops
import ibis.expr.types.core as ibis_core
import pytest

from quarterdeck.errors import MissingRateError
from quarterdeck.metrics.registry import METRICS, MetricInputs, MetricOptions, metric
from quarterdeck.testing import revenue_worlds as rw
from quarterdeck.testing import worlds

_spec = importlib.util.spec_from_file_location(
    "warehouse_conftest", Path(__file__).parents[1] / "warehouse" / "conftest.py")
_warehouse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_warehouse)
on_backend = _warehouse.on_backend

AS_OF = date(2024, 12, 31)
DAY = MetricOptions(as_of=AS_OF, base_currency="USD", grain="day")
MONTH = MetricOptions(as_of=AS_OF, base_currency="USD", grain="month", by=("segment",))
ASKED = (("mrr_movements", DAY), ("mrr_bridge", MONTH), ("retention", MONTH),
         ("account_mrr_daily", MONTH), ("cohorts", MONTH))


def _rows(backend, expr):
    rows = backend.con.to_pyarrow(expr).to_pylist()
    return sorted(rows, key=lambda r: [str(v) for v in r.values()])


def test_metrics_asked_together_give_what_each_gives_alone(on_backend):
    tables = on_backend.load(rw.revenue_world())
    inputs = MetricInputs(tables, DAY)
    for name, options in ASKED:
        together = _rows(on_backend, metric(name, inputs, options))
        alone = _rows(on_backend, metric(name, tables, options))
        assert together == alone, name
        assert together, name


def test_the_change_days_are_computed_once_per_revenue_setting(on_backend):
    inputs = MetricInputs(on_backend.load(rw.revenue_world()), DAY)
    month = inputs.with_options(MONTH)
    assert month.changes is inputs.changes
    assert month.subscription_rows is inputs.subscription_rows
    contraction = inputs.with_options(MetricOptions(as_of=AS_OF, base_currency="USD",
                                                    free_plan="contraction"))
    assert contraction.changes is not inputs.changes  # another setting, its own change days
    assert contraction.subscription_rows is inputs.subscription_rows
    held = isinstance(inputs.changes.op(), ops.InMemoryTable)
    # Held in memory where the engine supports it (DuckDB), computed in place elsewhere.
    assert held == (on_backend.con.name == "duckdb")


def test_a_missing_rate_stops_every_metric(on_backend):
    tables = on_backend.load(worlds.missing_rate())
    options = MetricOptions(as_of=date(2024, 6, 30), base_currency="USD")
    for name in METRICS:
        with pytest.raises(MissingRateError) as raised:
            metric(name, tables, options)
        assert (raised.value.currency, raised.value.date) == ("GBP", "2024-03-01"), name


def test_every_query_runs_on_the_tables_engine(monkeypatch):
    # The change days are an in-memory table: a query over them alone (the first paying
    # day) would run on a default engine of Ibis's own unless it is given the tables'.
    con = ibis.duckdb.connect()
    backend = _warehouse.Backend(con)
    tables = backend.load(rw.revenue_world())

    def no_default():
        raise AssertionError("a query ran on Ibis's default engine")

    monkeypatch.setattr(ibis_core, "_default_backend", no_default)
    monkeypatch.setattr(ibis, "get_backend", no_default)
    inputs = MetricInputs(tables, MONTH.__class__(as_of=AS_OF, base_currency="USD"))
    assert inputs.start == date(2024, 1, 1)
    assert con.to_pyarrow(metric("mrr_bridge", inputs, MONTH)).num_rows > 0
