"""Publishing the revenue series of a day: the monthly ARR bridge and trailing-12-month
retention by segment, for the 12 months ending on the run's date.

They are cut as `series_shape` says, so that

    quarterdeck export mrr_bridge --as-of D --grain month --by segment --start S
    quarterdeck export retention  --as-of D --grain month --by segment --start S --window 12

(S the first day of the month eleven months before D's) give exactly the rows published.
Each numeric cell of those rows becomes one row of `metric_series`, keyed by (as_of, metric,
segment, period) with metric = "<export>.<column>": "mrr_bridge.new",
"mrr_bridge.churned_customers" (the logos churned in the month), "retention.nrr". A segment
the export leaves empty reads "(none)". `publish_metric_series` replaces the day's rows in
one transaction, so re-running a day changes nothing and the app never sees half a day.

Example: publish_metric_series(engine, as_of=date(2026, 9, 30),
tables={"mrr_bridge": bridge, "retention": retention}) → 1,668.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, delete, insert

from quarterdeck.appdb.data_versions import METRICS, bump
from quarterdeck.appdb.metric_series_models import MetricSeries
from quarterdeck.appdb.publish import PublishError
from quarterdeck.exports import Shape
from quarterdeck.metrics.dimensions import NONE

#: The exports published, the dimension they are cut by, and how many months back.
SERIES_METRICS = ("mrr_bridge", "retention")
SERIES_BY = "segment"
SERIES_MONTHS = 12
RETENTION_WINDOW_MONTHS = 12
#: Columns that say which row a cell belongs to, not a figure.
_KEYS = ("period", "period_start", "period_end", "window_start", "window_months", SERIES_BY)
_BATCH_ROWS = 5_000


def series_start(as_of: date, months: int = SERIES_MONTHS) -> date:
    """The first day of the first of the `months` months ending with the one holding `as_of`.

    >>> series_start(date(2026, 9, 30))
    datetime.date(2025, 10, 1)
    """
    index = as_of.year * 12 + as_of.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def series_shape(as_of: date) -> Shape:
    """How the published series are cut (the export options that give the same rows)."""
    return Shape(grain="month", window_months=RETENTION_WINDOW_MONTHS, by=(SERIES_BY,),
                 start=series_start(as_of))


def _value(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def series_rows(metric: str, table: pa.Table) -> Iterator[dict[str, Any]]:
    """The cells of one export's rows as `metric_series` rows (without `as_of`)."""
    missing = [c for c in ("period", "period_start", "period_end", SERIES_BY)
               if c not in table.column_names]
    if missing:
        raise PublishError(f"{metric} to publish: missing columns {missing}")
    figures = [f.name for f in table.schema if f.name not in _KEYS
               and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
                    or pa.types.is_decimal(f.type))]
    for row in table.to_pylist():
        for figure in figures:
            yield {"metric": f"{metric}.{figure}", "segment": row[SERIES_BY] or NONE,
                   "period": row["period"], "period_start": row["period_start"],
                   "period_end": row["period_end"], "value": _value(row[figure])}


def publish_metric_series(engine: Engine, *, as_of: date, tables: Mapping[str, pa.Table]) -> int:
    """Replace the revenue series of `as_of` with the rows of `tables` (export name → its
    rows, see the module); returns the rows published."""
    unknown = sorted(set(tables) - set(SERIES_METRICS))
    if unknown:
        raise PublishError(f"cannot publish {', '.join(unknown)} as a revenue series; "
                           f"publish {', '.join(SERIES_METRICS)}")
    late = sorted({str(d) for t in tables.values() for d in t["period_end"].to_pylist()
                   if d is not None and d > as_of})
    if late:
        raise PublishError(f"revenue series to publish as of {as_of} run to {late[-1]}")
    published = 0
    with engine.begin() as connection:
        connection.execute(delete(MetricSeries).where(MetricSeries.as_of == as_of))
        for metric, table in tables.items():
            batch: list[dict[str, Any]] = []
            for row in series_rows(metric, table):
                batch.append({"as_of": as_of, **row})
                if len(batch) == _BATCH_ROWS:
                    connection.execute(insert(MetricSeries), batch)
                    published += len(batch)
                    batch = []
            if batch:
                connection.execute(insert(MetricSeries), batch)
                published += len(batch)
        bump(connection, METRICS)
    return published
