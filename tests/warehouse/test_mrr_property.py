"""account_daily's MRR equals a plain Python reading of the reference rule on random data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import ibis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quarterdeck.testing import worlds
from quarterdeck.warehouse.account_daily import account_daily

ORIGIN = date(2024, 1, 1)
CENT = Decimal("0.01")


@st.composite
def histories(draw):
    rows = []
    for i in range(draw(st.integers(1, 6))):
        start = ORIGIN + timedelta(days=draw(st.integers(0, 120)))
        length = draw(st.one_of(st.none(), st.integers(1, 90)))
        end = None if length is None else start + timedelta(days=length)
        canceled = None
        if end is not None and draw(st.booleans()):
            canceled = datetime.combine(start, datetime.min.time()) + timedelta(
                days=draw(st.integers(0, 200)), hours=draw(st.integers(0, 23)))
        rows.append({
            "subscription_id": f"s{i}", "account_id": draw(st.sampled_from(["a", "b"])),
            "plan": "p", "quantity": draw(st.integers(0, 20)),
            "unit_price": Decimal(draw(st.integers(0, 200_000))) / 100,
            "discount": draw(st.sampled_from([None, "0", "0.1", "0.25", "0.333333"])),
            "currency": draw(st.sampled_from(["USD", "EUR"])),
            "interval_months": draw(st.sampled_from([1, 3, 12, 36])),
            "start_date": start, "end_date": end, "canceled_at": canceled,
            "trial": draw(st.sampled_from([None, False, True])),
        })
    rates = [{"date": ORIGIN - timedelta(days=31), "currency": "EUR", "rate_to_base": "1.1"}]
    for k in range(draw(st.integers(0, 3))):
        rates.append({"date": ORIGIN + timedelta(days=30 * k + draw(st.integers(1, 29))),
                      "currency": "EUR",
                      "rate_to_base": Decimal(draw(st.integers(5000, 20000))) / 10_000})
    as_of = ORIGIN + timedelta(days=draw(st.integers(0, 150)))
    days = draw(st.lists(st.integers(0, 150), min_size=1, max_size=5))
    return rows, rates, as_of, [ORIGIN + timedelta(days=d) for d in days]


def reference_mrr(rows, rates, as_of, account, day):
    """The rule in words: rows started by as_of, end unknown until canceled, rate at start."""
    total = Decimal(0)
    for r in rows:
        if r["account_id"] != account or r["start_date"] > as_of or r["trial"]:
            continue
        end = r["end_date"]
        if r["canceled_at"] is not None and r["canceled_at"].date() > as_of:
            end = None
        if not (r["start_date"] <= day and (end is None or day < end)):
            continue
        rate = Decimal(1)
        if r["currency"] == "EUR":
            rate = Decimal(str(max((x for x in rates if x["date"] <= r["start_date"]),
                                   key=lambda x: x["date"])["rate_to_base"]))
        net = (Decimal(r["quantity"]) * r["unit_price"]
               * (1 - Decimal(r["discount"] or 0))).quantize(Decimal("1e-12"), ROUND_HALF_UP)
        total += (net * rate / r["interval_months"]).quantize(CENT, ROUND_HALF_UP)
    return total


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_daily_mrr_follows_the_reference_rule(history):
    rows, rates, as_of, days = history
    world = worlds.world(
        accounts=[{"account_id": a, "name": a, "created_at": ORIGIN} for a in ("a", "b")],
        subscriptions=rows, fx_rates=rates)
    con = ibis.duckdb.connect()
    tables = {name: ibis.memtable(table) for name, table in world.items()}
    expr = account_daily(tables, as_of=as_of, base_currency="USD")
    got = {(r["account_id"], r["date"]): r["mrr"] for r in con.to_pyarrow(expr).to_pylist()}
    assert len(got) == 2 * ((as_of - ORIGIN).days + 1)
    for day in days:
        for account in ("a", "b"):
            if day <= as_of:
                assert got[account, day] == reference_mrr(rows, rates, as_of, account, day)
    con.disconnect()
