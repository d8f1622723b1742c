"""MRR per subscription row: the reference rule, rates at the row's start, point in time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quarterdeck.errors import MissingRateError
from quarterdeck.testing import worlds
from quarterdeck.warehouse.subscription_mrr import check_rates, missing_rates, subscription_mrr

D = Decimal


def mrr_rows(backend, world, as_of=date(2024, 6, 30)):
    t = backend.load(world)
    expr = subscription_mrr(t["subscriptions"], t["fx_rates"], as_of=as_of, base_currency="USD")
    return {r["subscription_id"]: r for r in backend.rows(expr, "subscription_id")}


def test_annual_prepaid_is_a_twelfth_a_month(on_backend):
    row = mrr_rows(on_backend, worlds.annual_prepaid())["annual-1"]
    assert (row["mrr_local"], row["fx_rate"], row["mrr"]) == (D("100.00"), D(1), D("100.00"))


def test_three_year_contract_is_a_thirty_sixth_a_month(on_backend):
    row = mrr_rows(on_backend, worlds.three_year_contract())["three-year-1"]
    assert row["mrr"] == D("1000.00")
    assert row["end_date"] == date(2027, 1, 1)


def test_discount_applies_before_rounding_half_up_per_row(on_backend):
    rows = mrr_rows(on_backend, worlds.discounts())
    assert rows["discounted-1"]["mrr"] == D("850.00")
    assert rows["discounted-2"]["mrr"] == D("52.49")  # 629.937 / 12 = 52.49475


def test_exact_half_cents_round_up_even_where_floats_would_not(on_backend):
    # 2.675 and 1.005 are just below their half cent as binary floats.
    world = worlds.world(subscriptions=[
        {"subscription_id": "h1", "account_id": "a", "plan": "p", "quantity": 1,
         "unit_price": "2.675", "currency": "USD", "interval_months": 1,
         "start_date": "2024-01-01"},
        {"subscription_id": "h2", "account_id": "a", "plan": "p", "quantity": 1,
         "unit_price": "1.005", "currency": "USD", "interval_months": 1,
         "start_date": "2024-01-01"},
        {"subscription_id": "h3", "account_id": "a", "plan": "p", "quantity": 1,
         "unit_price": "1.5", "currency": "USD", "interval_months": 12,
         "start_date": "2024-01-01"},
        {"subscription_id": "h4", "account_id": "a", "plan": "p", "quantity": 3,
         "unit_price": "333.33", "currency": "EUR", "interval_months": 12,
         "start_date": "2024-01-01"},
    ], fx_rates=[{"date": "2023-12-01", "currency": "EUR", "rate_to_base": "1.1"}])
    rows = mrr_rows(on_backend, world)
    assert [rows[k]["mrr"] for k in ("h1", "h2", "h3", "h4")] == [
        D("2.68"), D("1.01"), D("0.13"), D("91.67")]  # h4: 91.66575
    assert rows["h4"]["mrr_local"] == D("83.33")


def test_trial_has_no_mrr(on_backend):
    rows = mrr_rows(on_backend, worlds.trial_then_paid())
    assert rows["trial-1"]["trial"] is True
    assert rows["trial-1"]["mrr"] == D("0.00")
    assert rows["trial-2"]["mrr"] == D("100.00")


def test_rate_is_the_one_in_effect_on_the_rows_start(on_backend):
    rows = mrr_rows(on_backend, worlds.euro_rate_change())
    assert (rows["euro-1"]["fx_rate"], rows["euro-1"]["mrr"]) == (D("1.1"), D("110.00"))
    assert (rows["euro-2"]["fx_rate"], rows["euro-2"]["mrr"]) == (D("1.2"), D("60.00"))
    assert rows["euro-2"]["mrr_local"] == D("50.00")


def test_end_is_unknown_before_the_cancellation_is(on_backend):
    world = worlds.cancellation_known_later()
    assert mrr_rows(on_backend, world, date(2024, 6, 30))["canceled-1"]["end_date"] is None
    later = mrr_rows(on_backend, world, date(2024, 7, 15))["canceled-1"]
    assert later["end_date"] == date(2024, 5, 1)


def test_rows_starting_after_as_of_do_not_exist_yet(on_backend):
    rows = mrr_rows(on_backend, worlds.euro_rate_change(), date(2024, 4, 9))
    assert set(rows) == {"euro-1"}


def test_missing_rate_is_an_error_naming_currency_and_date(on_backend):
    t = on_backend.load(worlds.missing_rate())
    expr = subscription_mrr(t["subscriptions"], t["fx_rates"], as_of=date(2024, 6, 30),
                            base_currency="USD")
    assert on_backend.rows(expr, "subscription_id")[0]["mrr"] is None
    assert on_backend.rows(missing_rates(expr), "currency") == [
        {"currency": "GBP", "start_date": date(2024, 3, 1)}]
    with pytest.raises(MissingRateError) as raised:
        check_rates(on_backend.con, expr, "USD")
    assert (raised.value.currency, raised.value.date) == ("GBP", "2024-03-01")
    assert "GBP" in str(raised.value) and "2024-03-01" in str(raised.value)


def test_rate_dated_after_the_start_does_not_count(on_backend):
    world = worlds.merge(worlds.missing_rate(), worlds.world(
        fx_rates=[{"date": "2024-03-02", "currency": "GBP", "rate_to_base": "1.3"}]))
    t = on_backend.load(world)
    expr = subscription_mrr(t["subscriptions"], t["fx_rates"], as_of=date(2024, 6, 30),
                            base_currency="USD")
    with pytest.raises(MissingRateError):
        check_rates(on_backend.con, expr, "USD")


def test_all_rates_present_passes(on_backend):
    t = on_backend.load(worlds.reference_world())
    expr = subscription_mrr(t["subscriptions"], t["fx_rates"], as_of=date(2024, 6, 30),
                            base_currency="USD")
    check_rates(on_backend.con, expr, "USD")


def test_large_seat_counts_and_prices_do_not_overflow():
    import ibis

    from quarterdeck.testing.worlds import load_world, world
    from quarterdeck.warehouse.subscription_mrr import subscription_mrr

    con = ibis.duckdb.connect()
    w = world(
        accounts=[{"account_id": "a1", "name": "Big"}],
        subscriptions=[{"subscription_id": "s1", "account_id": "a1", "plan": "Ent",
                        "quantity": "899", "unit_price": "1632", "currency": "USD",
                        "interval_months": 36, "start_date": "2024-01-01"}],
    )
    tables = load_world(con, w)
    out = con.execute(subscription_mrr(tables["subscriptions"], tables["fx_rates"],
                                       as_of=__import__("datetime").date(2024, 6, 1),
                                       base_currency="USD"))
    assert str(out.mrr[0]) == "40754.67"  # 899 × 1632 / 36 = 40754.666… → half up


def _reference_row_mrr(quantity, price, discount, rate, months):
    """The rule in Decimal: net carried to 12 decimals half up, times the rate, divided by
    the interval, half up to the cent; and the same in the row's currency."""
    from decimal import ROUND_HALF_UP

    net = (quantity * price * (1 - discount)).quantize(D("1e-12"), ROUND_HALF_UP)
    return ((net / months).quantize(D("0.01"), ROUND_HALF_UP),
            (net * rate / months).quantize(D("0.01"), ROUND_HALF_UP))


def _six(draw_int):
    return D(draw_int) / 10**6


@st.composite
def priced_rows(draw):
    """Rows with up to 6 decimals in quantity, price and discount and 12 in the rate, some
    of them built to land exactly on a half cent, or a millionth either side of it."""
    rows = []
    for i in range(draw(st.integers(1, 12))):
        months = draw(st.sampled_from([1, 3, 7, 12, 24, 36, 60]))
        rate = D(draw(st.integers(10**8, 50 * 10**12))) / 10**12
        if draw(st.booleans()):  # on (or next to) a half cent in the row's currency
            cents = draw(st.integers(0, 10**9))
            quantity = D(1)
            price = (D(cents) + D("0.005")) * months + D(draw(st.sampled_from([-1, 0, 1]))) / 10**6
            discount = D(0)
            rate = D(1) if draw(st.booleans()) else rate
        else:
            quantity = _six(draw(st.integers(0, 10**4 * 10**6)))
            price = _six(draw(st.integers(0, 10**5 * 10**6)))
            discount = draw(st.sampled_from([D(0), D(1), D("0.5"), D("0.333333")])
                            | st.integers(0, 10**6).map(_six))
        rows.append({"subscription_id": f"s{i}", "account_id": "a", "plan": "p",
                     "quantity": quantity, "unit_price": max(price, D(0)),
                     "discount": discount if draw(st.booleans()) else None,
                     "currency": "EUR", "interval_months": months, "start_date": "2024-01-01",
                     "_rate": rate})
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(priced_rows())
def test_each_rows_mrr_is_the_rule_computed_in_decimal(rows):
    # One row per currency, so that each has its own rate in effect on the start date.
    import ibis

    from quarterdeck.testing.worlds import load_world, world

    currencies = [f"C{i:02d}" for i in range(len(rows))]
    subs = [{**{k: v for k, v in r.items() if k != "_rate"}, "currency": c}
            for r, c in zip(rows, currencies, strict=True)]
    rates = [{"date": "2023-12-01", "currency": c, "rate_to_base": r["_rate"]}
             for r, c in zip(rows, currencies, strict=True)]
    tables = load_world(ibis.duckdb.connect(), world(subscriptions=subs, fx_rates=rates))
    got = subscription_mrr(tables["subscriptions"], tables["fx_rates"], as_of=date(2024, 6, 1),
                           base_currency="USD").to_pyarrow().to_pylist()
    by_id = {r["subscription_id"]: r for r in got}
    for r in rows:
        expected = _reference_row_mrr(r["quantity"], r["unit_price"], r["discount"] or D(0),
                                      r["_rate"], r["interval_months"])
        row = by_id[r["subscription_id"]]
        assert (row["mrr_local"], row["mrr"]) == expected, r
