"""MRR movements: why each account's MRR changed, per day, and their roll-up per period.

With p an account's MRR the day before and q = p + movement (the day's change valued at the
rates of the MRR it replaces, all of the day's changes netted):

- new: p = 0 < q, the account never had MRR before;
- reactivation: p = 0 < q, it had MRR before;
- expansion: 0 < p < q;  contraction: 0 < q < p;  churn: p > 0 = q;
- fx_adjustment: the rest of the day's base-currency change (exchange rates never move).

With `free_plan="contraction"` a paying account going to 0 while it keeps a running
subscription row is a contraction, and one coming back from 0 while still a customer is an
expansion. Amounts are signed (churn and contraction negative), so per account and in total
MRR at the start of a period + Σ movements (fx_adjustment included) = MRR at its end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.metrics.account_mrr import account_mrr_changes
from quarterdeck.metrics.dimensions import NONE
from quarterdeck.metrics.periods import assign_period, periods_table
from quarterdeck.warehouse.subscription_mrr import MONEY

MOVEMENT_TYPES = ("new", "expansion", "contraction", "churn", "reactivation", "fx_adjustment")
ALL = "all"


def _movement_type(days: ir.Table) -> ir.StringValue:
    p = days.mrr_before
    q = days.mrr_before + days.movement
    return ibis.cases(
        ((p == 0) & (q > 0) & days.customer_before, "expansion"),
        ((p == 0) & (q > 0) & days.paid_before, "reactivation"),
        ((p == 0) & (q > 0), "new"),
        ((p > 0) & (q == 0) & days.customer_after, "contraction"),
        ((p > 0) & (q == 0), "churn"),
        (q > p, "expansion"),
        else_="contraction",
    )


def mrr_movements(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                  free_plan: str = "churn", past_due_churn_days: int | None = None,
                  roll_up_parents: bool = False) -> ir.Table:
    """One row per account, day of change and movement type, as known as of `as_of`.

    Columns: account_id, date, movement_type (new, expansion, contraction, churn,
    reactivation, fx_adjustment), amount (signed, base currency), mrr_before, mrr_after (for
    the fx_adjustment row, the MRR around the exchange-rate part, which comes last).
    Settings as in `account_mrr_daily`, which gives the MRR these movements explain.

    Example: 10 seats at 50.00 start 2024-01-05 and 5 more the same day → one row
    (a, 2024-01-05, new, 750.00, 0.00, 750.00).
    """
    return movements_from_changes(
        account_mrr_changes(tables, as_of=as_of, base_currency=base_currency,
                            free_plan=free_plan, past_due_churn_days=past_due_churn_days,
                            roll_up_parents=roll_up_parents))


def movements_from_changes(days: ir.Table) -> ir.Table:
    """`mrr_movements` from the change days `account_mrr_changes` gives."""
    moved = days.filter(days.movement != 0)
    moves = moved.select(
        "account_id", "date", movement_type=_movement_type(moved), amount=moved.movement,
        mrr_before=moved.mrr_before,
        mrr_after=(moved.mrr_before + moved.movement).cast(MONEY))
    fx = days.mutate(fx=(days.change - days.movement).cast(MONEY))
    fx = fx.filter(fx.fx != 0)
    fxs = fx.select(
        "account_id", "date", movement_type=ibis.literal("fx_adjustment"), amount=fx.fx,
        mrr_before=(fx.mrr_after - fx.fx).cast(MONEY), mrr_after=fx.mrr_after)
    return moves.union(fxs)


def dimension_columns(table: ir.Table, dimensions: ir.Table, by: Sequence[str]) -> ir.Table:
    """`table` (keyed by account_id) with the `by` columns of `dimensions` as text; an
    account missing from `dimensions` or a missing value reads "(none)"."""
    if not by:
        return table
    missing = [name for name in by if name not in dimensions.columns]
    if missing:
        raise ValueError(f"dimensions has no column {', '.join(missing)}; "
                         f"it has {', '.join(dimensions.columns)}")
    dims = dimensions.select(dim_account_id=dimensions.account_id,
                             **{name: dimensions[name].cast(dt.string) for name in by})
    j = table.left_join(dims, table.account_id == dims.dim_account_id)
    return j.mutate(**{name: j[name].fill_null(NONE) for name in by}).drop("dim_account_id")


def with_all(table: ir.Table, keys: Sequence[str], by: Sequence[str],
             aggregate: object) -> ir.Table:
    """`aggregate(table, groups)` per `keys` + `by`, plus, when `by` is given, per `keys`
    alone with every `by` column reading "all"."""
    parts = aggregate(table, [*keys, *by])  # type: ignore[operator]
    if not by:
        return parts
    whole = aggregate(table, list(keys))  # type: ignore[operator]
    whole = whole.mutate(**{name: ibis.literal(ALL, dt.string) for name in by})
    return parts.union(whole.select(*parts.columns))


def movements_by_period(movements: ir.Table, dimensions: ir.Table, *, grain: str,
                        start: date, end: date, by: Sequence[str] = (),
                        fiscal_start_month: int = 1) -> ir.Table:
    """`mrr_movements` summed per period of `grain` overlapping [start, end] and per `by`
    dimension value (with an "all" row per period and type when `by` is given).

    Columns: period, period_start, period_end, <by>, movement_type, amount, accounts
    (distinct accounts with that movement). A period and type without movements has no row.
    Example: grain="quarter" → ("2024-Q1", 2024-01-01, 2024-03-31, "new", 500.00, 1).
    """
    periods = periods_table(start, end, grain, fiscal_start_month)
    m = movements.filter((movements.date >= start) & (movements.date <= end))
    m = dimension_columns(assign_period(m, "date", periods), dimensions, by)
    keys = ["period", "period_start", "period_end"]

    def aggregate(t: ir.Table, groups: list[str]) -> ir.Table:
        return t.group_by(*groups, "movement_type").agg(
            amount=t.amount.sum().cast(MONEY), accounts=t.account_id.nunique())

    out = with_all(m, keys, by, aggregate)
    return out.select(*keys, *by, "movement_type", "amount", "accounts")
