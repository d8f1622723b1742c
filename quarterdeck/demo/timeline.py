"""The demo company's calendar: day numbers, weeks, months and random streams.

Days are integers counted from 1970-01-01 (what Arrow's date32 stores) and instants are
microseconds since the epoch, so whole columns can be built with NumPy and written as is.
"""

from __future__ import annotations

import zlib
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

EPOCH = date(1970, 1, 1)
DAY_US = 86_400_000_000
NULL_INT = np.iinfo(np.int64).min  # marks a missing date, timestamp or integer

# Business software is used on weekdays, mostly in working hours.
WEEKDAY_SHARE = np.array([0.19, 0.2, 0.2, 0.19, 0.16, 0.03, 0.03])
WEEKDAY_CUMULATIVE = np.cumsum(WEEKDAY_SHARE / WEEKDAY_SHARE.sum())


def to_day(d: date) -> int:
    """The day number of `d` (days since 1970-01-01)."""
    return (d - EPOCH).days


def from_day(day: int) -> date:
    """The date of day number `day`."""
    return EPOCH + timedelta(days=int(day))


def add_months(day: int, months: int) -> int:
    """The same day of the month `months` later, clipped to the month end (Jan 31 + 1: Feb 28)."""
    d = from_day(day)
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    return to_day(date(year, month, min(d.day, monthrange(year, month)[1])))


def month_start(day: int) -> int:
    """The first day of the month holding `day`."""
    return to_day(from_day(day).replace(day=1))


def rng_for(seed: int, stage: str, *keys: int) -> np.random.Generator:
    """An independent random stream per stage (and chunk), so stages can change independently."""
    return np.random.default_rng([seed, zlib.crc32(stage.encode()), *keys])


@dataclass(frozen=True)
class Timeline:
    """The simulated window: `years` of history up to `today` (nothing happens after it)."""

    today: date
    years: int

    @property
    def today_day(self) -> int:
        return to_day(self.today)

    @property
    def start_day(self) -> int:
        """The first day a customer can sign up: `years` before today."""
        try:
            return to_day(self.today.replace(year=self.today.year - self.years))
        except ValueError:  # Feb 29
            return to_day(self.today.replace(year=self.today.year - self.years, day=28))

    @property
    def week0(self) -> int:
        """The Monday on or before the start; week w covers days week0 + 7w .. + 6."""
        start = self.start_day
        return start - from_day(start).weekday()

    @property
    def n_weeks(self) -> int:
        return (self.today_day - self.week0) // 7 + 1

    @property
    def now_us(self) -> int:
        """Instants must be before this: the start of `today`, so nothing is dated after it."""
        return self.today_day * DAY_US

    def week_of(self, day: int | np.ndarray) -> int | np.ndarray:
        return (day - self.week0) // 7

    def week_day(self, week: int | np.ndarray) -> int | np.ndarray:
        return self.week0 + 7 * week


def scatter_in_weeks(
    counts: np.ndarray, timeline: Timeline, rng: np.random.Generator, hour_mean: float = 14.0,
    not_before_day: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spread `counts[row, week]` happenings over their weeks at believable times.

    Returns the row of each happening and its instant (microseconds), weekdays favoured and times
    around `hour_mean` UTC; instants from `today` on, or before the row's `not_before_day`, are
    dropped.
    """
    rows, weeks = np.nonzero(counts)
    n = counts[rows, weeks].astype(np.int64)
    rows = np.repeat(rows, n)
    weeks = np.repeat(weeks, n)
    weekday = np.searchsorted(WEEKDAY_CUMULATIVE, rng.random(rows.size) * WEEKDAY_CUMULATIVE[-1])
    hours = np.clip(rng.normal(hour_mean, 3.0, rows.size), 0.0, 23.999)
    day = timeline.week0 + 7 * weeks + weekday
    instant = day.astype(np.int64) * DAY_US + (hours * 3_600_000_000).astype(np.int64)
    keep = instant < timeline.now_us
    if not_before_day is not None:
        keep &= day >= not_before_day[rows]
    return rows[keep], instant[keep]


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))
