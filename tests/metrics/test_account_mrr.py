"""account_mrr_daily and account_dimensions on the hand-built revenue worlds."""

from __future__ import annotations

import importlib.util
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from quarterdeck.metrics.account_mrr import account_mrr_daily
from quarterdeck.metrics.dimensions import account_dimensions
from quarterdeck.testing import revenue_worlds as rw

_spec = importlib.util.spec_from_file_location(
    "warehouse_conftest", Path(__file__).parents[1] / "warehouse" / "conftest.py")
_warehouse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_warehouse)
on_backend = _warehouse.on_backend

D = Decimal


def daily(backend, world, as_of=rw.AS_OF, **settings):
    expr = account_mrr_daily(backend.load(world), as_of=as_of, base_currency="USD", **settings)
    return {(r["account_id"], r["date"]): (r["mrr"], r["customer"])
            for r in backend.con.to_pyarrow(expr).to_pylist()}


def test_rows_run_from_the_first_paying_day_through_as_of(on_backend):
    rows = daily(on_backend, rw.every_movement(), as_of=date(2024, 4, 30))
    days = sorted(d for _, d in rows)
    assert days[0] == date(2024, 1, 5) and days[-1] == date(2024, 4, 30)
    assert len(days) == (date(2024, 4, 30) - date(2024, 1, 5)).days + 1
    assert rows["lifecycle", date(2024, 1, 19)] == (D("500.00"), True)
    assert rows["lifecycle", date(2024, 3, 1)] == (D("0.00"), False)
    assert rows["lifecycle", date(2024, 4, 10)] == (D("300.00"), True)


def test_a_trial_has_no_rows_until_it_converts(on_backend):
    rows = daily(on_backend, rw.trial_conversion(), as_of=date(2024, 3, 31))
    assert min(d for _, d in rows) == date(2024, 2, 15)
    assert rows["trialist", date(2024, 2, 15)] == (D("100.00"), True)


def test_free_plan_setting_decides_who_is_a_customer(on_backend):
    world = rw.free_plan_downgrade()
    churn = daily(on_backend, world, as_of=date(2024, 7, 31))
    kept = daily(on_backend, world, as_of=date(2024, 7, 31), free_plan="contraction")
    may = date(2024, 5, 15)
    assert churn["freemium", may] == (D("0.00"), False)
    assert kept["freemium", may] == (D("0.00"), True)
    assert kept["free_then_gone", date(2024, 2, 29)] == (D("0.00"), True)
    assert kept["free_then_gone", date(2024, 3, 1)] == (D("0.00"), False)


def test_past_due_zeroes_mrr_until_paid(on_backend):
    rows = daily(on_backend, rw.past_due(), as_of=date(2024, 5, 31), past_due_churn_days=30)
    assert rows["late_payer", date(2024, 4, 14)] == (D("500.00"), True)
    assert rows["late_payer", date(2024, 4, 15)] == (D("0.00"), False)
    assert rows["late_payer", date(2024, 5, 9)] == (D("0.00"), False)
    assert rows["late_payer", date(2024, 5, 10)] == (D("500.00"), True)
    # Paid 30 days after its due day: within the grace, so February never drops.
    assert all(rows["late_payer", date(2024, 2, 1) + timedelta(days=k)][0] == D("500.00")
               for k in range(29))


def test_roll_up_sums_children_into_the_top_ancestor(on_backend):
    rows = daily(on_backend, rw.hierarchy(), as_of=date(2024, 7, 31), roll_up_parents=True)
    assert {a for a, _ in rows} == {"group_parent", "orphan", "loop_y"}
    assert rows["group_parent", date(2024, 3, 1)] == (D("350.00"), True)
    assert rows["group_parent", date(2024, 6, 30)] == (D("250.00"), True)
    assert rows["group_parent", date(2024, 7, 1)] == (D("250.00"), True)


def test_dimensions_name_plan_currency_cohort_and_custom_attributes(on_backend):
    tables = on_backend.load(rw.revenue_world())
    expr = account_dimensions(tables, as_of=rw.AS_OF, base_currency="USD")
    dims = {r["account_id"]: r for r in on_backend.rows(expr, "account_id")}
    life = dims["lifecycle"]
    assert (life["segment"], life["plan"], life["currency"], life["cohort_month"],
            life["tier"], life["region"]) == ("SMB", "pro", "USD", date(2024, 1, 1), "gold",
                                              "(none)")
    assert dims["netted"]["plan"] == "team"  # 600.00 on team beats the 100.00 add-on
    assert (dims["euro_up"]["currency"], dims["euro_up"]["region"]) == ("EUR", "EMEA")
    assert dims["leap"]["cohort_month"] == date(2024, 2, 1)
    assert (dims["loop_y"]["plan"], dims["loop_y"]["cohort_month"]) == ("(none)", None)
    assert dims["group_child"]["parent_account_id"] == "group_parent"
