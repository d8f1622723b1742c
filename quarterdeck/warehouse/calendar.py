"""Date spines: every day between two dates, built inside the engine.

A spine is generated where the data lives (an array of days, unnested), so that it needs no
round trip and works for a start date that is itself a column. The same expression runs on
DuckDB (`range` + `unnest`) and PostgreSQL (`generate_series` in an array + `unnest`).
"""

from __future__ import annotations

from datetime import date, datetime, time

import ibis
import ibis.expr.types as ir


def _midnight(day: date | ir.DateValue | ir.TimestampValue) -> ir.TimestampValue:
    if isinstance(day, datetime):
        return ibis.timestamp(day)
    if isinstance(day, date):
        return ibis.timestamp(datetime.combine(day, time()))
    return day if day.type().is_timestamp() else day.cast("timestamp")


def day_range(first: date | ir.DateValue, stop: date | ir.DateValue) -> ir.ArrayValue:
    """The days from `first` up to, not including, `stop` (as midnight timestamps; take
    `.unnest().date()`). Empty when `stop` ≤ `first`.

    Example: day_range(2024-02-28, 2024-03-01) → [2024-02-28, 2024-02-29].
    """
    return ibis.range(_midnight(first), _midnight(stop), ibis.interval(days=1))


def days_between(first: date | ir.DateValue, last: date | ir.DateValue) -> ir.ArrayValue:
    """The days from `first` through `last`, both included (empty when `last` < `first`).

    Example: days_between(2024-02-28, 2024-03-01) → [2024-02-28, 2024-02-29, 2024-03-01].
    """
    return day_range(first, _midnight(last) + ibis.interval(days=1))


def date_spine(first: date, last: date) -> ir.Table:
    """A one-column table (`date`) holding every day from `first` through `last`.

    Example: date_spine(2024-01-01, 2024-12-31) has 366 rows.
    """
    one = ibis.memtable({"first": [first]})
    # Unnested on its own, then cast: Spark refuses a generator nested in an expression.
    days = one.select(date=days_between(one["first"], last).unnest())
    return days.select(date=days.date.date())
