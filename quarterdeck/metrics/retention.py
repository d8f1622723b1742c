"""Revenue retention over a window: NRR, GRR, logo churn, revenue churn, expansion, contraction.

For each period end T, the cohort is the accounts with MRR > 0 on T − window (`months_before`);
an account with no row on a day has MRR 0 there, so accounts that started paying after
T − window (new, and reactivated ones that were not paying then) are never in it. Over the cohort:

    nrr = Σ MRR(T) / Σ MRR(T − w)            grr = Σ min(MRR(T), MRR(T − w)) / Σ MRR(T − w)
    logo_churn = members not a customer at T / members
    revenue_churn = Σ MRR(T − w) of those members / Σ MRR(T − w)
    expansion_rate = Σ max(0, MRR(T) − MRR(T − w)) / Σ MRR(T − w)
    contraction_rate = Σ max(0, MRR(T − w) − MRR(T)) over members still customers / Σ MRR(T − w)

so that nrr = 1 + expansion_rate − contraction_rate − revenue_churn whenever an account that
is not a customer has MRR 0 (under either free_plan setting). Example: one account at 100.00
on 2024-02-29 and 120.00 on 2024-03-31 gives, for March with a 1-month window, nrr 1.2,
grr 1.0, expansion_rate 0.2.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.metrics.periods import periods_between

ALL = "all"
MONEY = dt.Decimal(38, 2)


def months_before(day: date, months: int) -> date:
    """`day` moved back `months` calendar months, month end to month end.

    The same day of the month, clamped to the earlier month's length; a month end maps to the
    earlier month end so that consecutive monthly windows tile without gaps or overlaps.
    Example: 2024-03-31 → 2024-02-29; 2024-02-29 → 2024-01-31; 2024-05-15 → 2024-04-15.
    """
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return date(year, month, last)
    return date(year, month, min(day.day, last))


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator / denominator as float64, NULL when the denominator is 0 (no cohort)."""
    return numerator.cast(dt.float64) / denominator.cast(dt.float64).nullif(0.0)


def flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 where `condition` holds, else 0 (PostgreSQL cannot cast a boolean to an integer)."""
    return ibis.ifelse(condition, 1, 0).cast(dt.int64)


def with_dimensions(table: ir.Table, dimensions: ir.Table | None, by: Sequence[str]) -> ir.Table:
    """`table` (keyed by account_id) with the `by` columns of `dimensions`, as strings."""
    if not by:
        return table
    if dimensions is None:
        raise ValueError(f"grouping by {', '.join(by)} needs a dimensions table")
    missing = [name for name in by if name not in dimensions.columns]
    if missing:
        raise ValueError(f"dimensions has no column {', '.join(missing)}; "
                         f"it has {', '.join(dimensions.columns)}")
    dims = dimensions.select("account_id", *[dimensions[name].cast(dt.string) for name in by])
    # A left join: an account missing from `dimensions` still counts, in a NULL group.
    return table.left_join(dims, "account_id").drop("account_id_right")


def grouped_with_all(table: ir.Table, keys: Sequence[str], by: Sequence[str],
                     **aggs: object) -> ir.Table:
    """`table` aggregated per `keys` + `by`, plus one row per `keys` with every `by` = 'all'."""
    whole = table.group_by(*keys).agg(**aggs)
    if not by:
        return whole
    whole = whole.mutate(**{name: ibis.literal(ALL, dt.string) for name in by})
    parts = table.group_by(*keys, *by).agg(**aggs)
    return parts.union(whole.select(*parts.columns))


def _windows(as_of: date, grain: str, window_months: int, start: date | None,
             fiscal_start_month: int) -> tuple[ir.Table, list[date]]:
    """One row per period: period, period_start, period_end (capped at `as_of`) and
    window_start; and the sorted days those windows start or end on."""
    periods = periods_between(start or as_of, as_of, grain, fiscal_start_month)
    ends = [min(p.end, as_of) for p in periods]
    starts = [months_before(end, window_months) for end in ends]
    table = ibis.memtable({
        "period": [p.label for p in periods],
        "period_start": [p.start for p in periods],
        "period_end": ends,
        "window_start": starts,
    }, schema={"period": "string", "period_start": "date", "period_end": "date",
               "window_start": "date"})
    return table, sorted({*ends, *starts})


def _members(daily: ir.Table, windows: ir.Table, days: list[date]) -> ir.Table:
    """One row per period and cohort member: its MRR at the window start and at the end, and
    whether it is still a customer at the end."""
    # Each period reads two days of `daily`, its window start and its end: joins with small
    # tables of those days, never a spine of accounts × days. The literal list as well lets
    # an engine prune with its zone maps or a date index.
    d = daily.filter(daily.date.isin(days))
    opens = windows.select("period", mark=windows.window_start)
    starts = d.join(opens, d.date == opens.mark)
    # No row on a day means MRR 0 then: such accounts are not in the cohort.
    starts = starts.select("period", "account_id", start_mrr=starts.mrr.cast(MONEY))
    starts = starts.filter(starts.start_mrr > 0)
    closes = windows.select("period", mark=windows.period_end)
    ends = d.join(closes, d.date == closes.mark)
    ends = ends.select("period", "account_id", end_mrr=ends.mrr.cast(MONEY),
                       still_customer=ends.customer.fill_null(False))
    # A left join: a member with no row at the end has churned, with MRR 0.
    j = starts.left_join(ends, ["period", "account_id"])
    zero = ibis.literal(0, MONEY)
    s, e, kept = j.start_mrr, j.end_mrr.fill_null(zero), j.still_customer.fill_null(False)
    return j.select(
        "period", "account_id", starting_mrr=s, ending_mrr=e, churned=flag(~kept),
        retained_mrr=ibis.ifelse(e < s, e, s).cast(MONEY),
        churned_mrr=ibis.ifelse(kept, zero, s).cast(MONEY),
        expansion_mrr=ibis.ifelse(e > s, e - s, zero).cast(MONEY),
        contraction_mrr=ibis.ifelse(kept & (s > e), s - e, zero).cast(MONEY),
    )


_MONEY_COLUMNS = ("starting_mrr", "ending_mrr", "retained_mrr", "expansion_mrr",
                  "contraction_mrr", "churned_mrr")


def retention(daily: ir.Table, dimensions: ir.Table | None, *, as_of: date,
              grain: str = "month", window_months: int = 12, start: date | None = None,
              by: Sequence[str] = (), fiscal_start_month: int = 1) -> ir.Table:
    """Retention of each period of `grain` from the one containing `start` (default: `as_of`)
    through the one containing `as_of`, over a window of `window_months` ending at each
    period's end (the current period ends at `as_of`). See the module for the definitions.

    `daily` is account_mrr_daily (account_id, date, mrr, customer). With `by`, one row per
    value of the `by` columns of `dimensions` (as strings) plus an 'all' row; the 'all' row is
    there for every period, with zero counts and NULL ratios when the cohort is empty.

    Columns: period, period_start, period_end, window_start, window_months, <by>,
    cohort_customers, churned_customers, starting_mrr, ending_mrr, retained_mrr,
    expansion_mrr, contraction_mrr, churned_mrr, nrr, grr, logo_churn, revenue_churn,
    expansion_rate, contraction_rate.

    Example: retention(daily, dims, as_of=date(2024, 12, 31), start=date(2024, 1, 1),
    by=("segment",)) → trailing-12-month NRR per segment for each month of 2024.
    """
    if window_months < 1:
        raise ValueError(f"window_months must be at least 1, not {window_months}")
    windows, days = _windows(as_of, grain, window_months, start, fiscal_start_month)
    members = with_dimensions(_members(daily, windows, days), dimensions, by)
    m = members
    aggs = {"cohort_customers": m.count(), "churned_customers": m.churned.sum(),
            **{name: m[name].sum() for name in _MONEY_COLUMNS}}
    # The 'all' row of every period, even one whose cohort is empty.
    whole = windows.left_join(m.group_by("period").agg(**aggs), "period")
    whole = whole.mutate(**{name: ibis.literal(ALL, dt.string) for name in by})
    table = whole
    if by:
        parts = m.group_by("period", *by).agg(**aggs).join(windows, "period")
        table = parts.union(whole.select(*parts.columns))
    zero = ibis.literal(0, MONEY)
    table = table.mutate(window_months=ibis.literal(window_months, dt.int64))
    out = table.select(
        "period", "period_start", "period_end", "window_start", "window_months", *by,
        cohort_customers=table.cohort_customers.fill_null(0).cast(dt.int64),
        churned_customers=table.churned_customers.fill_null(0).cast(dt.int64),
        **{name: table[name].fill_null(zero).cast(MONEY) for name in _MONEY_COLUMNS},
    )
    return out.mutate(
        nrr=ratio(out.ending_mrr, out.starting_mrr),
        grr=ratio(out.retained_mrr, out.starting_mrr),
        logo_churn=ratio(out.churned_customers, out.cohort_customers),
        revenue_churn=ratio(out.churned_mrr, out.starting_mrr),
        expansion_rate=ratio(out.expansion_mrr, out.starting_mrr),
        contraction_rate=ratio(out.contraction_mrr, out.starting_mrr),
    ).order_by(["period_end", *by])
