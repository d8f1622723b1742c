"""Retention over a window, on tiny worlds whose numbers are checked by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend

from quarterdeck.metrics.retention import months_before, retention
from quarterdeck.warehouse.connection import connect
from tests.warehouse.conftest import Backend, on_backend  # noqa: F401  (a fixture)

Schedule = Sequence[tuple[str, float]]
"""An account's MRR from each date on: [("2024-01-01", 100), ("2024-02-10", 0)]."""


def daily_table(schedules: Mapping[str, Schedule], as_of: date) -> ir.Table:
    """account_mrr_daily by hand: one row per account per day from its first paying day
    through `as_of`, customer = mrr > 0 (the reference rule)."""
    rows: dict[str, list[Any]] = {"account_id": [], "date": [], "mrr": [], "customer": []}
    for account, steps in schedules.items():
        changes = {date.fromisoformat(d): Decimal(str(v)).quantize(Decimal("0.01"))
                   for d, v in steps}
        day, mrr = min(changes), Decimal("0.00")
        while day <= as_of:
            mrr = changes.get(day, mrr)
            rows["account_id"].append(account)
            rows["date"].append(day)
            rows["mrr"].append(mrr)
            rows["customer"].append(mrr > 0)
            day += timedelta(days=1)
    return ibis.memtable(rows, schema={"account_id": "string", "date": "date",
                                       "mrr": "decimal(38, 2)", "customer": "boolean"})


def dimensions_table(values: Mapping[str, Mapping[str, str]]) -> ir.Table:
    """One row per account: {"a1": {"segment": "smb"}} → account_id, segment."""
    names = sorted({k for v in values.values() for k in v})
    data: dict[str, list[Any]] = {"account_id": list(values)}
    for name in names:
        data[name] = [v.get(name) for v in values.values()]
    return ibis.memtable(data, schema={"account_id": "string", **dict.fromkeys(names, "string")})


def rows(con: BaseBackend, expr: ir.Table) -> list[dict[str, Any]]:
    return con.to_pyarrow(expr).to_pylist()


# The March 2024 world. Every account is paying on 2024-02-29 except the last two.
AS_OF = date(2024, 3, 31)
WORLD: dict[str, Schedule] = {
    "expands": [("2024-01-01", 100), ("2024-03-10", 150)],     # +50
    "contracts": [("2024-01-01", 200), ("2024-03-05", 120)],   # −80, still a customer
    "churns": [("2024-01-01", 300), ("2024-03-15", 0)],        # −300, a lost logo
    "flat": [("2024-01-01", 400)],
    "new": [("2024-03-10", 500)],                              # not in the cohort
    "reactivates": [("2024-01-01", 50), ("2024-02-01", 0), ("2024-03-15", 60)],  # not either
}
SEGMENTS = {"expands": "smb", "contracts": "smb", "churns": "enterprise", "flat": "enterprise",
            "new": "smb", "reactivates": "smb"}


@pytest.fixture
def duck() -> BaseBackend:
    return connect("duckdb://")


def test_month_end_windows_tile():
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)  # leap day
    assert months_before(date(2024, 2, 29), 1) == date(2024, 1, 31)  # month end to month end
    assert months_before(date(2024, 2, 29), 12) == date(2023, 2, 28)
    assert months_before(date(2024, 6, 30), 3) == date(2024, 3, 31)
    assert months_before(date(2024, 3, 30), 1) == date(2024, 2, 29)  # clamped
    assert months_before(date(2024, 5, 15), 1) == date(2024, 4, 15)
    assert months_before(date(2025, 1, 31), 12) == date(2024, 1, 31)


def test_monthly_retention_by_hand(on_backend: Backend):  # noqa: F811
    daily = daily_table(WORLD, AS_OF)
    (row,) = rows(on_backend.con, retention(daily, None, as_of=AS_OF, window_months=1))
    # Cohort on 2024-02-29: expands 100, contracts 200, churns 300, flat 400 = 1,000.
    assert (row["period"], row["period_start"], row["period_end"], row["window_start"]) == (
        "2024-03", date(2024, 3, 1), date(2024, 3, 31), date(2024, 2, 29))
    assert row["cohort_customers"] == 4 and row["churned_customers"] == 1
    assert row["starting_mrr"] == Decimal("1000.00")
    assert row["ending_mrr"] == Decimal("670.00")  # 150 + 120 + 0 + 400
    assert row["retained_mrr"] == Decimal("620.00")  # 100 + 120 + 0 + 400
    assert (row["expansion_mrr"], row["contraction_mrr"], row["churned_mrr"]) == (
        Decimal("50.00"), Decimal("80.00"), Decimal("300.00"))
    assert row["nrr"] == pytest.approx(0.67)
    assert row["grr"] == pytest.approx(0.62)
    assert row["logo_churn"] == pytest.approx(0.25)
    assert row["revenue_churn"] == pytest.approx(0.30)
    assert row["expansion_rate"] == pytest.approx(0.05)
    assert row["contraction_rate"] == pytest.approx(0.08)
    assert row["nrr"] == pytest.approx(
        1 + row["expansion_rate"] - row["contraction_rate"] - row["revenue_churn"])


def test_by_segment_adds_an_all_row(duck):
    daily = daily_table(WORLD, AS_OF)
    out = rows(duck, retention(daily, dimensions_table(
        {k: {"segment": v} for k, v in SEGMENTS.items()}), as_of=AS_OF, window_months=1,
        by=("segment",)))
    got = {r["segment"]: (r["cohort_customers"], r["starting_mrr"], r["nrr"]) for r in out}
    assert got == {
        "all": (4, Decimal("1000.00"), pytest.approx(0.67)),
        "smb": (2, Decimal("300.00"), pytest.approx(270 / 300)),  # 150 + 120
        "enterprise": (2, Decimal("700.00"), pytest.approx(400 / 700)),  # 0 + 400
    }


def test_each_month_of_a_range_and_empty_cohorts(duck):
    daily = daily_table(WORLD, AS_OF)
    out = rows(duck, retention(daily, None, as_of=AS_OF, window_months=1,
                               start=date(2023, 12, 1)))
    by_period = {r["period"]: r for r in out}
    assert list(by_period) == ["2023-12", "2024-01", "2024-02", "2024-03"]
    # Nobody paid before 2024-01-01: the early windows have an empty cohort and no ratios.
    assert by_period["2024-01"]["cohort_customers"] == 0
    assert by_period["2024-01"]["nrr"] is None
    # February: cohort on 2024-01-31 of five payers; reactivates churned on 2024-02-01.
    feb = by_period["2024-02"]
    assert (feb["window_start"], feb["cohort_customers"], feb["churned_customers"]) == (
        date(2024, 1, 31), 5, 1)
    assert feb["revenue_churn"] == pytest.approx(50 / 1050)


def test_current_period_ends_at_as_of_and_quarterly_windows(duck):
    as_of = date(2024, 3, 12)
    daily = daily_table(WORLD, as_of)
    (month,) = rows(duck, retention(daily, None, as_of=as_of, window_months=1))
    assert (month["period_end"], month["window_start"]) == (date(2024, 3, 12), date(2024, 2, 12))
    # On 2024-03-12: expands is at 150, contracts at 120; nothing churned yet.
    assert month["ending_mrr"] == Decimal("970.00")  # 150 + 120 + 300 + 400
    (quarter,) = rows(duck, retention(daily, None, as_of=as_of, grain="quarter",
                                      window_months=3))
    assert (quarter["period"], quarter["window_start"]) == ("2024-Q1", date(2023, 12, 12))
    assert quarter["cohort_customers"] == 0  # nobody paid on 2023-12-12


def test_trailing_twelve_months_and_a_fiscal_grain(duck):
    world = {"old": [("2023-02-28", 100), ("2024-02-01", 130)],
             "gone": [("2023-01-15", 100), ("2023-09-01", 0)]}
    daily = daily_table(world, date(2024, 2, 29))
    (row,) = rows(duck, retention(daily, None, as_of=date(2024, 2, 29), window_months=12))
    assert row["window_start"] == date(2023, 2, 28)
    assert (row["cohort_customers"], row["nrr"], row["grr"], row["logo_churn"]) == (
        2, pytest.approx(0.65), pytest.approx(0.5), pytest.approx(0.5))
    (fy,) = rows(duck, retention(daily, None, as_of=date(2024, 2, 29), grain="fiscal_year",
                                 fiscal_start_month=2, window_months=12))
    assert (fy["period"], fy["period_start"], fy["period_end"]) == (
        "FY2025", date(2024, 2, 1), date(2024, 2, 29))


def test_contraction_to_a_free_plan_that_keeps_the_logo(duck):
    """With free_plan = contraction the producer marks a $0 account a customer: it is not
    churn, and its whole starting MRR is contraction."""
    daily = daily_table({"free": [("2024-01-01", 100), ("2024-03-01", 0)]}, AS_OF)
    daily = daily.mutate(customer=ibis.literal(True))
    (row,) = rows(duck, retention(daily, None, as_of=AS_OF, window_months=1))
    assert (row["logo_churn"], row["revenue_churn"], row["contraction_rate"], row["nrr"]) == (
        0.0, 0.0, 1.0, 0.0)


def test_an_unknown_dimension_is_refused(duck):
    daily = daily_table(WORLD, AS_OF)
    with pytest.raises(ValueError, match="no column plan"):
        retention(daily, dimensions_table({"flat": {"segment": "smb"}}), as_of=AS_OF,
                  by=("plan",))



def mrr_on(steps: Schedule, day: date) -> Decimal:
    """An account's MRR on `day` from its schedule (0 before its first paying day)."""
    known = [(date.fromisoformat(d), v) for d, v in steps if date.fromisoformat(d) <= day]
    return Decimal(str(max(known)[1])).quantize(Decimal("0.01")) if known else Decimal(0)


schedules = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e"]),
    st.lists(st.tuples(st.dates(date(2023, 12, 1), AS_OF).map(date.isoformat),
                       st.sampled_from([0, 10, 25.5, 40, 100])),
             min_size=1, max_size=4, unique_by=lambda step: step[0]),
    min_size=1, max_size=5,
).filter(lambda w: all(any(v for _, v in steps) for steps in w.values()))


@settings(max_examples=25, deadline=None)
@given(world=schedules, window=st.sampled_from([1, 2, 3]))
def test_matches_the_definition_and_the_identity(world, window):
    # An account's rows start on its first paying day.
    world = {k: sorted(s)[[v > 0 for _, v in sorted(s)].index(True):] for k, s in world.items()}
    (row,) = rows(connect("duckdb://"), retention(daily_table(world, AS_OF), None, as_of=AS_OF,
                                                  window_months=window))
    begin = months_before(AS_OF, window)
    pairs = [(mrr_on(s, begin), mrr_on(s, AS_OF)) for s in world.values()]
    cohort = [(s, e) for s, e in pairs if s > 0]
    assert row["cohort_customers"] == len(cohort)
    assert row["starting_mrr"] == sum((s for s, _ in cohort), Decimal(0))
    assert row["ending_mrr"] == sum((e for _, e in cohort), Decimal(0))
    assert row["retained_mrr"] == sum((min(s, e) for s, e in cohort), Decimal(0))
    assert row["churned_customers"] == sum(1 for _, e in cohort if e == 0)
    if cohort:
        assert row["grr"] <= 1 + 1e-12
        assert row["nrr"] == pytest.approx(
            1 + row["expansion_rate"] - row["contraction_rate"] - row["revenue_churn"])
    else:
        assert row["nrr"] is None
