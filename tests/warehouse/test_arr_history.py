"""The account's ARR history: its ARR at each month end and on the as-of day."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from quarterdeck.warehouse.account_snapshot import arr_history, month_ends


def _daily(first: date, last: date) -> pa.Table:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return pa.table({"account_id": ["a"] * len(days), "date": pa.array(days, pa.date32()),
                     "arr": pa.array([d.toordinal() for d in days], pa.int64())})


def _history(first: date, as_of: date, months: int) -> list[dict]:
    """The ARR history of one account with a row for every day from `first` to `as_of`."""
    con = ibis.duckdb.connect()
    return con.to_pyarrow(arr_history(ibis.memtable(_daily(first, as_of)), as_of=as_of,
                                      months=months)).to_pylist()


def test_each_month_end_of_the_window_and_the_day_itself() -> None:
    history = _history(date(2023, 10, 20), date(2024, 3, 10), months=3)
    # The window starts on 2023-11-01: three months before March, to the first of the month.
    assert [r["month"] for r in history] == [date(2023, 11, 30), date(2023, 12, 31),
                                             date(2024, 1, 31), date(2024, 2, 29),
                                             date(2024, 3, 10)]
    assert all(r["arr"] == r["month"].toordinal() for r in history)


def test_a_month_end_as_of_day_is_listed_once() -> None:
    history = _history(date(2024, 1, 1), date(2024, 4, 30), months=2)
    # From 2024-01-01: 62 days before April's first day, to the first of that month.
    assert [r["month"] for r in history] == [date(2024, 1, 31), date(2024, 2, 29),
                                             date(2024, 3, 31), date(2024, 4, 30)]


@settings(max_examples=60, deadline=None)
@given(first=st.dates(date(2019, 1, 1), date(2030, 12, 31)),
       length=st.integers(0, 2_000), back=st.integers(0, 400), months=st.integers(0, 40))
def test_the_days_kept_are_the_month_ends_of_the_window_and_the_day(
        first: date, length: int, back: int, months: int) -> None:
    last = first + timedelta(days=length)
    as_of = max(first, last - timedelta(days=back))
    got = [r["month"] for r in _history(first, as_of, months)]
    since = (as_of.replace(day=1) - timedelta(days=31 * months)).replace(day=1)
    expected = [d for d in _daily(first, as_of).column("date").to_pylist()
                if d >= since and ((d + timedelta(days=1)).day == 1 or d == as_of)]
    assert got == expected


@given(since=st.dates(date(1990, 1, 1), date(2100, 1, 1)), span=st.integers(0, 3_000))
def test_month_ends_are_every_last_day_of_a_month_in_between(since: date, span: int) -> None:
    until = since + timedelta(days=span)
    expected = [since.replace(day=1) + timedelta(days=n)
                for n in range((until - since.replace(day=1)).days + 1)]
    assert month_ends(since, until) == [d for d in expected
                                        if (d + timedelta(days=1)).day == 1]
