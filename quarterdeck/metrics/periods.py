"""Reporting periods: the grains every metric rolls up to, fiscal years included.

A period is the closed range of days [start, end]. Weeks start on Monday (ISO). Fiscal
quarters and years start in the workspace's `fiscal_year_start_month`; a fiscal year is named
after the calendar year it ends in (FY2026 with a February start runs 2025-02-01 … 2026-01-31).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

GRAINS = ("day", "week", "month", "quarter", "fiscal_quarter", "year", "fiscal_year")


@dataclass(frozen=True)
class Period:
    grain: str
    start: date
    end: date  # inclusive
    fiscal_start_month: int = 1

    @property
    def label(self) -> str:
        return period_label(self.grain, self.start, self.fiscal_start_month)


def _month_floor(day: date, months: int, offset: int) -> date:
    """Start of the `months`-long block containing `day`, blocks aligned to month `offset`+1."""
    index = (day.year * 12 + day.month - 1 - offset) // months * months + offset
    return date(index // 12, index % 12 + 1, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _shape(grain: str, fiscal_start_month: int) -> tuple[int, int]:
    """(months per period, month offset of alignment) of a month-based grain."""
    fiscal = fiscal_start_month - 1
    return {"month": (1, 0), "quarter": (3, 0), "fiscal_quarter": (3, fiscal),
            "year": (12, 0), "fiscal_year": (12, fiscal)}[grain]


def period_of(day: date, grain: str, fiscal_start_month: int = 1) -> Period:
    """The period of `grain` containing `day`."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}; use one of {', '.join(GRAINS)}")
    if grain == "day":
        return Period(grain, day, day, fiscal_start_month)
    if grain == "week":
        start = day - timedelta(days=day.weekday())
        return Period(grain, start, start + timedelta(days=6), fiscal_start_month)
    months, offset = _shape(grain, fiscal_start_month)
    start = _month_floor(day, months, offset)
    end = _add_months(start, months) - timedelta(days=1)
    return Period(grain, start, end, fiscal_start_month)


def periods_between(first: date, last: date, grain: str,
                    fiscal_start_month: int = 1) -> list[Period]:
    """Every period of `grain` overlapping [first, last], in order."""
    out = []
    day = first
    while day <= last:
        period = period_of(day, grain, fiscal_start_month)
        out.append(period)
        day = period.end + timedelta(days=1)
    return out


def period_label(grain: str, start: date, fiscal_start_month: int = 1) -> str:
    """A human label: 2026-03-02 (day), 2026-W10, 2026-03, 2026-Q1, 2026, FY2026-Q3, FY2026."""
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return start.strftime("%Y-%m")
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if grain == "year":
        return str(start.year)
    fiscal_year = period_of(start, "fiscal_year", fiscal_start_month)
    if grain == "fiscal_year":
        return f"FY{fiscal_year.end.year}"
    months = (start.year - fiscal_year.start.year) * 12 + start.month - fiscal_year.start.month
    return f"FY{fiscal_year.end.year}-Q{months // 3 + 1}"


def periods_table(first: date, last: date, grain: str, fiscal_start_month: int = 1) -> ir.Table:
    """The periods between two days as a small table: period, period_start, period_end."""
    periods = periods_between(first, last, grain, fiscal_start_month)
    return ibis.memtable({
        "period": [p.label for p in periods],
        "period_start": [p.start for p in periods],
        "period_end": [p.end for p in periods],
    }, schema={"period": "string", "period_start": "date", "period_end": "date"})


def assign_period(table: ir.Table, day: str, periods: ir.Table) -> ir.Table:
    """`table` with the period columns of the period containing its `day` column (inner join:
    rows outside the periods drop out)."""
    j = table.join(periods, [table[day] >= periods.period_start, table[day] <= periods.period_end])
    return j
