"""`upcoming_decisions`: every renewal decision due after a date, as the data stood on it.

A decision is dated as `renewal_outcomes` dates past ones, read from the subscription rows as
known on `as_of` (a row canceled later still runs; rows starting later do not exist yet):

- a *contract* decision (billing interval over one month) on each end date of a paid row and
  on each term boundary (start + whole intervals) of an open-ended one;
- a *monthly* decision at the end of every monthly term of an account with no contract running
  the day before.

Each decision in (as_of, as_of + horizon_days] gets:

- `renewal_id`: account_id@renewal_date, the key a CSM's category is kept under;
- `arr_at_stake`: the account's ARR (base currency) the day before the decision;
- `term_months`: the longest billing interval running the day before (1 for monthly);
- `cancellation_known`: the rows running the day before all end on the decision and at least
  one was canceled on or before `as_of` (its `notice_date`); such a decision renews with
  probability 0;
- `decision_number`: 1 for the account's next decision in the horizon, 2 for the one after …
  (a monthly account faces one a month).

Example: a 12-month row from 2026-01-15, as of 2026-09-30 with a 120-day horizon → one
contract decision on 2027-01-15 with the account's ARR at stake.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.health.renewal_outcomes import _contract_decisions, _monthly_decisions
from quarterdeck.warehouse.schema import empty_table
from quarterdeck.warehouse.subscription_mrr import day_after, subscription_mrr

MONEY = dt.Decimal(38, 2)


def upcoming_decisions(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                       horizon_days: int) -> ir.Table:
    """Renewal decisions dated in (as_of, as_of + horizon_days], one row per account and date.

    Columns: renewal_id, account_id, segment, owner_email, term, term_months, renewal_date,
    days_out, decision_number, arr_at_stake, cancellation_known, notice_date.
    Example: upcoming_decisions(tables, as_of=date(2026, 9, 30), base_currency="USD",
    horizon_days=90).
    """
    if horizon_days < 1:
        raise ValueError(f"the horizon must be at least one day, not {horizon_days}")

    def table(name: str) -> ir.Table:
        return tables[name] if name in tables else empty_table(name)

    raw = table("subscriptions")
    s = subscription_mrr(raw, table("fx_rates"), as_of=as_of, base_currency=base_currency)
    s = s.filter(~s.trial).join(raw.select("subscription_id", "canceled_at"), "subscription_id")
    last = as_of + timedelta(days=horizon_days)
    cols = ["account_id", "term", "decision_date", "before"]
    d = _contract_decisions(s, last).select(*cols).union(
        _monthly_decisions(s, last).select(*cols))
    d = d.filter(d.decision_date > as_of)
    x = d.join(s, "account_id")
    running = (x.start_date <= x.before) & (x.end_date.isnull() | (x.end_date > x.before))
    stays = running & (x.end_date.isnull() | (x.end_date > x.decision_date))
    ends_canceled = running & (x.end_date == x.decision_date) & x.canceled_at.notnull() & (
        x.canceled_at < day_after(as_of))
    g = x.group_by(["account_id", "term", "decision_date"]).agg(
        arr_at_stake=(x.mrr.sum(where=running) * 12).cast(MONEY),
        term_months=x.interval_months.max(where=running),
        staying=x.mrr.count(where=stays),
        canceled=x.canceled_at.min(where=ends_canceled),
    )
    g = g.filter(g.arr_at_stake > 0)
    known = (g.staying == 0) & g.canceled.notnull()
    accounts = table("accounts").select("account_id", "segment", "owner_email")
    g = g.left_join(accounts, "account_id").drop("account_id_right")
    number = ibis.row_number().over(group_by=g.account_id, order_by=g.decision_date) + 1
    out = g.select(
        renewal_id=g.account_id + "@" + g.decision_date.strftime("%Y-%m-%d"),
        account_id=g.account_id, segment=g.segment, owner_email=g.owner_email, term=g.term,
        term_months=g.term_months.cast(dt.int32), renewal_date=g.decision_date.cast(dt.date),
        days_out=g.decision_date.delta(ibis.literal(as_of), unit="day").cast(dt.int32),
        decision_number=number.cast(dt.int32),
        arr_at_stake=g.arr_at_stake, cancellation_known=known,
        notice_date=ibis.ifelse(known, g.canceled.date(), ibis.null(dt.date)),
    )
    return out.order_by(["renewal_date", "account_id"])
