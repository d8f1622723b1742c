"""Customer lifetimes and Kaplan–Meier curves, against hand counts and a textbook example."""

from __future__ import annotations

from datetime import date

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_retention import daily_table, dimensions_table, rows

from quarterdeck.metrics.survival import customer_lifetimes, kaplan_meier
from quarterdeck.warehouse.connection import connect
from tests.warehouse.conftest import Backend, on_backend  # noqa: F401  (a fixture)

AS_OF = date(2024, 6, 30)
WORLD = {
    "s1": [("2024-01-15", 100), ("2024-04-20", 0)],
    "s2": [("2024-01-15", 100), ("2024-04-15", 0)],
    "s3": [("2024-01-31", 100)],
    "s4": [("2024-01-15", 100), ("2024-02-01", 0), ("2024-03-01", 100)],  # back, too late
    "s5": [("2024-05-01", 100)],
}

# Freireich et al. (1963), 6-MP arm: remission in weeks, False = censored. The product-limit
# estimates are the textbook ones (e.g. Kleinbaum & Klein, Survival Analysis, ch. 2).
GEHAN_6MP = [(6, True), (6, True), (6, True), (6, False), (7, True), (9, False), (10, True),
             (10, False), (11, False), (13, True), (16, True), (17, False), (19, False),
             (20, False), (22, True), (23, True), (25, False), (32, False), (32, False),
             (34, False), (35, False)]
TEXTBOOK = {0: 1.0, 5: 1.0, 6: 0.8571, 7: 0.8067, 8: 0.8067, 10: 0.7529, 13: 0.6902,
            16: 0.6275, 22: 0.5378, 23: 0.4482, 35: 0.4482}


def lifetimes_table(pairs, segment="all-6mp"):
    return ibis.memtable({"segment": [segment] * len(pairs),
                          "duration_months": [t for t, _ in pairs],
                          "event": [e for _, e in pairs]},
                         schema={"segment": "string", "duration_months": "int64",
                                 "event": "boolean"})


def test_lifetimes_end_at_the_first_churn(on_backend: Backend):  # noqa: F811
    dims = dimensions_table({k: {"segment": "smb" if k < "s3" else "ent"} for k in WORLD})
    out = {r["account_id"]: r for r in rows(on_backend.con, customer_lifetimes(
        daily_table(WORLD, AS_OF), dims, as_of=AS_OF))}
    got = {k: (r["segment"], r["first_day"], r["churn_day"], r["event"], r["duration_days"],
               r["duration_months"]) for k, r in out.items()}
    assert got == {
        "s1": ("smb", date(2024, 1, 15), date(2024, 4, 20), True, 96, 4),
        "s2": ("smb", date(2024, 1, 15), date(2024, 4, 15), True, 91, 3),
        "s3": ("ent", date(2024, 1, 31), None, False, 152, 5),  # 06-30 is a month end
        "s4": ("ent", date(2024, 1, 15), date(2024, 2, 1), True, 17, 1),
        "s5": ("ent", date(2024, 5, 1), None, False, 61, 1),
    }


def test_a_customer_is_censored_at_the_months_it_was_seen():
    daily = daily_table({"s1": [("2024-01-15", 100)]}, date(2024, 4, 14))
    (row,) = rows(connect("duckdb://"), customer_lifetimes(
        daily, None, as_of=date(2024, 4, 14), by=()))
    assert (row["event"], row["duration_months"], row["duration_days"]) == (False, 2, 91)


def test_kaplan_meier_matches_the_textbook(on_backend: Backend):  # noqa: F811
    out = rows(on_backend.con, kaplan_meier(lifetimes_table(GEHAN_6MP)))
    curve = {r["month"]: r for r in out if r["segment"] == "all-6mp"}
    assert sorted(curve) == list(range(36))
    for week, survival in TEXTBOOK.items():
        assert curve[week]["survival"] == pytest.approx(survival, abs=5e-5), week
    assert (curve[6]["at_risk"], curve[6]["events"], curve[6]["censored"]) == (21, 3, 1)
    assert (curve[10]["at_risk"], curve[10]["events"], curve[10]["censored"]) == (15, 1, 1)
    assert {r["segment"] for r in out} == {"all-6mp", "all"}


def test_a_group_where_everyone_churns_reaches_zero():
    out = rows(connect("duckdb://"), kaplan_meier(lifetimes_table([(1, True), (2, True)]),
                                                  by=()))
    assert [(r["month"], r["at_risk"], r["survival"]) for r in out] == [
        (0, 2, 1.0), (1, 2, 0.5), (2, 1, 0.0)]


def product_limit(pairs):
    """The Kaplan–Meier estimate by the book, in plain Python."""
    survival, curve = 1.0, {}
    for month in range(max(t for t, _ in pairs) + 1):
        at_risk = sum(1 for t, _ in pairs if t >= month)
        events = sum(1 for t, e in pairs if t == month and e)
        if at_risk:
            survival *= 1 - events / at_risk
        curve[month] = survival
    return curve


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.booleans()), min_size=1, max_size=30))
def test_the_engine_computes_the_product_limit(pairs):
    out = rows(connect("duckdb://"), kaplan_meier(lifetimes_table(pairs), by=()))
    expected = product_limit(pairs)
    assert {r["month"]: r["survival"] for r in out} == pytest.approx(expected, abs=1e-9)


def test_the_documented_example():
    pairs = [(1, True), (1, True), (1, False), (2, True)] + [(3, False)] * 6
    out = rows(connect("duckdb://"), kaplan_meier(lifetimes_table(pairs), by=()))
    curve = {r["month"]: r for r in out}
    assert curve[1]["survival"] == pytest.approx(0.8)
    assert curve[2]["at_risk"] == 7
    assert curve[2]["survival"] == pytest.approx(0.8 * 6 / 7)
