"""The registry of behaviours the cross-backend suite runs: one line per expression.

A behaviour is a name, the world it runs on and a function from canonical tables to an Ibis
table. Every behaviour runs on every backend and must give the same rows as on DuckDB. A new
metric joins with one line, e.g.

    case("mrr_movements@2024-06-30", lambda t: mrr_movements(t, as_of=JUNE_30, base_currency=USD)),

and a backend that cannot run it yet says so on the same line: `marks=[notimpl("pyspark", why)]`.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa
import pytest

from quarterdeck.health.churn_model import model_features, training_rows
from quarterdeck.health.churn_risk import scoring_rows
from quarterdeck.health.feature_table import feature_table
from quarterdeck.health.health_scores import health_scores
from quarterdeck.lifecycle.book import evaluate_book
from quarterdeck.metrics.registry import MetricOptions, metric
from quarterdeck.warehouse.account_daily import account_daily, account_usage_daily
from quarterdeck.warehouse.account_snapshot import account_snapshot
from quarterdeck.warehouse.calendar import date_spine
from quarterdeck.warehouse.subscription_mrr import missing_rates, subscription_mrr
from quarterdeck.workspace.init import init_workspace
from quarterdeck.workspace.workspace import Workspace, open_workspace

try:
    from pyspark.errors import AnalysisException
except ImportError:  # without Spark its runs fail loudly in the `spark` fixture instead
    AnalysisException = Exception  # type: ignore[misc,assignment]

Tables = Mapping[str, ir.Table]
USD = "USD"
JUNE_30 = date(2024, 6, 30)
AS_OF_DATES = (date(2024, 1, 31), date(2024, 2, 29), JUNE_30, date(2024, 7, 31))



@dataclass(frozen=True)
class Behaviour:
    name: str
    build: Callable[[Tables], ir.Table | pa.Table]  # an expression, or rows fetched
    world: str = "reference"
    marks: Sequence[pytest.MarkDecorator] = ()

    def param(self) -> object:
        return pytest.param(self, id=self.name, marks=list(self.marks))


def case(name: str, build: Callable[[Tables], ir.Table | pa.Table], *, world: str = "reference",
         marks: Sequence[pytest.MarkDecorator] = ()) -> Behaviour:
    return Behaviour(name, build, world, marks)


def _mrr(t: Tables, as_of: date) -> ir.Table:
    return subscription_mrr(t["subscriptions"], t["fx_rates"], as_of=as_of, base_currency=USD)


@functools.cache
def defaults() -> Workspace:
    """The shipped definitions (health models, tiers, stages, signals, playbooks), as
    `quarterdeck init` writes them."""
    root = Path(tempfile.mkdtemp(prefix="qd-backends-")) / "ws"
    init_workspace(root)
    return open_workspace(root)


def _tiers() -> list[tuple[str, float]]:
    return [(t.name, t.min_arr) for t in defaults().tiers.tiers]


def _snapshot(t: Tables) -> ir.Table:
    daily = account_daily(t, as_of=JUNE_30, base_currency=USD)
    return account_snapshot(t, daily, as_of=JUNE_30, base_currency=USD, tiers=_tiers())


def _features(t: Tables) -> ir.Table:
    return feature_table(t, as_of=JUNE_30, base_currency=USD,
                         features=defaults().health_models.features, lookback=(7, 30))


def _health(t: Tables) -> ir.Table:
    models = defaults().health_models
    return health_scores(_features(t), models, as_of=JUNE_30)


def _stages(t: Tables) -> ir.Table:
    return evaluate_book(t, defaults().book, as_of=JUNE_30, base_currency=USD,
                         tiers=_tiers()).stages


def _churn_rows(t: Tables, rows: Callable[..., pa.Table]) -> pa.Table:
    """The churn model's rows: features computed where the tables live and fetched (the
    model itself is fitted in Python on them)."""
    features, _ = model_features(t, as_of=JUNE_30)
    return rows(t, as_of=JUNE_30, base_currency=USD, features=features)


def _metric(name: str, t: Tables, **options: object) -> ir.Table:
    return metric(name, t, MetricOptions(as_of=JUNE_30, base_currency=USD,
                                          start=date(2024, 1, 1), **options))


BEHAVIOURS: list[Behaviour] = [
    *[case(f"subscription_mrr@{d}", lambda t, d=d: _mrr(t, d)) for d in AS_OF_DATES],
    case("account_usage_daily@2024-06-30",
         lambda t: account_usage_daily(t["events"], t["users"], as_of=JUNE_30)),
    *[case(f"account_daily@{d}", lambda t, d=d: account_daily(t, as_of=d, base_currency=USD))
           for d in AS_OF_DATES],
    case("account_daily_from_start@2024-06-30",
         lambda t: account_daily(t, as_of=JUNE_30, base_currency=USD, start=date(2024, 4, 1))),
    case("date_spine@2024-02-27..2024-03-01",
         lambda t: date_spine(date(2024, 2, 27), date(2024, 3, 1))),
    # The revenue metrics, by their registry names, as the CLI exports them.
    *[case(f"{name}@2024-06-30", lambda t, name=name: _metric(name, t))
      for name in ("account_mrr_daily", "mrr_movements", "mrr_bridge", "retention", "cohorts",
                   "survival")],
    case("mrr_bridge_by_segment@2024-06-30",
         lambda t: _metric("mrr_bridge", t, by=("segment",))),
    # The daily pipeline after the daily tables: snapshot, health scores (with the features
    # they are computed from), lifecycle stages (with the facts every rule reads).
    case("account_snapshot@2024-06-30", _snapshot),
    case("health_scores@2024-06-30", _health),
    case("lifecycle_stages@2024-06-30", _stages),
    case("churn_training_rows@2024-06-30", lambda t: _churn_rows(
        t, functools.partial(training_rows, since=date.min))),
    case("churn_scoring_rows@2024-06-30", lambda t: _churn_rows(t, scoring_rows)),
    case("missing_rates@2024-06-30", lambda t: missing_rates(_mrr(t, JUNE_30)),
         world="missing_rate"),
    case("subscription_mrr_with_missing_rate@2024-06-30", lambda t: _mrr(t, JUNE_30),
         world="missing_rate"),
]
