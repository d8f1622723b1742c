"""`renewal_outcomes`: every renewal decision in the subscription history, as known at a date.

- A *contract* decision (billing interval over one month) falls on each end date of a paid
  row, and on each term boundary (start + whole intervals) an open-ended row has passed.
  ARR at stake is the account's ARR the day before; the result compares it with its ARR
  `grace_days` after the decision date, so a renewal row that starts a few days late still
  counts as renewed.
- A *monthly* account (paid monthly rows and no contract running the day before) decides at
  the end of every monthly term: a decision on each term boundary (start + whole months) of a
  monthly row and on its end date, exactly as for a contract: ARR at stake the day before,
  compared with the ARR `grace_days` after. Renewed when the next month is paid, churned when
  the MRR ends then, contracted when it drops (a seat change that replaces the row).
- result: `churned` when the ARR after is 0, `contracted` when lower, `renewed` otherwise;
  compared in the rows' own currency (MRR before conversion), so an exchange rate alone never
  makes a contraction.
  notice_date: when a churn or contraction became known (the earliest canceled_at of the rows
  that ended), NULL for renewals or when not recorded.
- A decision is listed once its grace period is over by `as_of`; rows are read as known then.

`period_start` is the first day of the period decided on: the decision date, for both kinds.

Example: a 12-month row ending 2025-06-01 with a renewal row from 2025-06-03 → one decision
dated 2025-06-01, renewed. A monthly row from 2025-01-15 ending 2025-04-15 → decisions on
2025-02-15 and 2025-03-15 (renewed) and 2025-04-15 (churned).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.warehouse.schema import empty_table
from quarterdeck.warehouse.subscription_mrr import subscription_mrr

GRACE_DAYS = 7


def _months(n: ir.IntegerValue) -> ir.IntervalValue:
    return n.cast(dt.int64).as_interval("M")


def _elapsed_months(start: ir.DateValue, end: ir.DateValue) -> ir.IntegerValue:
    """Whole months from start to end (end's day of month at least start's)."""
    m = (end.year() - start.year()) * 12 + end.month() - start.month()
    return ibis.ifelse(end.day() >= start.day(), m, m - 1).cast(dt.int64)


def _term_ends(rows: ir.Table, last: date) -> ir.Table:
    """Each end date of a row, and each term boundary (start + whole billing intervals) before
    it or, for an open-ended row, up to `last`: account_id, decision_date."""
    ends = rows.filter(rows.end_date.notnull() & (rows.end_date <= last)).select(
        "account_id", decision_date=rows.end_date)
    limit = ibis.ifelse(rows.end_date.isnull(), ibis.literal(last),
                        rows.end_date - ibis.interval(days=1))
    n = (_elapsed_months(rows.start_date, limit) / rows.interval_months).floor().cast(dt.int64)
    k = rows.mutate(k=ibis.range(1, n + 1).unnest())
    inner = k.select("account_id",
                     decision_date=(k.start_date + _months(k.k * k.interval_months)).cast(dt.date))
    inner = inner.filter(inner.decision_date <= last)
    return ends.union(inner).distinct()


def _contract_decisions(rows: ir.Table, last: date) -> ir.Table:
    d = _term_ends(rows.filter(rows.interval_months > 1), last)
    return d.mutate(term=ibis.literal("contract"), period_start=d.decision_date,
                    before=(d.decision_date - ibis.interval(days=1)).cast(dt.date))


def _monthly_decisions(rows: ir.Table, last: date) -> ir.Table:
    d = _term_ends(rows.filter(rows.interval_months == 1), last)
    d = d.mutate(before=(d.decision_date - ibis.interval(days=1)).cast(dt.date))
    # An account with a contract running the day before is judged by its contract.
    c = rows.filter(rows.interval_months > 1)
    on_contract = d.join(c, ["account_id", c.start_date <= d.before,
                             c.end_date.isnull() | (c.end_date > d.before)])
    on_contract = on_contract.select("account_id", "decision_date").distinct()
    d = d.anti_join(on_contract, ["account_id", "decision_date"])
    return d.mutate(term=ibis.literal("monthly"), period_start=d.decision_date)


def renewal_outcomes(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                     grace_days: int = GRACE_DAYS) -> ir.Table:
    """Renewal decisions known by `as_of` (see the module), one row per account and decision.

    Columns: account_id, segment, term (contract or monthly), period_start, decision_date,
    arr_at_stake, arr_after, result (renewed, contracted, churned), notice_date.
    Example: renewal_outcomes(tables, as_of=date(2026, 9, 30), base_currency="USD").
    """
    def table(name: str) -> ir.Table:
        return tables[name] if name in tables else empty_table(name)

    raw = table("subscriptions")
    s = subscription_mrr(raw, table("fx_rates"), as_of=as_of, base_currency=base_currency)
    s = s.filter(~s.trial).join(raw.select("subscription_id", "canceled_at"), "subscription_id")
    last = as_of - timedelta(days=grace_days)
    cols = ["account_id", "term", "period_start", "decision_date", "before"]
    d = _contract_decisions(s, last).select(*cols).union(
        _monthly_decisions(s, last).select(*cols))
    d = d.mutate(after=(d.decision_date + ibis.interval(days=1 + grace_days)).cast(dt.date))
    x = d.join(s, "account_id")

    def running(day: ir.DateValue) -> ir.BooleanValue:
        return (x.start_date <= day) & (x.end_date.isnull() | (x.end_date > day))

    ended = (x.end_date > x.period_start - ibis.interval(days=1)) & (
        x.end_date <= x.decision_date + ibis.interval(days=1))
    g = x.group_by(["account_id", "term", "period_start", "decision_date"]).agg(
        arr_at_stake=(x.mrr.sum(where=running(x.before)) * 12).cast(dt.Decimal(38, 2)),
        arr_after=(x.mrr.sum(where=running(x.after)) * 12).fill_null(0).cast(dt.Decimal(38, 2)),
        local_before=x.mrr_local.sum(where=running(x.before)),
        local_after=x.mrr_local.sum(where=running(x.after)).fill_null(0),
        notice=x.canceled_at.min(where=ended),
    )
    g = g.filter(g.arr_at_stake > 0)
    result = ibis.cases((g.local_after <= 0, "churned"),
                        (g.local_after < g.local_before, "contracted"), else_="renewed")
    accounts = table("accounts").select("account_id", "segment")
    g = g.left_join(accounts, "account_id").drop("account_id_right")
    return g.select(
        "account_id", "segment", "term", "period_start", "decision_date", "arr_at_stake",
        "arr_after", result=result,
        notice_date=ibis.ifelse(result == "renewed", ibis.null(dt.date), g.notice.date()),
    )
