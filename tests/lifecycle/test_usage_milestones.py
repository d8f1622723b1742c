"""A usage milestone is reached on the first day its daily figure is at least the threshold,
whole or fractional, on an integer figure (active users, events) as on a decimal one."""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quarterdeck.lifecycle.definitions import Milestone, Onboarding, UsageMatch
from quarterdeck.lifecycle.milestones import at_least, onboarding_milestones

AS_OF = date(2026, 3, 10)
# One account's days: 2 active users on the 1st, 3 on the 2nd, 5 on the 3rd (and 9 on the
# 11th, after the day of the run).
DAILY = pa.table({
    "account_id": ["a", "a", "a", "a"],
    "date": pa.array([date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3),
                      date(2026, 3, 11)], pa.date32()),
    "active_users": pa.array([2, 3, 5, 9], pa.int64()),
    "event_value": pa.array([2.0, 2.5, 5.25, 9.0], pa.float64()),
})


def reached_on(metric: str, threshold: float) -> date | None:
    con = ibis.duckdb.connect()
    onboarding = Onboarding(milestones=[Milestone(
        name="level", usage=UsageMatch(metric=metric, at_least=threshold))])
    starts = ibis.memtable(pa.table({"account_id": ["a"],
                                     "customer_since": pa.array([date(2026, 1, 1)])}))
    rows = con.to_pyarrow(onboarding_milestones({}, onboarding, as_of=AS_OF,
                                                customer_since=starts,
                                                daily=ibis.memtable(DAILY))).to_pylist()
    return rows[0]["level_on"]


@pytest.mark.parametrize(("threshold", "expected"), [
    (2, date(2026, 3, 1)), (2.5, date(2026, 3, 2)), (3, date(2026, 3, 2)),
    (3.0001, date(2026, 3, 3)), (5, date(2026, 3, 3)), (5.5, None), (9, None), (1e30, None),
])
def test_a_whole_figure_reaches_a_fractional_threshold_at_the_next_whole_number(
        threshold: float, expected: date | None) -> None:
    assert reached_on("active_users", threshold) == expected


@pytest.mark.parametrize(("threshold", "expected"), [
    (2.5, date(2026, 3, 2)), (2.6, date(2026, 3, 3)), (5.25, date(2026, 3, 3)), (5.3, None),
])
def test_a_decimal_figure_is_compared_as_it_is(threshold: float, expected: date | None) -> None:
    assert reached_on("event_value", threshold) == expected


@given(values=st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=30),
       threshold=st.floats(-1e7, 1e7, allow_nan=False))
def test_on_integers_the_comparison_keeps_the_rows_a_plain_one_keeps(
        values: list[int], threshold: float) -> None:
    t = ibis.memtable(pa.table({"x": pa.array(values, pa.int64())}))
    con = ibis.duckdb.connect()
    kept = con.to_pyarrow(t.select(ok=at_least(t.x, threshold))).column("ok").to_pylist()
    assert kept == [v >= threshold for v in values]


def test_the_engine_compares_integers_without_casting_every_value() -> None:
    t = ibis.table({"active_users": "int64"}, name="account_daily")
    sql = ibis.to_sql(t.filter(at_least(t.active_users, 3.0)), dialect="duckdb")
    assert '"active_users" >= 3' in sql and "3.0" not in sql and "CAST" not in sql
