"""Due dates of a playbook's tasks: days from the anchor, in calendar or business days.

`business_days` is one of:

- `false`: `due` calendar days from the anchor, whatever day that is;
- `roll`: `due` calendar days from the anchor, moved back to the business day before when
  it is not one (Monday–Friday, not a holiday): "day 90 of onboarding" on a Saturday is due
  the Friday before, "30 days before the renewal" on a Sunday the Friday before it, so a
  task is never due later than planned; day 0 (and a task after the anchor that would move
  before it) moves forward to the next business day;
- `true` (or `count`): `due` counts business days (0 is the anchor, moved forward to a
  business day when it is not one).

Example: anchor Friday 2026-01-02, due 1 business day → Monday 2026-01-05; due −1 →
Thursday 2026-01-01 is a holiday here, so Wednesday 2025-12-31; due 1 with `roll` →
Saturday 2026-01-03 moves back to Friday 2026-01-02; due 90 with `roll` from Monday
2026-06-01 → Sunday 2026-08-30 moves back to Friday 2026-08-28.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta


def is_business_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def due_date(anchor: date, days: int, *, business_days: bool | str,
             holidays: Iterable[date] = ()) -> date:
    """The day a task due `days` after `anchor` falls due (see the module)."""
    if not business_days:
        return anchor + timedelta(days=days)
    off = frozenset(holidays)
    if business_days == "roll":
        day = anchor + timedelta(days=days)
        if days != 0:
            while not is_business_day(day, off):  # never due later than planned
                day -= timedelta(days=1)
        if days == 0 or (days > 0 and day < anchor):  # never before the anchor it follows
            day = max(day, anchor)
            while not is_business_day(day, off):
                day += timedelta(days=1)
        return day
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
