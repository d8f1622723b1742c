"""`recent_usage`: every account's product usage of the last months, kept in the warehouse day
by day, so that a day's usage facts read a few hundred thousand rows instead of every event of
their reach (about 14M events at 20,000 accounts).

Three tables hold the events of the kept days [first_day, as_of], each mapped to its account as
the usage facts map it (its own account, else its user's), with `since`: when the user that
maps it was created, where that is after the end of the event's day (NULL otherwise: an event
with its own account, or a user known by then or without a date, counts on every date whose
windows hold it):

- `_quarterdeck_recent_days` (account_id, since, day, events): the events per account and day;
- `_quarterdeck_recent_users` (account_id, user_id, since, block, days): the days on which the
  user had an event counted for the account, as a bit mask per block of `BLOCK` days (bit i is
  the block's i-th day, days numbered from 1970-01-01);
- `_quarterdeck_recent_kinds` (account_id, event, since, block, days): likewise per event kind.

A date's facts are then counts over these of what was known at the date (`since` before the
midnight after it; `kept_grid_usage`), the same rows as `grid_usage` computes from the
events. They are exact at the grain of a day because every window starts and ends at midnight.

The tables follow `account_usage_daily` (`quarterdeck.warehouse.incremental_usage`): when that
table was built incrementally from the day these were last built for, only its touched days
(new days, days with late events, days of users who changed) are recomputed here, each from
every event of that day, and the days that fall out of the kept span are dropped; otherwise
(a full build of the usage, no kept state, another definition) they are built afresh for the
last `KEPT_DAYS` days. Only DuckDB warehouses reading their events from a landing area keep
them; elsewhere the facts are computed from the events (`grid_usage`).

Example: build_recent_usage(con, tables, as_of=date(2026, 9, 30), usage_build=build)
→ RecentUsage(first_day=date(2026, 6, 3), as_of=date(2026, 9, 30), mode="incremental", …)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.health.usage_windows import (
    DISTINCT_WINDOWS,
    REACH,
    accounts_of,
    grid_date,
    last_usage_days,
    mapped_events,
    with_last_day,
)
from quarterdeck.warehouse.incremental import raw_connection, table_exists, transaction
from quarterdeck.warehouse.incremental_usage import UsageBuild

DAYS = "_quarterdeck_recent_days"
USERS = "_quarterdeck_recent_users"
KINDS = "_quarterdeck_recent_kinds"
STATE = "_quarterdeck_recent_state"
#: The days kept: the usage facts reach 67 days back from a date, and a run asks for its day
#: and the same 7 and 30 days before (97 days); the rest is room for longer lookbacks.
KEPT_DAYS = 120
#: Days per bit mask: masks up to 2^60 fit a signed 64-bit integer.
BLOCK = 60
EPOCH = date(1970, 1, 1)
#: Bump when the kept tables hold something else: the next build is a full one.
DEFINITION = 1


@dataclass(frozen=True)
class RecentUsage:
    """The kept tables, bound to the warehouse, and the days they hold: every event of
    [first_day, as_of] mapped as the users were known on `as_of`."""

    days: ir.Table
    users: ir.Table
    kinds: ir.Table
    first_day: date
    as_of: date
    mode: str = "full"
    recomputed: int = 0

    def describe(self) -> str:
        """What the run did, in one line of its output."""
        if self.mode == "full":
            return f"recent usage: kept afresh ({(self.as_of - self.first_day).days + 1} days)"
        return (f"recent usage: incremental ({self.recomputed} "
                f"day{'s' if self.recomputed != 1 else ''} recomputed)")

    def holds(self, first: date, last: date) -> bool:
        """Whether every day of [first, last] is kept (with the users as known on `as_of`,
        which the usage by day of the same run also maps them by)."""
        return self.first_day <= first and last <= self.as_of


def day_number(day: date) -> int:
    return (day - EPOCH).days


def window_mask(block: ir.IntegerValue, first: date, end: date) -> ir.IntegerValue:
    """The bits of the days [first, end) in each block's mask (0 for a block outside)."""
    lo, hi = day_number(first), day_number(end)
    cases = []
    for k in range(lo // BLOCK, (hi - 1) // BLOCK + 1):
        a, b = max(lo - k * BLOCK, 0), min(hi - k * BLOCK, BLOCK)
        cases.append((block == k, ibis.literal((1 << b) - (1 << a), dt.int64)))
    return ibis.cases(*cases, else_=ibis.literal(0, dt.int64))


def _mapped(tables: Mapping[str, ir.Table], first: date, end: date,
            days: Sequence[date] | None = None) -> ir.Table:
    """The events of [first, end) (of `days` only, when given) with their account, `since`,
    their day, and its block and bit."""
    m = mapped_events(tables, ibis.literal(first, dt.timestamp), ibis.literal(end, dt.timestamp))
    if days is not None:
        m = m.filter(m.ts.date().isin(list(days)))
    n = m.ts.date().delta(ibis.literal(EPOCH, dt.date), unit="day").cast(dt.int64)
    # A date counts an event only from the end of the event's day on: a user created before
    # then is known on every date that counts it.
    later = m.by_user & (m.user_since >= (m.ts.date() + ibis.interval(days=1)).cast(dt.timestamp))
    return m.select(
        "account_id", "user_id", "event",
        since=ibis.ifelse(later, m.user_since, ibis.null(dt.timestamp)),
        day=m.ts.date(), block=(n // BLOCK).cast(dt.int64),
        bit=ibis.literal(1).cast(dt.int64) << (n % BLOCK))


def _reductions(m: ir.Table) -> dict[str, ir.Table]:
    """The three kept tables' rows for the mapped events `m`."""
    users = m.filter(m.user_id.notnull())
    kinds = m.filter(m.event.notnull())
    return {
        DAYS: m.group_by(["account_id", "since", "day"]).agg(events=m.count()),
        USERS: users.group_by(["account_id", "user_id", "since", "block"]).agg(
            days=users.bit.bit_or()),
        KINDS: kinds.group_by(["account_id", "event", "since", "block"]).agg(
            days=kinds.bit.bit_or()),
    }


def recent_rows(tables: Mapping[str, ir.Table], first: date, as_of: date) -> dict[str, ir.Table]:
    """The kept tables' rows for the days [first, as_of], computed from the events."""
    return _reductions(_mapped(tables, first, as_of + timedelta(days=1)))


def _read_state(raw) -> tuple[date, date, int] | None:  # noqa: ANN001
    if not all(table_exists(raw, t) for t in (STATE, DAYS, USERS, KINDS)):
        return None
    row = raw.execute(f"SELECT as_of, state FROM {STATE}").fetchall()
    if not row:
        return None
    state = json.loads(row[0][1])
    return row[0][0], date.fromisoformat(state["first_day"]), int(state["definition"])


def _save(raw, as_of: date, first: date) -> None:  # noqa: ANN001
    raw.execute(f"CREATE OR REPLACE TABLE {STATE} (as_of DATE, state VARCHAR)")
    raw.execute(f"INSERT INTO {STATE} VALUES (?, ?)", [as_of, json.dumps(
        {"first_day": first.isoformat(), "definition": DEFINITION})])


def _bound(con: BaseBackend, first: date, as_of: date, mode: str, recomputed: int) -> RecentUsage:
    return RecentUsage(con.table(DAYS), con.table(USERS), con.table(KINDS), first, as_of,
                       mode, recomputed)


def _update(con: BaseBackend, raw, tables: Mapping[str, ir.Table],  # noqa: ANN001
            touched: list[date], first: date) -> None:
    """Recompute the days `touched` from their events, and drop the days before `first`."""
    fresh = (_reductions(_mapped(tables, min(touched), max(touched) + timedelta(days=1),
                                 touched)) if touched else {})
    for name, rows in fresh.items():
        con.create_table(f"{name}_delta", rows, overwrite=True)
    # A touched day's bit is cleared in the rows that have it and set again from its events.
    cleared: dict[int, int] = {}  # block → the bits of its touched days
    for d in touched:
        block, bit = divmod(day_number(d), BLOCK)
        cleared[block] = cleared.get(block, 0) | 1 << bit
    full = (1 << BLOCK) - 1
    try:
        with transaction(raw):
            raw.execute(f"DELETE FROM {DAYS} WHERE day < ? OR day IN (SELECT unnest(?::DATE[]))",
                        [first, touched])
            if touched:
                raw.execute(f"INSERT INTO {DAYS} BY NAME SELECT * FROM {DAYS}_delta")
            for name, key in ((USERS, "user_id"), (KINDS, "event")):
                raw.execute(f"DELETE FROM {name} WHERE block < ?", [day_number(first) // BLOCK])
                # Only rows with a touched day's bit change (none, on a day with no events yet).
                for block, bits in sorted(cleared.items()):
                    raw.execute(f"UPDATE {name} SET days = days & {full & ~bits} "
                                f"WHERE block = {block} AND days & {bits} <> 0")
                if touched:
                    raw.execute(
                        f"MERGE INTO {name} USING {name}_delta AS d ON ({name}.account_id = "
                        f"d.account_id AND {name}.{key} = d.{key} AND {name}.block = d.block "
                        f"AND {name}.since IS NOT DISTINCT FROM d.since) WHEN MATCHED THEN "
                        f"UPDATE SET days = {name}.days | d.days WHEN NOT MATCHED THEN "
                        f"INSERT (account_id, {key}, since, block, days) "
                        f"VALUES (d.account_id, d.{key}, d.since, d.block, d.days)")
                raw.execute(f"DELETE FROM {name} WHERE days = 0")
    finally:
        for name in fresh:
            raw.execute(f"DROP TABLE IF EXISTS {name}_delta")


def build_recent_usage(con: BaseBackend, tables: Mapping[str, ir.Table], *, as_of: date,
                       usage_build: UsageBuild) -> RecentUsage | None:
    """Keep every account's usage of the `KEPT_DAYS` days through `as_of`, incrementally when
    `account_usage_daily` was (see the module); None where the warehouse does not keep it."""
    raw = raw_connection(con)
    if con.name != "duckdb" or raw is None or not usage_build.kept:
        return None
    first = as_of - timedelta(days=KEPT_DAYS - 1)
    previous = _read_state(raw)
    # Forget the old state first: a crash while the tables change must not leave a state
    # that describes other tables.
    raw.execute(f"DROP TABLE IF EXISTS {STATE}")
    if (usage_build.mode == "incremental" and previous is not None
            and previous[0] == usage_build.since and previous[2] == DEFINITION):
        touched = sorted(d for d in usage_build.touched if first <= d <= as_of)
        _update(con, raw, tables, touched, first)
        kept_from = max(first, previous[1])
        _save(raw, as_of, kept_from)
        return _bound(con, kept_from, as_of, "incremental", len(touched))
    for name, rows in recent_rows(tables, first, as_of).items():
        con.create_table(name, rows, overwrite=True)
    _save(raw, as_of, first)
    return _bound(con, first, as_of, "full", KEPT_DAYS)


def kept_active_users(recent: RecentUsage, first: date, last: date) -> ir.Table:
    """Distinct users with an event in [first, last] per account, of what was known at the end
    of `last` (`since` before it): what `account_snapshot` counts from the events, from the
    kept users' day masks instead. `recent` must hold the days (`RecentUsage.holds`)."""
    u = recent.users
    end = last + timedelta(days=1)
    hit = u.filter(((u.days & window_mask(u.block, first, end)) != 0)
                   & (u.since.isnull() | (u.since < ibis.literal(end, dt.timestamp))))
    return hit.group_by("account_id").agg(active_users_30d=hit.user_id.nunique())


def kept_grid_usage(recent: RecentUsage, accounts: ir.Table | None, dates: Sequence[date],
                    usage: ir.Table) -> ir.Table:
    """`grid_usage` from the kept recent usage (`quarterdeck.health.recent_usage`), the same
    rows: the events per account and day, and each user's and kind's days as bit masks, of
    what was known at each date (`since` before its end), instead of the events themselves.
    `recent` must hold every day of the dates' reach (`RecentUsage.holds`)."""
    dates = sorted(set(dates))
    ends = [d + timedelta(days=1) for d in dates]

    def known(t: ir.Table, end: date) -> ir.BooleanValue:
        return t.since.isnull() | (t.since < ibis.literal(end, dt.timestamp))

    k = recent.days
    per_day = k.group_by(["account_id", "day"]).agg(**{
        f"n_{i}": k.events.sum(where=known(k, e) & (k.day >= e - timedelta(days=REACH))
                               & (k.day < e)).fill_null(0)
        for i, e in enumerate(ends)})
    hits = {}
    for what, t, key in (("user", recent.users, "user_id"), ("kind", recent.kinds, "event")):
        hits[what] = t.group_by(["account_id", key]).agg(**{
            f"{name}_{i}": ((t.days & window_mask(t.block, e - timedelta(days=w[0]),
                                                  e - timedelta(days=w[1]))) != 0)
            .any(where=known(t, e))
            for i, e in enumerate(ends)
            for name, (counted, w) in DISTINCT_WINDOWS.items() if counted == what})

    def distinct(i: int) -> dict[str, ir.Table]:
        return {what: h.group_by("account_id").agg(**{
            name: h.count(where=h[f"{name}_{i}"])
            for name, (counted, _) in DISTINCT_WINDOWS.items() if counted == what})
            for what, h in hits.items()}

    windows = ibis.union(*[grid_date(per_day, distinct(i), d, i) for i, d in enumerate(dates)])
    return with_last_day(windows.semi_join(accounts_of(usage, accounts), "account_id"),
                          last_usage_days(accounts, dates, usage))
