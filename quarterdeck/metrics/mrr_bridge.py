"""The ARR bridge: from the MRR at the start of each period to the MRR at its end.

Per period (and dimension value): starting_mrr (MRR on the day before the period's first day)
+ new + expansion + contraction + churn + reactivation + fx_adjustment (signed sums of the
period's `mrr_movements`) = ending_mrr (MRR on its last day, or on `end` for the current
period), exactly. ARR = 12 × MRR.

Customer counts compare each account's `customer` flag (`account_mrr_daily`) at the two ends
of the period, so that starting_customers + new_customers + reactivated_customers −
churned_customers = ending_customers: an account a customer at the end and not at the start
is new (its first paying day is in the period) or reactivated; one a customer at the start and
not at the end is churned. An account that leaves and comes back within the period (or comes
and goes) changes no count, as in ChartMogul's standard customer churn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.metrics.mrr_movements import ALL, MOVEMENT_TYPES, dimension_columns
from quarterdeck.metrics.periods import periods_between
from quarterdeck.warehouse.subscription_mrr import MONEY

_COUNTS = ("starting_customers", "new_customers", "churned_customers",
           "reactivated_customers", "ending_customers")


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.ifelse(condition, 1, 0).cast(dt.int64)


def _boundaries(daily: ir.Table, periods: ir.Table, days: list[date]) -> ir.Table:
    """Per account and period: its MRR and customer flag on the day before the period
    (start_*) and on its last day (end_*), 0 and false before its first paying day."""
    # Named days, so that an engine can read only them (account_mrr_daily lets the filter
    # reach its calendar): a few days per period instead of every day.
    daily = daily.filter(daily.date.isin(days))
    before = periods.select("period", day=periods.period_start - ibis.interval(days=1),
                            at_start=ibis.literal(True))
    last = periods.select("period", day=periods.period_end, at_start=ibis.literal(False))
    marks = before.union(last)
    j = daily.join(marks, daily.date == marks.day)
    zero = ibis.literal(0, MONEY)
    return j.group_by("account_id", "period").agg(
        start_mrr=ibis.ifelse(j.at_start, j.mrr, zero).sum().cast(MONEY),
        end_mrr=ibis.ifelse(j.at_start, zero, j.mrr).sum().cast(MONEY),
        seen_before=_flag(j.at_start).sum() > 0,
        start_customer=_flag(j.at_start & j.customer).sum() > 0,
        end_customer=_flag(~j.at_start & j.customer).sum() > 0,
    )


def _movement_sums(movements: ir.Table, periods: ir.Table) -> ir.Table:
    """Per account and period: the sum of each movement type."""
    j = movements.join(periods, [movements.date >= periods.period_start,
                                 movements.date <= periods.period_end])
    zero = ibis.literal(0, MONEY)
    return j.group_by("account_id", "period").agg(**{
        kind: ibis.ifelse(j.movement_type == kind, j.amount, zero).sum().cast(MONEY)
        for kind in MOVEMENT_TYPES
    })


def _account_periods(movements: ir.Table, daily: ir.Table, periods: ir.Table,
                     days: list[date]) -> ir.Table:
    """One row per account and period in which it had a daily row at either end."""
    state = _boundaries(daily, periods, days)
    # An account with a movement in a period has a daily row on the period's last day, so
    # every movement finds its row here.
    j = state.left_join(_movement_sums(movements, periods), ["account_id", "period"])
    zero = ibis.literal(0, MONEY)
    became = ~j.start_customer & j.end_customer
    return j.select(
        "account_id", "period", "start_mrr", "end_mrr",
        **{kind: j[kind].fill_null(zero) for kind in MOVEMENT_TYPES},
        starting_customers=_flag(j.start_customer),
        new_customers=_flag(became & ~j.seen_before),
        churned_customers=_flag(j.start_customer & ~j.end_customer),
        reactivated_customers=_flag(became & j.seen_before),
        ending_customers=_flag(j.end_customer),
    )


def mrr_bridge(movements: ir.Table, daily: ir.Table, dimensions: ir.Table, *, grain: str,
               start: date, end: date, by: Sequence[str] = (),
               fiscal_start_month: int = 1) -> ir.Table:
    """The ARR bridge per period of `grain` overlapping [start, end], per `by` dimension
    value, with an "all" row per period when `by` is given (see the module).

    `movements` and `daily` are `mrr_movements` and `account_mrr_daily` computed with the
    same as-of date and settings; `end` is normally that as-of date.
    Columns: period, period_start, period_end (capped at `end`), <by>, starting_mrr, new,
    expansion, contraction, churn, reactivation, fx_adjustment, ending_mrr, starting_arr,
    ending_arr, starting_customers, new_customers, churned_customers, reactivated_customers,
    ending_customers. Every period has a row without `by` and an "all" row with it.
    Example: 2024-02: 700.00 − 100.00 (contraction) = 600.00, 1 customer at both ends.
    """
    listed = periods_between(start, end, grain, fiscal_start_month)
    ends = [min(p.end, end) for p in listed]
    periods = ibis.memtable({
        "period": [p.label for p in listed],
        "period_start": [p.start for p in listed],
        "period_end": ends,
    }, schema={"period": "string", "period_start": "date", "period_end": "date"})
    days = sorted({p.start - timedelta(days=1) for p in listed} | set(ends))
    rows = dimension_columns(_account_periods(movements, daily, periods, days), dimensions, by)
    money = ("start_mrr", "end_mrr", *MOVEMENT_TYPES)

    def aggregate(t: ir.Table, groups: list[str]) -> ir.Table:
        return t.group_by(*groups).agg(
            **{name: t[name].sum().cast(MONEY) for name in money},
            **{name: t[name].sum().cast(dt.int64) for name in _COUNTS})

    # Every period has its total row, zero when no account had revenue in it.
    whole = periods.select("period").left_join(aggregate(rows, ["period"]), "period")
    whole = whole.select("period", **{name: whole[name].fill_null(0).cast(MONEY)
                                      for name in money},
                         **{name: whole[name].fill_null(0).cast(dt.int64) for name in _COUNTS})
    sums = whole
    if by:
        parts = aggregate(rows, ["period", *by])
        whole = whole.mutate(**{name: ibis.literal(ALL, dt.string) for name in by})
        sums = parts.union(whole.select(*parts.columns))
    j = periods.join(sums, "period")
    zero = ibis.literal(0, MONEY)

    def money_of(name: str) -> ir.DecimalValue:
        return j[name].fill_null(zero).cast(MONEY)

    return j.select(
        "period", "period_start", "period_end", *by,
        starting_mrr=money_of("start_mrr"),
        **{kind: money_of(kind) for kind in MOVEMENT_TYPES},
        ending_mrr=money_of("end_mrr"),
        starting_arr=(money_of("start_mrr") * 12).cast(MONEY),
        ending_arr=(money_of("end_mrr") * 12).cast(MONEY),
        **{name: j[name].fill_null(0).cast(dt.int64) for name in _COUNTS},
    ).order_by(["period_start", *by])
