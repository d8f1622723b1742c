"""Reporting periods, fiscal ones included."""

from __future__ import annotations

from datetime import date

import pytest

from quarterdeck.metrics.periods import period_of, periods_between


@pytest.mark.parametrize(("day", "grain", "fiscal", "start", "end", "label"), [
    (date(2024, 2, 29), "day", 1, date(2024, 2, 29), date(2024, 2, 29), "2024-02-29"),
    (date(2024, 2, 29), "week", 1, date(2024, 2, 26), date(2024, 3, 3), "2024-W09"),
    (date(2024, 2, 29), "month", 1, date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
    (date(2024, 5, 15), "quarter", 1, date(2024, 4, 1), date(2024, 6, 30), "2024-Q2"),
    (date(2024, 5, 15), "year", 1, date(2024, 1, 1), date(2024, 12, 31), "2024"),
    # A February fiscal start: FY2025 runs 2024-02-01 … 2025-01-31, named after its end.
    (date(2024, 5, 15), "fiscal_year", 2, date(2024, 2, 1), date(2025, 1, 31), "FY2025"),
    (date(2024, 5, 15), "fiscal_quarter", 2, date(2024, 5, 1), date(2024, 7, 31), "FY2025-Q2"),
    (date(2025, 1, 10), "fiscal_quarter", 2, date(2024, 11, 1), date(2025, 1, 31), "FY2025-Q4"),
    (date(2024, 1, 10), "fiscal_year", 1, date(2024, 1, 1), date(2024, 12, 31), "FY2024"),
    (date(2023, 12, 31), "week", 1, date(2023, 12, 25), date(2023, 12, 31), "2023-W52"),
])
def test_period_of_a_day(day, grain, fiscal, start, end, label):
    period = period_of(day, grain, fiscal)
    assert (period.start, period.end, period.label) == (start, end, label)


@pytest.mark.parametrize("grain", ["week", "month", "quarter", "fiscal_quarter", "year"])
def test_periods_tile_the_range_without_gaps(grain):
    periods = periods_between(date(2023, 3, 15), date(2025, 8, 2), grain, 4)
    assert periods[0].start <= date(2023, 3, 15) <= periods[0].end
    assert periods[-1].start <= date(2025, 8, 2) <= periods[-1].end
    for a, b in zip(periods, periods[1:], strict=False):
        assert (b.start - a.end).days == 1


def test_unknown_grain_is_refused():
    with pytest.raises(ValueError, match="unknown grain"):
        period_of(date(2024, 1, 1), "fortnight")
