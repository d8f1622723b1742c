"""Signup-cohort retention on a tiny world checked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_retention import daily_table, dimensions_table, rows

from quarterdeck.metrics.cohorts import cohort_matrix, cohort_retention
from quarterdeck.warehouse.connection import connect
from tests.warehouse.conftest import Backend, on_backend  # noqa: F401  (a fixture)

AS_OF = date(2024, 6, 15)
WORLD = {
    "m1": [("2024-03-10", 100), ("2024-05-02", 150)],               # expands in May
    "m2": [("2024-03-20", 200), ("2024-04-15", 0)],                 # churns in April
    "m3": [("2024-03-31", 50), ("2024-06-01", 30)],                 # starts on a month end
    "r1": [("2024-03-05", 60), ("2024-03-25", 0), ("2024-05-10", 80)],  # back in May
    "a1": [("2024-04-01", 400)],                                    # the April cohort
}
SEGMENTS = {"m1": "smb", "m2": "smb", "m3": "ent", "r1": "ent", "a1": "ent"}


def by_k(out, cohort):
    return {r["periods_since_start"]: r for r in out if r["cohort"] == cohort}


def test_march_cohort_month_by_month(on_backend: Backend):  # noqa: F811
    out = rows(on_backend.con, cohort_retention(daily_table(WORLD, AS_OF), as_of=AS_OF))
    march = by_k(out, "2024-03")
    assert sorted(march) == [0, 1, 2, 3]  # k runs to as_of
    # New-business MRR: first-day MRR of m1, m2, m3, r1 = 100 + 200 + 50 + 60 = 410.
    assert {r["new_business_mrr"] for r in march.values()} == {Decimal("410.00")}
    assert {r["cohort_customers"] for r in march.values()} == {4}
    expected = {  # k: (reference day, active, MRR)
        0: (date(2024, 3, 31), 3, "350.00"),  # r1 has already churned
        1: (date(2024, 4, 30), 2, "150.00"),  # m2 churned on 04-15
        2: (date(2024, 5, 31), 3, "280.00"),  # m1 at 150, r1 back at 80
        3: (date(2024, 6, 15), 3, "260.00"),  # as_of; m3 down to 30
    }
    for k, (day, active, mrr) in expected.items():
        row = march[k]
        assert (row["cohort_start"], row["reference_date"], row["active_customers"],
                row["mrr_k"]) == (date(2024, 3, 1), day, active, Decimal(mrr))
        assert row["logo_retention"] == pytest.approx(active / 4)
        assert row["revenue_retention"] == pytest.approx(float(mrr) / 410)
    april = by_k(out, "2024-04")
    assert [(k, r["reference_date"], r["revenue_retention"]) for k, r in sorted(april.items())] \
        == [(0, date(2024, 4, 30), 1.0), (1, date(2024, 5, 31), 1.0), (2, AS_OF, 1.0)]


def test_quarterly_cohorts():
    out = rows(connect("duckdb://"), cohort_retention(daily_table(WORLD, AS_OF), as_of=AS_OF,
                                                      cohort_grain="quarter"))
    q1 = by_k(out, "2024-Q1")
    assert sorted(q1) == [0, 1]
    assert (q1[0]["reference_date"], q1[0]["mrr_k"]) == (date(2024, 3, 31), Decimal("350.00"))
    assert (q1[1]["reference_date"], q1[1]["mrr_k"]) == (AS_OF, Decimal("260.00"))
    q2 = by_k(out, "2024-Q2")
    assert (q2[0]["cohort_customers"], q2[0]["new_business_mrr"]) == (1, Decimal("400.00"))


def test_by_segment_with_an_all_row_and_the_matrix():
    con = connect("duckdb://")
    dims = dimensions_table({k: {"segment": v} for k, v in SEGMENTS.items()})
    expr = cohort_retention(daily_table(WORLD, AS_OF), as_of=AS_OF, by=("segment",),
                            dimensions=dims)
    out = rows(con, expr)
    march = {(r["segment"], r["periods_since_start"]): r for r in out if r["cohort"] == "2024-03"}
    assert march[("smb", 1)]["mrr_k"] == Decimal("100.00")  # m1; m2 churned
    assert march[("smb", 1)]["new_business_mrr"] == Decimal("300.00")
    assert march[("ent", 2)]["mrr_k"] == Decimal("130.00")  # m3 50 + r1 80
    assert march[("all", 2)]["mrr_k"] == Decimal("280.00")
    matrix = cohort_matrix(expr)
    assert matrix.loc[("all", "2024-03"), 2] == pytest.approx(280 / 410)
    assert matrix.loc[("ent", "2024-04"), 0] == pytest.approx(1.0)
    assert list(matrix.columns) == [0, 1, 2, 3]
    plain = cohort_retention(daily_table(WORLD, AS_OF), as_of=AS_OF)
    logos = cohort_matrix(plain, "logo_retention")
    assert logos.loc["2024-03"].tolist() == pytest.approx([0.75, 0.5, 0.75, 0.75])
    assert logos.loc["2024-04"].isna().tolist() == [False, False, False, True]


def test_unknown_grain_is_refused():
    with pytest.raises(ValueError, match="unknown cohort grain"):
        cohort_retention(daily_table(WORLD, AS_OF), as_of=AS_OF, cohort_grain="week")
