"""An account's MRR and whether it counts as a customer, day by day, as known as of a date.

Definitions (docs/metrics-movements.md has worked examples):

- An account's MRR on day d is the sum of its subscription rows' rounded base-currency MRR
  running on d (`subscription_mrr`: start_date ≤ d < end_date, trials 0, converted at the
  rate of the row's start date).
- Past due (`past_due_churn_days` = N): an invoice issued by `as_of` and still unpaid N days
  after its due day takes the account's MRR to 0 from day due + N + 1 until the day it is
  paid (a payment after `as_of` is not known yet), when the MRR comes back.
- Roll-up (`roll_up_parents`): each account's MRR counts under its top-level ancestor.
- A customer on day d: MRR > 0; with `free_plan="contraction"` also an account that has paid
  before and still runs a non-trial subscription row, even at a zero price (not while past
  due).

Everything is computed on change points only: the days a row starts or ends or a past-due
spell begins or ends, per account and currency, with running sums between them.
Rows without an exchange rate count as 0 here: run `check_rates` first (the pipeline does).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.metrics.dimensions import known_accounts, table_of, top_ancestors
from quarterdeck.warehouse.calendar import days_between
from quarterdeck.warehouse.subscription_mrr import (
    MONEY,
    as_decimal,
    day_after,
    divide_half_up,
    subscription_mrr,
)

FREE_PLAN_SETTINGS = ("churn", "contraction")
_ZERO = ibis.literal(0, MONEY)
# A currency change times a base MRR has 4 decimals; 6 keep the rounding bounds exact too.
_EXACT = dt.Decimal(38, 6)


def currency_movement(change: ir.DecimalValue, local_change: ir.DecimalValue,
                      before: ir.DecimalValue, local_before: ir.DecimalValue) -> ir.DecimalValue:
    """The movement of one currency's MRR on a day, in the base currency: its change in the
    currency valued at the rate of the MRR it replaces (base ÷ currency MRR the day before),
    rounded half up (away from zero) to the cent; with no MRR in it the day before, the base
    change itself. Example: €1,000 ($1,080.00) → €1,200 at a new rate: +200 × 1.08 = +216.00.
    """
    replaces = local_before != 0
    numerator = local_change * before
    magnitude = divide_half_up(as_decimal(numerator.abs(), _EXACT),
                               ibis.ifelse(replaces, local_before, 1).cast(MONEY))
    valued = ibis.ifelse(numerator < 0, -magnitude, magnitude)
    return ibis.ifelse(replaces, valued, change).cast(MONEY)


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 where `condition` holds, else 0 (PostgreSQL cannot cast a boolean to bigint)."""
    return ibis.ifelse(condition, 1, 0).cast(dt.int64)


def _change(table: ir.Table, day: ir.Value, sign: int, *, mrr: ir.Value | None = None,
            local: ir.Value | None = None, rows: ir.Value | None = None,
            past_due: ir.Value | None = None) -> ir.Table:
    """`table` as change points: account, currency, day and signed changes of each state."""
    def part(value: ir.Value | None, typ: dt.DataType) -> ir.Value:
        return (ibis.literal(0) if value is None else value * sign).cast(typ)

    return table.select(account_id=table.account_id, currency=table.currency,
                        date=day.cast(dt.date), mrr=part(mrr, MONEY), local=part(local, MONEY),
                        rows=part(rows, dt.int64), past_due=part(past_due, dt.int64))


def _row_changes(rows: ir.Table, as_of: date) -> ir.Table:
    """+MRR on each row's start date, −MRR on its end date when that is known by `as_of`."""
    values = {"mrr": rows.mrr.fill_null(0), "local": rows.mrr_local, "rows": _flag(~rows.trial)}
    ended = rows.filter(rows.end_date.notnull() & (rows.end_date <= as_of))
    ended_values = {"mrr": ended.mrr.fill_null(0), "local": ended.mrr_local,
                    "rows": _flag(~ended.trial)}
    return _change(rows, rows.start_date, 1, **values).union(
        _change(ended, ended.end_date, -1, **ended_values))


def _past_due_changes(invoices: ir.Table, currencies: ir.Table, *, as_of: date,
                      days: int) -> ir.Table:
    """+1 on the first day of each past-due spell, −1 on the day it is paid, for every
    currency the account pays in (a spell zeroes all of them)."""
    known = invoices.filter((invoices.issued_at < day_after(as_of)) & invoices.due_at.notnull())
    first = known.due_at.date() + ibis.interval(days=days + 1)
    paid = known.paid_at.notnull() & (known.paid_at < day_after(as_of))
    spells = known.select("account_id", first=first, paid=paid, paid_day=known.paid_at.date())
    # Paid on or before the spell's first day: no spell at all.
    spells = spells.filter((spells.first <= as_of)
                           & (~spells.paid | (spells.paid_day > spells.first)))
    spells = spells.join(currencies, "account_id")
    ends = spells.filter(spells.paid)
    return _change(spells, spells.first, 1, past_due=ibis.literal(1)).union(
        _change(ends, ends.paid_day, -1, past_due=ibis.literal(1)))


def _net(changes: ir.Table) -> ir.Table:
    """Changes summed per account, currency and day."""
    return changes.group_by("account_id", "currency", "date").agg(
        mrr=changes.mrr.sum().cast(MONEY), local=changes.local.sum().cast(MONEY),
        rows=changes.rows.sum().cast(dt.int64), past_due=changes.past_due.sum().cast(dt.int64))


def _without_past_due(changes: ir.Table) -> ir.Table:
    """Changes of the state as it counts: zero while a past-due spell runs."""
    net = _net(changes)
    running = ibis.cumulative_window(group_by=[net.account_id, net.currency], order_by=net.date)
    ordered = ibis.window(group_by=[net.account_id, net.currency], order_by=net.date)
    state = net.mutate(**{name: net[name].sum().over(running) for name in
                          ("mrr", "local", "rows", "past_due")})
    due = state.past_due > 0
    counted = {"mrr": ibis.ifelse(due, _ZERO, state.mrr).cast(MONEY),
               "local": ibis.ifelse(due, _ZERO, state.local).cast(MONEY),
               "rows": ibis.ifelse(due, 0, state.rows).cast(dt.int64)}
    return state.select(
        "account_id", "currency", "date",
        **{name: (value - value.lag(1, 0).over(ordered)).cast(value.type())
           for name, value in counted.items()},
        past_due=ibis.literal(0).cast(dt.int64),
    )


def currency_changes(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                     past_due_churn_days: int | None = None,
                     roll_up_parents: bool = False,
                     subscription_rows: ir.Table | None = None) -> ir.Table:
    """Per account, currency and day of change: the change of MRR in the base currency
    (`mrr`), in the currency (`local`) and of running non-trial rows (`rows`), with the
    running MRR after it (`mrr_after`, `local_after`). `subscription_rows` is
    `subscription_mrr` of the same date and currency when the caller has it already.

    Example: €100 a month at 1.10 from 2024-02-01 → (2024-02-01, EUR, +110.00, +100.00, +1).
    """
    accounts = known_accounts(table_of(tables, "accounts"), as_of).select("account_id")
    rows = subscription_rows
    if rows is None:
        rows = subscription_mrr(table_of(tables, "subscriptions"), table_of(tables, "fx_rates"),
                                as_of=as_of, base_currency=base_currency)
    rows = rows.join(accounts, "account_id")
    changes = _row_changes(rows, as_of)
    if past_due_churn_days is not None:
        currencies = rows.select("account_id", "currency").distinct()
        changes = _without_past_due(changes.union(_past_due_changes(
            table_of(tables, "invoices"), currencies, as_of=as_of, days=past_due_churn_days)))
    if roll_up_parents:
        tops = top_ancestors(table_of(tables, "accounts"), as_of=as_of)
        j = changes.left_join(tops, "account_id")
        changes = j.mutate(account_id=j.top_account_id.fill_null(j.account_id)).drop(
            "account_id_right", "top_account_id")
    net = _net(changes)
    running = ibis.cumulative_window(group_by=[net.account_id, net.currency], order_by=net.date)
    return net.select("account_id", "currency", "date", "mrr", "local", "rows",
                      mrr_after=net.mrr.sum().over(running).cast(MONEY),
                      local_after=net.local.sum().over(running).cast(MONEY))


def account_mrr_changes(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                        free_plan: str = "churn", past_due_churn_days: int | None = None,
                        roll_up_parents: bool = False,
                        subscription_rows: ir.Table | None = None) -> ir.Table:
    """Per account and day on which anything about its revenue changes: change (base-currency
    change of MRR), movement (the change valued at the rates of the MRR it replaces),
    mrr_before, mrr_after, paid_before (had MRR > 0 on an earlier day), customer_before,
    customer_after. See the module for the definitions and settings; `subscription_rows` as
    in `currency_changes`.

    Example: €100 → €120 a month with the rate 1.10 → 1.20: change +34.00, movement +22.00.
    """
    if free_plan not in FREE_PLAN_SETTINGS:
        raise ValueError(f"free_plan must be one of {FREE_PLAN_SETTINGS}, not {free_plan!r}")
    c = currency_changes(tables, as_of=as_of, base_currency=base_currency,
                         past_due_churn_days=past_due_churn_days,
                         roll_up_parents=roll_up_parents,
                         subscription_rows=subscription_rows)
    c = c.mutate(movement=currency_movement(c.mrr, c.local, c.mrr_after - c.mrr,
                                            c.local_after - c.local))
    days = c.group_by("account_id", "date").agg(
        change=c.mrr.sum().cast(MONEY), movement=c.movement.sum().cast(MONEY),
        rows=c.rows.sum().cast(dt.int64))
    running = ibis.cumulative_window(group_by=days.account_id, order_by=days.date)
    days = days.mutate(mrr_after=days.change.sum().over(running).cast(MONEY),
                       rows_after=days.rows.sum().over(running))
    paying = _flag(days.mrr_after > 0)
    # Change days with MRR > 0 before this one: MRR only changes on change days.
    days = days.mutate(paid_days=paying.sum().over(running) - paying)
    paid_before = days.paid_days > 0
    retained = free_plan == "contraction"
    rows_before = days.rows_after - days.rows
    return days.select(
        "account_id", "date", "change", "movement",
        mrr_before=(days.mrr_after - days.change).cast(MONEY),
        mrr_after=days.mrr_after,
        paid_before=paid_before,
        customer_before=(days.mrr_after - days.change > 0)
        | (ibis.literal(retained) & paid_before & (rows_before > 0)),
        customer_after=(days.mrr_after > 0)
        | (ibis.literal(retained) & (paid_before | (days.mrr_after > 0))
           & (days.rows_after > 0)),
    )


def account_mrr_daily(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                      free_plan: str = "churn", past_due_churn_days: int | None = None,
                      roll_up_parents: bool = False) -> ir.Table:
    """One row per account per day, from its first paying day through `as_of`: account_id,
    date, mrr (base currency, to the cent) and customer (see the module). After churn the
    rows go on with mrr 0.

    Example: 500.00 a month from 2024-01-15 to 2024-03-01, as of 2024-03-31: 77 rows,
    mrr 500.00 through 2024-02-29, then 0.00 (customer false).
    """
    return daily_from_changes(
        account_mrr_changes(tables, as_of=as_of, base_currency=base_currency,
                            free_plan=free_plan, past_due_churn_days=past_due_churn_days,
                            roll_up_parents=roll_up_parents), as_of=as_of)


def daily_from_changes(days: ir.Table, *, as_of: date) -> ir.Table:
    """`account_mrr_daily` from the change days `account_mrr_changes` gives as of `as_of`
    (computed once, they can feed the daily rows and the movements alike)."""
    first = days.filter(days.mrr_after > 0).group_by("account_id").agg(first_day=days.date.min())
    days = days.join(first, "account_id")
    days = days.filter(days.date >= days.first_day)
    by_account = ibis.window(group_by=days.account_id, order_by=days.date)
    days = days.mutate(until=days.date.lead().over(by_account)
                       .fill_null(ibis.literal(day_after(as_of).date())))
    # Each change day stands for itself and the quiet days up to the next change day. A join
    # with a calendar rather than an unnested range per row: a filter on the date (a report
    # reading only period ends) then reaches the calendar before the join.
    span = first.agg(first_day=first.first_day.min())
    # Unnested on its own, then cast: Spark refuses a generator nested in an expression.
    calendar = span.select(day=days_between(span.first_day, as_of).unnest())
    calendar = calendar.select(day=calendar.day.date())
    j = days.join(calendar, [calendar.day >= days.date, calendar.day < days.until])
    return j.select("account_id", date=j.day, mrr=j.mrr_after, customer=j.customer_after)
