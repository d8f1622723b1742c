"""The metric registry: every revenue metric by name, with the options it takes.

The CLI (`quarterdeck export NAME`, `quarterdeck metrics`), the pipeline and the docs look
metrics up here, so a metric has one name everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import ibis
import ibis.expr.types as ir

from quarterdeck.metrics.account_mrr import account_mrr_daily
from quarterdeck.metrics.cohorts import cohort_retention
from quarterdeck.metrics.dimensions import account_dimensions
from quarterdeck.metrics.mrr_bridge import mrr_bridge
from quarterdeck.metrics.mrr_movements import movements_by_period, mrr_movements
from quarterdeck.metrics.retention import retention
from quarterdeck.metrics.survival import customer_lifetimes, kaplan_meier


@dataclass(frozen=True)
class MetricOptions:
    """How a metric is asked for: the as-of date and the settings that shape it."""

    as_of: date
    base_currency: str
    grain: str = "month"
    window_months: int = 12
    by: tuple[str, ...] = ()
    start: date | None = None
    fiscal_start_month: int = 1
    free_plan: str = "churn"
    past_due_churn_days: int | None = None
    roll_up_parents: bool = False


@dataclass
class MetricInputs:
    """The shared building blocks of every metric, built once per request."""

    tables: Mapping[str, ir.Table]
    options: MetricOptions
    _cache: dict[str, ir.Table] = field(default_factory=dict)
    _days: dict[str, date] = field(default_factory=dict)

    def _get(self, name: str, build: Callable[[], ir.Table]) -> ir.Table:
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    def _revenue_settings(self) -> dict[str, object]:
        """What account MRR and movements depend on: the date and the metric settings."""
        o = self.options
        return {"as_of": o.as_of, "base_currency": o.base_currency, "free_plan": o.free_plan,
                "past_due_churn_days": o.past_due_churn_days,
                "roll_up_parents": o.roll_up_parents}

    @property
    def daily(self) -> ir.Table:
        return self._get("daily",
                         lambda: account_mrr_daily(self.tables, **self._revenue_settings()))

    @property
    def movements(self) -> ir.Table:
        return self._get("movements",
                         lambda: mrr_movements(self.tables, **self._revenue_settings()))

    @property
    def dimensions(self) -> ir.Table:
        o = self.options
        return self._get("dimensions", lambda: account_dimensions(
            self.tables, as_of=o.as_of, base_currency=o.base_currency))

    @property
    def start(self) -> date:
        """The first day reported: the option, else the first paying day in the data (the
        first movement is always an account's first `new`), looked up once per request."""
        if self.options.start is not None:
            return self.options.start
        if "start" not in self._days:
            first = self.movements.date.min().to_pyarrow().as_py()
            self._days["start"] = first or self.options.as_of
        return self._days["start"]


Metric = Callable[[MetricInputs], ir.Table]


def _movements(m: MetricInputs) -> ir.Table:
    o = m.options
    if o.grain == "day" and not o.by:
        return m.movements.order_by(["date", "account_id", "movement_type"])
    return movements_by_period(m.movements, m.dimensions, grain=o.grain, start=m.start,
                               end=o.as_of, by=o.by, fiscal_start_month=o.fiscal_start_month)


def _bridge(m: MetricInputs) -> ir.Table:
    o = m.options
    return mrr_bridge(m.movements, m.daily, m.dimensions, grain=o.grain, start=m.start,
                      end=o.as_of, by=o.by, fiscal_start_month=o.fiscal_start_month)


def _retention(m: MetricInputs) -> ir.Table:
    o = m.options
    return retention(m.daily, m.dimensions, as_of=o.as_of, grain=o.grain,
                     window_months=o.window_months, start=m.start, by=o.by,
                     fiscal_start_month=o.fiscal_start_month)


def _cohorts(m: MetricInputs) -> ir.Table:
    o = m.options
    grain = o.grain if o.grain in ("month", "quarter") else "month"
    return cohort_retention(m.daily, as_of=o.as_of, cohort_grain=grain, by=o.by,
                            dimensions=m.dimensions)


def _survival(m: MetricInputs) -> ir.Table:
    o = m.options
    by = o.by or ("segment",)
    lifetimes = customer_lifetimes(m.daily, m.dimensions, as_of=o.as_of, by=by)
    curve = kaplan_meier(lifetimes, by=by)
    return curve if isinstance(curve, ir.Table) else ibis.memtable(curve)


METRICS: dict[str, Metric] = {
    "account_mrr_daily": lambda m: m.daily,
    "account_dimensions": lambda m: m.dimensions,
    "mrr_movements": _movements,
    "mrr_bridge": _bridge,
    "retention": _retention,
    "cohorts": _cohorts,
    "survival": _survival,
}


def metric(name: str, tables: Mapping[str, ir.Table], options: MetricOptions) -> ir.Table:
    """The expression of metric `name` (see METRICS) for these tables and options."""
    return METRICS[name](MetricInputs(tables, options))
