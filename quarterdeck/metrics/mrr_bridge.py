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
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.metrics.mrr_movements import (
    ALL,
    MOVEMENT_TYPES,
    dimension_columns,
    movements_from_changes,
)
from quarterdeck.metrics.periods import assign_period, periods_between
from quarterdeck.warehouse.subscription_mrr import MONEY

_COUNTS = ("starting_customers", "new_customers", "churned_customers",
           "reactivated_customers", "ending_customers")


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.ifelse(condition, 1, 0).cast(dt.int64)


def _sums(table: ir.Table, keys: Sequence[str], **aggs: ir.Scalar) -> ir.Table:
    """`aggs` of `table` per `keys` value, or over the whole table without keys."""
    return table.group_by(list(keys)).agg(**aggs) if keys else table.agg(**aggs)


def _running_state(changes: ir.Table, dimensions: ir.Table, periods: ir.Table,
                   keys: Sequence[str], first_start: date) -> ir.Table:
    """Per period and `keys` value: the MRR and customers on the day before the period and on
    its last day. An account's MRR on a day is the sum of its changes up to that day, and its
    customer flag moves only on change days (customer_before of a day is customer_after of
    the one before), so both are running sums of the change days, period after period."""
    moved = changes.filter((changes.change != 0)
                           | (changes.customer_before != changes.customer_after))
    deltas = dimension_columns(moved.select(
        "account_id", "date", mrr=moved.change,
        customers=_flag(moved.customer_after) - _flag(moved.customer_before)),
        dimensions, keys)
    before = deltas.filter(deltas.date < first_start)
    before = _sums(before, keys, before_mrr=before.mrr.sum().cast(MONEY),
                   before_customers=before.customers.sum())
    within = assign_period(deltas, "date", periods)
    within = within.group_by(["period", *keys]).agg(mrr=within.mrr.sum().cast(MONEY),
                                                    customers=within.customers.sum())
    # Every period of every group, so that a quiet period carries the state on.
    groups = deltas.select(*keys).distinct() if keys else None
    grid = periods.select("period", "period_start")
    if groups is not None:
        grid = grid.cross_join(groups)
    g = grid.left_join(within, ["period", *keys])
    g = g.select("period", "period_start", *keys, mrr=g.mrr.fill_null(0).cast(MONEY),
                 customers=g.customers.fill_null(0).cast(dt.int64))
    if keys:
        g = g.left_join(before, list(keys))
    else:
        g = g.cross_join(before)
    g = g.select("period", "period_start", *keys, "mrr", "customers",
                 before_mrr=g.before_mrr.fill_null(0).cast(MONEY),
                 before_customers=g.before_customers.fill_null(0).cast(dt.int64))
    running = ibis.cumulative_window(group_by=[g[k] for k in keys], order_by=g.period_start)
    end_mrr = (g.before_mrr + g.mrr.sum().over(running)).cast(MONEY)
    end_customers = (g.before_customers + g.customers.sum().over(running)).cast(dt.int64)
    g = g.mutate(end_mrr=end_mrr, ending_customers=end_customers)
    return g.select("period", *keys, start_mrr=(g.end_mrr - g.mrr).cast(MONEY),
                    end_mrr=g.end_mrr,
                    starting_customers=(g.ending_customers - g.customers).cast(dt.int64),
                    ending_customers=g.ending_customers)


def _customer_moves(changes: ir.Table, dimensions: ir.Table, periods: ir.Table,
                    keys: Sequence[str]) -> ir.Table:
    """Per period and `keys` value: the accounts that became customers (new: their first
    paying day is in the period; reactivated: it was before) and those that stopped being
    customers, comparing each account's flag at the two ends of the period. Only an account
    whose flag moved inside the period can differ at its ends."""
    paid = changes.filter(changes.mrr_after > 0)
    first_paid = paid.group_by("account_id").agg(first_paid=paid.date.min())
    flips = changes.filter(changes.customer_before != changes.customer_after)
    flips = assign_period(flips.select("account_id", "date", "customer_before",
                                       "customer_after"), "date", periods)
    ends = flips.group_by("account_id", "period").agg(first=flips.date.min(),
                                                      last=flips.date.max())
    at_start = flips.select("account_id", "period", first=flips.date,
                            start_customer=flips.customer_before)
    at_end = flips.select("account_id", "period", last=flips.date,
                          end_customer=flips.customer_after)
    j = ends.join(at_start, ["account_id", "period", "first"])
    j = j.join(at_end, ["account_id", "period", "last"])
    j = j.join(periods.select("period", "period_start"), "period")
    j = j.join(first_paid, "account_id")
    j = dimension_columns(j.select("account_id", "period", "start_customer", "end_customer",
                        seen_before=j.first_paid < j.period_start), dimensions, keys)
    became = ~j.start_customer & j.end_customer
    return j.group_by(["period", *keys]).agg(
        new_customers=_flag(became & ~j.seen_before).sum(),
        churned_customers=_flag(j.start_customer & ~j.end_customer).sum(),
        reactivated_customers=_flag(became & j.seen_before).sum(),
    )


def _movement_sums(movements: ir.Table, dimensions: ir.Table, periods: ir.Table,
                   keys: Sequence[str]) -> ir.Table:
    """Per period and `keys` value: the sum of each movement type."""
    j = dimension_columns(assign_period(movements, "date", periods), dimensions, keys)
    zero = ibis.literal(0, MONEY)
    return j.group_by(["period", *keys]).agg(**{
        kind: ibis.ifelse(j.movement_type == kind, j.amount, zero).sum().cast(MONEY)
        for kind in MOVEMENT_TYPES
    })


def _bridge_rows(changes: ir.Table, dimensions: ir.Table, periods: ir.Table,
                 keys: Sequence[str], first_start: date) -> ir.Table:
    """One row per period and `keys` value seen in the changes: the bridge's sums."""
    state = _running_state(changes, dimensions, periods, keys, first_start)
    on = ["period", *keys]
    j = state.left_join(_movement_sums(movements_from_changes(changes), dimensions, periods,
                                       keys), on)
    j = j.select(*state.columns, *MOVEMENT_TYPES)
    j = j.left_join(_customer_moves(changes, dimensions, periods, keys), on)
    return j.select(
        *on, "start_mrr", "end_mrr",
        **{kind: j[kind].fill_null(0).cast(MONEY) for kind in MOVEMENT_TYPES},
        starting_customers=j.starting_customers,
        **{name: j[name].fill_null(0).cast(dt.int64)
           for name in ("new_customers", "churned_customers", "reactivated_customers")},
        ending_customers=j.ending_customers,
    )


def mrr_bridge(changes: ir.Table, dimensions: ir.Table, *, grain: str, start: date, end: date,
               by: Sequence[str] = (), fiscal_start_month: int = 1) -> ir.Table:
    """The ARR bridge per period of `grain` overlapping [start, end], per `by` dimension
    value, with an "all" row per period when `by` is given (see the module).

    `changes` is `account_mrr_changes` as of `end` (normally the as-of date) with the
    metric settings. A `by` value has rows from its first paying account's first period on.
    Columns: period, period_start, period_end (capped at `end`), <by>, starting_mrr, new,
    expansion, contraction, churn, reactivation, fx_adjustment, ending_mrr, starting_arr,
    ending_arr, starting_customers, new_customers, churned_customers, reactivated_customers,
    ending_customers. Every period has a row without `by` and an "all" row with it.
    Example: 2024-02: 700.00 − 100.00 (contraction) = 600.00, 1 customer at both ends.
    """
    listed = periods_between(start, end, grain, fiscal_start_month)
    periods = ibis.memtable({
        "period": [p.label for p in listed],
        "period_start": [p.start for p in listed],
        "period_end": [min(p.end, end) for p in listed],
    }, schema={"period": "string", "period_start": "date", "period_end": "date"})
    # Every period has its total row, zero when no account had revenue in it.
    sums = _bridge_rows(changes, dimensions, periods, (), listed[0].start)
    if by:
        parts = _bridge_rows(changes, dimensions, periods, by, listed[0].start)
        # A value's rows start with the period of its first paying day: its first change.
        paying = dimension_columns(changes.filter(changes.mrr_after > 0), dimensions, by)
        first = paying.group_by(list(by)).agg(first_day=paying.date.min())
        parts = parts.join(first, list(by)).join(periods, "period")
        parts = parts.filter(parts.first_day <= parts.period_end)
        whole = sums.mutate(**{name: ibis.literal(ALL, dt.string) for name in by})
        sums = parts.select(*whole.columns).union(whole.select(*whole.columns))
    j = periods.join(sums, "period")
    return j.select(
        "period", "period_start", "period_end", *by,
        starting_mrr=j.start_mrr,
        **{kind: j[kind] for kind in MOVEMENT_TYPES},
        ending_mrr=j.end_mrr,
        starting_arr=(j.start_mrr * 12).cast(MONEY),
        ending_arr=(j.end_mrr * 12).cast(MONEY),
        **{name: j[name] for name in _COUNTS},
    ).order_by(["period_start", *by])
