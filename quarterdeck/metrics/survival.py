"""Customer survival: how long customers stay, as Kaplan–Meier curves by segment.

A customer's lifetime starts on its first paying day (first day with MRR > 0) and ends on
its first churn: the first later day on which it is not a customer. A later reactivation
does not extend it (a lifetime ends at the first churn, as ChartMogul counts it); a customer
still active on `as_of` is censored there.

Months are calendar months from the first paying day, clamped to month ends (2024-01-31 + 1
month = 2024-02-29). survival(m) estimates the share of customers still customers m months
after their first paying day, so a churned lifetime counts the month it ended in: churn on
2024-04-20 after a start on 2024-01-15 is an event at month 4 (still a customer on 04-15), and
a customer observed through as_of 2024-04-14 is censored at month 2 (04-15 not seen yet).

Kaplan–Meier (product limit): survival(m) = Π over months t ≤ m of (1 − events(t) /
at_risk(t)), at_risk(t) = lifetimes of t months or more. Example: 10 customers, 2 churn at
month 1 and 1 is censored at month 1, 1 churns at month 2 → survival(1) = 0.8, at_risk(2) = 7,
survival(2) = 0.8 × 6/7 ≈ 0.686.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.metrics.cohorts import first_paying_days, month_index
from quarterdeck.metrics.retention import ALL, flag, with_dimensions


def _is_month_end(day: ir.DateValue) -> ir.BooleanValue:
    return (day + ibis.interval(days=1)).day() == 1


def months_reached(first: ir.DateValue, day: ir.DateValue) -> ir.IntegerValue:
    """Whole months from `first` that have elapsed by `day` (largest n with first + n months
    ≤ day). Example: 2024-01-31 → 2024-02-29 is 1; 2024-01-15 → 2024-04-14 is 2."""
    raw = month_index(day) - month_index(first)
    short = (first.day() > day.day()) & ~_is_month_end(day)
    return raw - flag(short)


def months_started(first: ir.DateValue, day: ir.DateValue) -> ir.IntegerValue:
    """Months from `first` needed to reach `day` (smallest n with first + n months ≥ day).
    Example: 2024-01-15 → 2024-04-15 is 3; → 2024-04-20 is 4."""
    return month_index(day) - month_index(first) + flag(first.day() < day.day())


def customer_lifetimes(daily: ir.Table, dimensions: ir.Table | None, *, as_of: date,
                       by: Sequence[str] = ("segment",)) -> ir.Table:
    """One row per account that paid by `as_of`: account_id, <by>, first_day, churn_day (NULL
    while censored), event (churned), duration_days (days as a customer: churn_day −
    first_day, or through `as_of` inclusive) and duration_months (see the module).

    Example: first paying 2024-01-15, not a customer from 2024-04-20 → churn_day 2024-04-20,
    event true, duration_days 96, duration_months 4.
    """
    first = first_paying_days(daily, as_of=as_of).select("account_id", "first_day")
    d = daily.filter((daily.date <= as_of) & ~daily.customer.fill_null(False))
    gone = d.join(first, "account_id")
    gone = gone.filter(gone.date > gone.first_day)
    churn = gone.group_by("account_id").agg(churn_day=gone.date.min())
    j = first.left_join(churn, "account_id").drop("account_id_right")
    event = j.churn_day.notnull()
    end = ibis.literal(as_of)
    lifetimes = j.select(
        "account_id", "first_day", "churn_day", event=event,
        duration_days=ibis.ifelse(event, j.churn_day.delta(j.first_day, unit="day"),
                                  end.delta(j.first_day, unit="day") + 1).cast(dt.int64),
        duration_months=ibis.ifelse(event, months_started(j.first_day, j.churn_day),
                                    months_reached(j.first_day, end)).cast(dt.int64),
    )
    lifetimes = with_dimensions(lifetimes, dimensions, by)
    return lifetimes.select("account_id", *by, *[c for c in lifetimes.columns
                                                 if c != "account_id" and c not in by])


def kaplan_meier(lifetimes: ir.Table, by: Sequence[str] = ("segment",)) -> ir.Table:
    """The Kaplan–Meier survival curve of `lifetimes` (duration_months, event, <by>) per
    value of `by` plus an 'all' curve, at every month 0 … the longest lifetime of the group.

    Columns: <by>, month, at_risk, events, censored, survival.
    Example: kaplan_meier(customer_lifetimes(daily, dims, as_of=d)) → survival by segment.
    """
    lt = lifetimes.select(*[lifetimes[name].cast(dt.string) for name in by],
                          t=lifetimes.duration_months.cast(dt.int64),
                          died=flag(lifetimes.event.fill_null(False)))
    if by:
        lt = lt.union(lt.mutate(**{name: ibis.literal(ALL, dt.string) for name in by}))
    counts = lt.group_by(*by, "t").agg(events=lt.died.sum(), exits=lt.count())
    groups = lt.aggregate(by=list(by), total=lt.count(), longest=lt.t.max())
    grid = groups.select(*by, "total", month=ibis.range(0, groups.longest + 1).unnest())
    keys = [grid[name] == counts[name] for name in by] + [grid.month == counts.t]
    g = grid.left_join(counts, keys).select(
        *[grid[name] for name in by], grid.total, grid.month,
        events=counts.events.fill_null(0).cast(dt.int64),
        exits=counts.exits.fill_null(0).cast(dt.int64))
    running = ibis.cumulative_window(group_by=[g[name] for name in by], order_by=g.month)
    # At risk in month t: every lifetime of t months or more (those ending at t included).
    g = g.mutate(at_risk=(g.total - g.exits.sum().over(running) + g.exits).cast(dt.int64))
    share = g.events.cast(dt.float64) / g.at_risk.cast(dt.float64).nullif(0.0)
    # The product as exp(Σ log), with a month where everyone left taking the curve to 0
    # (log 0 is an error on some engines, so such a factor is kept out of the sum).
    g = g.mutate(log_factor=ibis.ifelse(g.events < g.at_risk, 1.0 - share, 1.0).ln(),
                 wiped=flag((g.events > 0) & (g.events >= g.at_risk)))
    running = ibis.cumulative_window(group_by=[g[name] for name in by], order_by=g.month)
    survival = ibis.ifelse(g.wiped.sum().over(running) > 0, 0.0,
                           g.log_factor.sum().over(running).exp())
    out = g.select(*by, "month", "at_risk", "events",
                   censored=(g.exits - g.events).cast(dt.int64),
                   survival=survival.cast(dt.float64))
    return out.order_by([*by, "month"])
