"""Due dates of a playbook's tasks: days from the anchor, in calendar or business days.

With business days, `due` counts Monday–Friday days that are not holidays (0 is the anchor,
moved forward to a business day when it is not one), and a task never falls due on a weekend
or holiday. Example: anchor Friday 2026-01-02, due 1 business day → Monday 2026-01-05;
due −1 → Thursday 2026-01-01 is a holiday here, so Wednesday 2025-12-31.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta


def is_business_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def due_date(anchor: date, days: int, *, business_days: bool,
             holidays: Iterable[date] = ()) -> date:
    """The day a task due `days` after `anchor` falls due (see the module)."""
    if not business_days:
        return anchor + timedelta(days=days)
    off = frozenset(holidays)
    day = anchor
    while not is_business_day(day, off):
        day += timedelta(days=1)
    step = 1 if days >= 0 else -1
    left = abs(days)
    while left:
        day += timedelta(days=step)
        if is_business_day(day, off):
            left -= 1
    return day
