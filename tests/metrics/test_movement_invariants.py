"""On random subscription histories: MRR at a period's start + its movements = MRR at its end,
per account and in total, to the cent; every grain adds up to the same totals; and the bridge,
computed from the change days alone, gives what the daily rows give at each period's ends."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quarterdeck.metrics.account_mrr import account_mrr_changes, account_mrr_daily
from quarterdeck.metrics.dimensions import account_dimensions
from quarterdeck.metrics.mrr_bridge import mrr_bridge
from quarterdeck.metrics.mrr_movements import MOVEMENT_TYPES, movements_by_period, mrr_movements
from quarterdeck.metrics.periods import periods_between
from quarterdeck.testing import worlds

ORIGIN = date(2024, 1, 1)
AS_OF = date(2024, 12, 31)
ACCOUNTS = ("a", "b", "c")
ZERO = Decimal("0.00")


@st.composite
def histories(draw):
    rows = []
    for i in range(draw(st.integers(1, 10))):
        start = ORIGIN + timedelta(days=draw(st.integers(0, 330)))
        length = draw(st.one_of(st.none(), st.integers(0, 200)))
        end = None if length is None else start + timedelta(days=length)
        canceled = None
        if end is not None and draw(st.booleans()):
            canceled = datetime.combine(start, datetime.min.time()) + timedelta(
                days=draw(st.integers(0, 400)))
        rows.append({
            "subscription_id": f"s{i}", "account_id": draw(st.sampled_from(ACCOUNTS)),
            "plan": draw(st.sampled_from(["basic", "pro"])),
            "quantity": draw(st.integers(0, 12)),
            "unit_price": Decimal(draw(st.integers(0, 50_000))) / 100,
            "discount": draw(st.sampled_from([None, "0.1", "0.333333", "1"])),
            "currency": draw(st.sampled_from(["USD", "EUR", "GBP"])),
            "interval_months": draw(st.sampled_from([1, 12, 36])),
            "start_date": start, "end_date": end, "canceled_at": canceled,
            "trial": draw(st.sampled_from([None, False, True])),
        })
    # A rate per currency for every month, random.
    rates = [{"date": date(2023, 12, 1), "currency": c, "rate_to_base": "1.1"}
             for c in ("EUR", "GBP")]
    for month in range(1, 13):
        for c in ("EUR", "GBP"):
            rates.append({"date": date(2024, month, 1), "currency": c,
                          "rate_to_base": Decimal(draw(st.integers(5000, 20000))) / 10_000})
    invoices = []
    for i in range(draw(st.integers(0, 3))):
        due = ORIGIN + timedelta(days=draw(st.integers(0, 330)))
        paid = draw(st.one_of(st.none(), st.integers(0, 90)))
        invoices.append({"invoice_id": f"i{i}", "account_id": draw(st.sampled_from(ACCOUNTS)),
                         "issued_at": due - timedelta(days=10), "due_at": due,
                         "paid_at": None if paid is None else due + timedelta(days=paid),
                         "amount": "1", "currency": "USD"})
    options = {"free_plan": draw(st.sampled_from(["churn", "contraction"])),
               "past_due_churn_days": draw(st.sampled_from([None, 15])),
               "roll_up_parents": draw(st.booleans())}
    return rows, rates, invoices, options


@pytest.mark.slow  # 3 to 7 s per example: a dozen queries each
# 10 examples in the suite keep it inside its CI time; QUARTERDECK_PROPERTY_EXAMPLES asks for more.
@settings(max_examples=int(os.environ.get("QUARTERDECK_PROPERTY_EXAMPLES", "10")),
          deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_movements_explain_every_change_at_every_grain(history):
    rows, rates, invoices, options = history
    world = worlds.world(
        accounts=[{"account_id": "a", "name": "A", "segment": "SMB"},
                  {"account_id": "b", "name": "B", "parent_account_id": "a"},
                  {"account_id": "c", "name": "C", "segment": "Enterprise"}],
        subscriptions=rows, fx_rates=rates, invoices=invoices)
    tables = {name: ibis.memtable(table) for name, table in world.items()}
    con = ibis.duckdb.connect()
    kw = {"as_of": AS_OF, "base_currency": "USD", **options}
    moves_expr = mrr_movements(tables, **kw)
    daily_expr = account_mrr_daily(tables, **kw)
    dims = account_dimensions(tables, as_of=AS_OF, base_currency="USD")
    moves = con.to_pyarrow(moves_expr).to_pylist()
    mrr = {(r["account_id"], r["date"]): r["mrr"] for r in con.to_pyarrow(daily_expr).to_pylist()}

    # Per account and month, and in total: start + Σ movements = end, to the cent.
    months = periods_between(ORIGIN, AS_OF, "month")
    for account in {a for a, _ in mrr} | {m["account_id"] for m in moves}:
        for p in months:
            start = mrr.get((account, p.start - timedelta(days=1)), ZERO)
            end = mrr.get((account, p.end), ZERO)
            moved = sum((m["amount"] for m in moves if m["account_id"] == account
                         and p.start <= m["date"] <= p.end), ZERO)
            assert start + moved == end, (account, p.label)
    for m in moves:  # each row's before/after chain is consistent
        assert m["mrr_before"] + m["amount"] == m["mrr_after"]
        assert m["movement_type"] in MOVEMENT_TYPES

    # The bridge closes per month, in money and in customers, and its ends are the daily
    # rows' on the day before each period and on its last day, per segment and in all.
    daily = {(r["account_id"], r["date"]): r for r in con.to_pyarrow(daily_expr).to_pylist()}
    segment = {r["account_id"]: r["segment"] for r in con.to_pyarrow(dims).to_pylist()}
    changes_expr = account_mrr_changes(tables, **kw)
    for grain in ("month", "quarter"):
        bridge = con.to_pyarrow(mrr_bridge(changes_expr, dims, grain=grain,
                                           start=ORIGIN, end=AS_OF, by=("segment",)))
        periods = {p.label: p for p in periods_between(ORIGIN, AS_OF, grain)}
        for b in bridge.to_pylist():
            assert b["starting_mrr"] + sum(b[k] for k in MOVEMENT_TYPES) == b["ending_mrr"]
            assert (b["starting_customers"] + b["new_customers"] + b["reactivated_customers"]
                    - b["churned_customers"]) == b["ending_customers"]
            expected = _bridge_from_daily(daily, segment, periods[b["period"]], b["segment"])
            assert {k: b[k] for k in expected} == expected, (grain, b["period"], b["segment"])

    # Day, month, quarter and year roll-ups agree per movement type.
    totals = {}
    for grain in ("day", "month", "quarter", "year"):
        sums = defaultdict(lambda: ZERO)
        expr = movements_by_period(moves_expr, dims, grain=grain, start=ORIGIN, end=AS_OF)
        for r in con.to_pyarrow(expr).to_pylist():
            sums[r["movement_type"]] += r["amount"]
        totals[grain] = dict(sums)
    expected = defaultdict(lambda: ZERO)
    for m in moves:
        expected[m["movement_type"]] += m["amount"]
    assert totals["day"] == totals["month"] == totals["quarter"] == totals["year"] == dict(
        expected)
    con.disconnect()


def _bridge_from_daily(daily, segment, period, value):
    """A bridge row's ends and customer counts as the module defines them from the daily rows
    (its movement sums are checked above)."""
    before, last = period.start - timedelta(days=1), min(period.end, AS_OF)
    counts = defaultdict(int)
    start_mrr = end_mrr = ZERO
    for account in {a for a, _ in daily}:
        if value != "all" and segment.get(account) != value:
            continue
        start, end = daily.get((account, before)), daily.get((account, last))
        start_mrr += start["mrr"] if start else ZERO
        end_mrr += end["mrr"] if end else ZERO
        was, now = bool(start and start["customer"]), bool(end and end["customer"])
        counts["starting_customers"] += was
        counts["ending_customers"] += now
        counts["churned_customers"] += was and not now
        counts["new_customers"] += now and not was and start is None
        counts["reactivated_customers"] += now and not was and start is not None
    return {"starting_mrr": start_mrr, "ending_mrr": end_mrr, **counts}
