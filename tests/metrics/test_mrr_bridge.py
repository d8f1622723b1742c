"""mrr_bridge: the ARR bridge per month on the hand-built worlds, with customer counts."""

from __future__ import annotations

import importlib.util
from datetime import date
from decimal import Decimal
from pathlib import Path

from quarterdeck.metrics.account_mrr import account_mrr_changes
from quarterdeck.metrics.dimensions import account_dimensions
from quarterdeck.metrics.mrr_bridge import mrr_bridge
from quarterdeck.testing import revenue_worlds as rw

_spec = importlib.util.spec_from_file_location(
    "warehouse_conftest", Path(__file__).parents[1] / "warehouse" / "conftest.py")
_warehouse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_warehouse)
on_backend = _warehouse.on_backend

D = Decimal
MONEY = ("starting_mrr", "new", "expansion", "contraction", "churn", "reactivation",
         "fx_adjustment", "ending_mrr")
COUNTS = ("starting_customers", "new_customers", "churned_customers",
          "reactivated_customers", "ending_customers")


def bridge(backend, world, *, grain="month", start=date(2024, 1, 1), end=date(2024, 4, 30),
           by=(), **settings):
    tables = backend.load(world)
    kw = {"as_of": end, "base_currency": "USD", **settings}
    expr = mrr_bridge(account_mrr_changes(tables, **kw),
                      account_dimensions(tables, as_of=end, base_currency="USD"),
                      grain=grain, start=start, end=end, by=by)
    return {(r["period"], *[r[b] for b in by]) if by else r["period"]: r
            for r in backend.rows(expr, "period")}


def money(row):
    return tuple(row[k] for k in MONEY)


def counts(row):
    return tuple(row[k] for k in COUNTS)


def test_bridge_per_month_of_the_reference_example(on_backend):
    rows = bridge(on_backend, rw.every_movement())
    z = D("0.00")
    assert money(rows["2024-01"]) == (z, D("500.00"), D("200.00"), z, z, z, z, D("700.00"))
    assert money(rows["2024-02"]) == (D("700.00"), z, z, D("-100.00"), z, z, z, D("600.00"))
    assert money(rows["2024-03"]) == (D("600.00"), z, z, z, D("-600.00"), z, z, z)
    assert money(rows["2024-04"]) == (z, z, z, z, z, D("300.00"), z, D("300.00"))
    assert counts(rows["2024-01"]) == (0, 1, 0, 0, 1)
    assert counts(rows["2024-03"]) == (1, 0, 1, 0, 0)
    assert counts(rows["2024-04"]) == (0, 0, 0, 1, 1)
    assert (rows["2024-04"]["starting_arr"], rows["2024-04"]["ending_arr"]) == (z, D("3600.00"))


def test_a_quarter_in_which_an_account_came_and_went_counts_no_customer(on_backend):
    rows = bridge(on_backend, rw.leap_day(), grain="quarter", end=date(2024, 6, 30))
    q1 = rows["2024-Q1"]
    assert (q1["new"], q1["churn"]) == (D("129.00"), D("-29.00"))
    assert q1["ending_mrr"] == D("100.00")  # month_end stays
    assert counts(q1) == (0, 1, 0, 0, 1)


def test_the_current_period_ends_on_the_as_of_date(on_backend):
    rows = bridge(on_backend, rw.every_movement(), end=date(2024, 4, 15))
    assert rows["2024-04"]["period_end"] == date(2024, 4, 15)
    assert rows["2024-04"]["ending_mrr"] == D("300.00")


def test_free_plan_as_contraction_churns_the_logo_without_mrr(on_backend):
    rows = bridge(on_backend, rw.free_plan_downgrade(), free_plan="contraction")
    march = rows["2024-03"]
    assert (march["churn"], march["starting_customers"], march["churned_customers"],
            march["ending_customers"]) == (D("0.00"), 2, 1, 1)
    feb = rows["2024-02"]
    assert (feb["contraction"], feb["churned_customers"]) == (D("-100.00"), 0)


def test_fx_adjustment_closes_the_bridge(on_backend):
    rows = bridge(on_backend, rw.euro_accounts(), grain="quarter", start=date(2025, 1, 1),
                  end=date(2025, 6, 30), by=("region",))
    q1 = rows["2025-Q1", "EMEA"]
    assert (q1["starting_mrr"], q1["expansion"], q1["fx_adjustment"], q1["ending_mrr"]) == (
        D("3428.00"), D("216.00"), D("88.00"), D("3732.00"))
    q2 = rows["2025-Q2", "all"]
    assert (q2["contraction"], q2["fx_adjustment"], q2["ending_mrr"]) == (
        D("-108.00"), D("108.00"), D("3732.00"))


def test_every_period_has_a_row_even_without_revenue(on_backend):
    rows = bridge(on_backend, rw.every_movement(), start=date(2023, 11, 1))
    assert money(rows["2023-11"]) == (D("0.00"),) * 8
    assert counts(rows["2023-12"]) == (0,) * 5
