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
from ibis.backends import BaseBackend

from quarterdeck.metrics.account_mrr import account_mrr_changes, daily_from_changes
from quarterdeck.metrics.cohorts import cohort_retention
from quarterdeck.metrics.dimensions import account_dimensions, table_of
from quarterdeck.metrics.mrr_bridge import mrr_bridge
from quarterdeck.metrics.mrr_movements import movements_by_period, movements_from_changes
from quarterdeck.metrics.retention import retention
from quarterdeck.metrics.survival import customer_lifetimes, kaplan_meier
from quarterdeck.warehouse.shared_results import engine_of, materialised
from quarterdeck.warehouse.subscription_mrr import check_rates, subscription_mrr


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
class _Revenue:
    """What every revenue metric of one set of revenue settings reads, built once."""

    changes: ir.Table
    start: date | None = None
    movements: ir.Table | None = None
    daily: ir.Table | None = None


@dataclass
class MetricInputs:
    """The shared building blocks of every metric: the change days of each account's revenue
    are computed once per set of revenue settings and read by every metric asked of these
    inputs, also through `with_options` (a report asking for several metrics)."""

    tables: Mapping[str, ir.Table]
    options: MetricOptions
    _revenue: dict[tuple, _Revenue] = field(default_factory=dict)
    _dimensions: dict[tuple, ir.Table] = field(default_factory=dict)
    _rows: dict[tuple, ir.Table] = field(default_factory=dict)

    @property
    def engine(self) -> BaseBackend | None:
        """The engine the tables live on (see `_engine`)."""
        return engine_of(self.tables)

    def with_options(self, options: MetricOptions) -> MetricInputs:
        """The same tables asked with other options, sharing what was already built."""
        return MetricInputs(self.tables, options, self._revenue, self._dimensions, self._rows)

    @property
    def subscription_rows(self) -> ir.Table:
        """`subscription_mrr` as of the date, once every row has its exchange rate: a missing
        rate stops here with an error naming the currency and date, never a silent 0."""
        o = self.options
        key = (o.as_of, o.base_currency)
        if key not in self._rows:
            rows = subscription_mrr(table_of(self.tables, "subscriptions"),
                                    table_of(self.tables, "fx_rates"), as_of=o.as_of,
                                    base_currency=o.base_currency)
            engine = self.engine
            held = materialised(rows, engine)
            if engine is not None:
                check_rates(engine, held, o.base_currency)
            self._rows[key] = held
        return self._rows[key]

    def _revenue_settings(self) -> dict[str, object]:
        """What account MRR and movements depend on: the date and the metric settings."""
        o = self.options
        return {"as_of": o.as_of, "base_currency": o.base_currency, "free_plan": o.free_plan,
                "past_due_churn_days": o.past_due_churn_days,
                "roll_up_parents": o.roll_up_parents}

    @property
    def _shared(self) -> _Revenue:
        settings = self._revenue_settings()
        key = tuple(settings.values())
        if key not in self._revenue:
            self._revenue[key] = _Revenue(materialised(account_mrr_changes(
                self.tables, **settings, subscription_rows=self.subscription_rows),
                self.engine))
        return self._revenue[key]

    @property
    def changes(self) -> ir.Table:
        """`account_mrr_changes` for these options."""
        return self._shared.changes

    @property
    def daily(self) -> ir.Table:
        shared = self._shared
        if shared.daily is None:
            shared.daily = daily_from_changes(shared.changes, as_of=self.options.as_of)
        return shared.daily

    @property
    def movements(self) -> ir.Table:
        shared = self._shared
        if shared.movements is None:
            shared.movements = movements_from_changes(shared.changes)
        return shared.movements

    @property
    def dimensions(self) -> ir.Table:
        o = self.options
        key = (o.as_of, o.base_currency)
        if key not in self._dimensions:
            self._dimensions[key] = account_dimensions(
                self.tables, as_of=o.as_of, base_currency=o.base_currency,
                subscription_rows=self.subscription_rows)
        return self._dimensions[key]

    @property
    def start(self) -> date:
        """The first day reported: the option, else the first paying day in the data (the
        first movement is always an account's first `new`), looked up once per settings."""
        if self.options.start is not None:
            return self.options.start
        shared = self._shared
        if shared.start is None:
            first_day = self.movements.date.min()
            # On the tables' own engine: the movements may read only in-memory tables, which
            # Ibis would otherwise run on a default engine of its own.
            engine = self.engine
            first = (engine.to_pyarrow(first_day) if engine is not None
                     else first_day.to_pyarrow()).as_py()
            shared.start = first or self.options.as_of
        return shared.start


Metric = Callable[[MetricInputs], ir.Table]


def _movements(m: MetricInputs) -> ir.Table:
    o = m.options
    if o.grain == "day" and not o.by:
        return m.movements.order_by(["date", "account_id", "movement_type"])
    return movements_by_period(m.movements, m.dimensions, grain=o.grain, start=m.start,
                               end=o.as_of, by=o.by, fiscal_start_month=o.fiscal_start_month)


def _bridge(m: MetricInputs) -> ir.Table:
    o = m.options
    return mrr_bridge(m.changes, m.dimensions, grain=o.grain, start=m.start,
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


def metric(name: str, tables: Mapping[str, ir.Table] | MetricInputs,
           options: MetricOptions) -> ir.Table:
    """The expression of metric `name` (see METRICS) for these tables and options; given the
    inputs of an earlier metric, what it built is read again rather than rebuilt."""
    if isinstance(tables, MetricInputs):
        return METRICS[name](tables.with_options(options))
    return METRICS[name](MetricInputs(tables, options))
