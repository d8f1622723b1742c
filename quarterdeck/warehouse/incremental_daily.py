"""`account_daily` built incrementally: a run for a later day recomputes only the accounts and
days that can have changed since the last build, and the result equals a full build table for
table.

The warehouse keeps, beside the table, what it was built from: the as-of day and definition
(`_quarterdeck_daily_state`), each account's first day (`_quarterdeck_daily_first`) and the
columns of the other entities the table reads (`_quarterdeck_daily_<entity>`: accounts'
created_at; subscriptions; exchange rates; tickets; surveys; activities). A build for day D
after day P then gives every account a floor, the first day whose row can differ, and
recomputes each account's rows from its floor (running totals carried in: changes before the
floor count on it):

- P + 1 for every account: the new days;
- the earliest day a changed row touches (a subscription row added, edited or removed: its
  start; a ticket: the day it was opened or solved; a survey or activity: its day);
- the end of a subscription row cancelled since P (a cancellation is known from the day it
  was made, and may end the row on a day already built);
- the start of every subscription row in a currency whose rates changed on or before it;
- the days whose usage changed (late events, users moved: `incremental_usage`);
- the whole account when its first day moved (it was created, removed, backdated, or only now
  has a first day) or its account row changed.

Anything else builds in full, with the reason: the first build, an earlier day than the last,
a new definition (`DEFINITION`) or base currency, usage built in full or from another day
than this table, or a warehouse other than DuckDB. A full build of more than
`PART_ACCOUNTS` accounts is computed and written a part of the accounts at a time, so its
memory stays bounded. A build forgets the state before it writes and records it after, so a
crash leaves a full build next time, never a wrong table.

Example: build_account_daily(con, tables, as_of=date(2026, 10, 1), base_currency="USD",
usage_since=date(2026, 9, 30)) → DailyBuild(mode="incremental", accounts=31, reason="1 new
day, 31 accounts recomputed from an earlier day")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.warehouse.account_daily import account_daily, account_first_days
from quarterdeck.warehouse.incremental import (
    either_way,
    raw_connection,
    replace_rows,
    table_exists,
    transaction,
)
from quarterdeck.warehouse.schema import empty_table
from quarterdeck.warehouse.subscription_mrr import day_after

TABLE = "account_daily"
STATE = "_quarterdeck_daily_state"
FIRST = "_quarterdeck_daily_first"
FIRST_NOW = "_quarterdeck_daily_first_now"
FLOORS = "_quarterdeck_daily_floors"
DELTA = "_quarterdeck_daily_delta"
PARTS = "_quarterdeck_daily_parts"
#: Accounts per part of a full build. Each part's running totals and day rows are computed
#: and written on their own, so a full build's memory stays bounded whatever the company's
#: size: at 20,000 accounts the table built in one query ran out of memory under a 2 GB
#: warehouse limit (and now and then under 3 GB).
PART_ACCOUNTS = 5_000
#: Bump when `account_daily` computes something else: the next build is a full one.
DEFINITION = 1
#: The columns of each entity `account_daily` reads, kept to find what changed.
READS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id", "created_at"),
    "subscriptions": ("account_id", "subscription_id", "currency", "quantity", "unit_price",
                      "discount", "interval_months", "start_date", "end_date", "canceled_at",
                      "trial"),
    "fx_rates": ("currency", "date", "rate_to_base"),
    "tickets": ("account_id", "created_at", "solved_at", "priority"),
    "surveys": ("account_id", "responded_at"),
    "activities": ("account_id", "occurred_at"),
}
_WHOLE = date(1, 1, 1)  # the floor of an account recomputed from its first day


def kept_name(entity: str) -> str:
    return f"_quarterdeck_daily_{entity}"


@dataclass(frozen=True)
class DailyBuild:
    """How the table was built: mode full or incremental, accounts recomputed before the new
    days (incremental), and why."""

    mode: str
    accounts: int
    reason: str


def _read_state(raw) -> tuple[date, dict[str, object]] | None:  # noqa: ANN001
    names = [STATE, FIRST, TABLE, *(kept_name(e) for e in READS)]
    if not all(table_exists(raw, name) for name in names):
        return None
    row = raw.execute(f"SELECT as_of, state FROM {STATE}").fetchall()
    return (row[0][0], json.loads(row[0][1])) if row else None


def _entity(tables: Mapping[str, ir.Table], name: str) -> ir.Table:
    table = tables[name] if name in tables else empty_table(name)
    return table.select(*READS[name])


def _why_full(previous: tuple[date, dict[str, object]] | None, now: dict[str, object],
              as_of: date, usage_since: date | None) -> str | None:
    if previous is None:
        return "first build"
    before, then = previous
    if as_of < before:
        return f"an earlier day ({as_of}) than the last build ({before})"
    if then.get("definition") != now["definition"]:
        return "the definition of account_daily changed"
    if then.get("base_currency") != now["base_currency"]:
        return "the base currency changed"
    if usage_since != before:
        return "usage by day was built in full or from another day"
    return None


def _save(con: BaseBackend, raw, tables: Mapping[str, ir.Table],  # noqa: ANN001
          first: ir.Table, as_of: date, now: dict[str, object]) -> None:
    for name in READS:
        con.create_table(kept_name(name), _entity(tables, name), overwrite=True)
    con.create_table(FIRST, first, overwrite=True)
    raw.execute(f"CREATE OR REPLACE TABLE {STATE} (as_of DATE, state VARCHAR)")
    raw.execute(f"INSERT INTO {STATE} VALUES (?, ?)", [as_of, json.dumps(now)])


def _changed(con: BaseBackend, tables: Mapping[str, ir.Table], name: str) -> ir.Table:
    """The rows of `name` added or removed since the last build (both versions of an edit)."""
    return either_way(_entity(tables, name), con.table(kept_name(name)), distinct=False)


def _earlier(a: ir.DateValue, b: ir.DateValue) -> ir.DateValue:
    return ibis.cases((a.isnull(), b), (b.isnull() | (a <= b), a), else_=b)


def _touched(con: BaseBackend, tables: Mapping[str, ir.Table], *, before: date,
             as_of: date, late_days: list[date]) -> ir.Table:
    """(account_id, day): the earliest day of each change since the last build (module)."""
    whole = ibis.literal(_WHOLE)
    parts = [
        either_way(con.table(FIRST_NOW), con.table(FIRST), distinct=True)
        .select("account_id", day=whole),
        _changed(con, tables, "accounts").select("account_id", day=whole),
    ]
    subs = _changed(con, tables, "subscriptions")
    parts.append(subs.select("account_id", day=subs.start_date))
    now_subs = _entity(tables, "subscriptions")
    cancelled = now_subs.filter((now_subs.canceled_at >= day_after(before))
                                & (now_subs.canceled_at < day_after(as_of)))
    parts.append(cancelled.select("account_id",
                                  day=cancelled.end_date.fill_null(cancelled.start_date)))
    rates = _changed(con, tables, "fx_rates").select("currency", rate_date="date").distinct()
    repriced = now_subs.join(rates, [now_subs.currency == rates.currency,
                                     now_subs.start_date >= rates.rate_date])
    parts.append(repriced.select("account_id", day=repriced.start_date))
    tickets = _changed(con, tables, "tickets")
    parts.append(tickets.select("account_id", day=_earlier(tickets.created_at.date(),
                                                           tickets.solved_at.date())))
    surveys = _changed(con, tables, "surveys")
    parts.append(surveys.select("account_id", day=surveys.responded_at.date()))
    activities = _changed(con, tables, "activities")
    parts.append(activities.select("account_id", day=activities.occurred_at.date()))
    if late_days:
        cols = ["account_id", "date", "events", "event_value", "active_users"]
        built = con.table(TABLE)
        built = built.filter(built.date.isin(late_days) & (built.events > 0)).select(cols)
        usage = con.table("account_usage_daily")
        usage = usage.filter(usage.date.isin(late_days)).select(cols)
        moved = either_way(usage, built, distinct=False)
        parts.append(moved.select("account_id", day=moved.date))
    parts = [p.select("account_id", day=p.day.cast(dt.date)) for p in parts]
    touched = ibis.union(*parts, distinct=False)
    touched = touched.filter(touched.account_id.notnull() & touched.day.notnull())
    return touched.group_by("account_id").agg(day=touched.day.min())


def build_account_daily(con: BaseBackend, tables: Mapping[str, ir.Table], *, as_of: date,
                        base_currency: str, usage_since: date | None,
                        late_days: list[date] | None = None) -> DailyBuild:
    """Materialise `account_daily` as of `as_of`, incrementally when it can (see the module).

    `usage_since` is the day `account_usage_daily` was last built for before this run's build
    (None when it was built in full), and `late_days` the days on or before it that the build
    recomputed.
    """
    usage = con.table("account_usage_daily")
    raw = raw_connection(con)
    now = {"definition": DEFINITION, "base_currency": base_currency}
    first = account_first_days(tables, as_of=as_of, base_currency=base_currency)
    if con.name != "duckdb" or raw is None:
        con.create_table(TABLE, account_daily(tables, as_of=as_of, base_currency=base_currency,
                                              usage=usage), overwrite=True)
        return DailyBuild("full", 0, "not a DuckDB warehouse")
    previous = _read_state(raw)
    reason = _why_full(previous, now, as_of, usage_since)
    # Forget the old state first: a crash below must not leave a state describing another
    # table (the next build is then a full one).
    raw.execute(f"DROP TABLE IF EXISTS {STATE}")
    if reason is not None:
        _build_in_parts(con, raw, tables, as_of=as_of, base_currency=base_currency, first=first)
        _save(con, raw, tables, first, as_of, now)
        return DailyBuild("full", 0, reason)
    before, _ = previous
    changed = _recompute(con, raw, tables, before=before, as_of=as_of,
                         base_currency=base_currency, first=first, late_days=late_days or [])
    _save(con, raw, tables, con.table(FIRST_NOW), as_of, now)
    for name in (FLOORS, FIRST_NOW):
        raw.execute(f"DROP TABLE IF EXISTS {name}")
    new_days = (as_of - before).days
    return DailyBuild("incremental", changed,
                      f"{new_days} new day{'s' if new_days != 1 else ''}, {changed:,} "
                      f"account{'s' if changed != 1 else ''} recomputed from an earlier day")


def _build_in_parts(con: BaseBackend, raw, tables: Mapping[str, ir.Table], *,  # noqa: ANN001
                    as_of: date, base_currency: str, first: ir.Table) -> None:
    """Build the table in full, `PART_ACCOUNTS` accounts at a time (in account_id order),
    into a new table that replaces the old one in one transaction at the end: a crash
    leaves the old table (and no state, so the next build is a full one)."""
    usage = con.table("account_usage_daily")
    building = f"{TABLE}__new"
    raw.execute(f"DROP TABLE IF EXISTS {building}")  # left by a build that was killed
    try:
        parts = con.create_table(PARTS, first.mutate(
            part=ibis.row_number().over(order_by=first.account_id) // PART_ACCOUNTS),
            overwrite=True)
        (accounts,) = raw.execute(f"SELECT count(*) FROM {PARTS}").fetchone()
        if accounts <= PART_ACCOUNTS:
            con.create_table(TABLE, account_daily(tables, as_of=as_of,
                                                  base_currency=base_currency, usage=usage),
                             overwrite=True)
            return
        for part in range(-(-accounts // PART_ACCOUNTS)):
            floors = parts.filter(parts.part == part).select("account_id", floor="first_day")
            rows = account_daily(tables, as_of=as_of, base_currency=base_currency, usage=usage,
                                 floors=floors)
            if part == 0:
                con.create_table(building, rows)
            else:
                con.insert(building, rows)
        with transaction(raw):
            raw.execute(f"DROP TABLE IF EXISTS {TABLE}")
            raw.execute(f"ALTER TABLE {building} RENAME TO {TABLE}")
    finally:
        raw.execute(f"DROP TABLE IF EXISTS {building}")
        raw.execute(f"DROP TABLE IF EXISTS {PARTS}")


def _recompute(con: BaseBackend, raw, tables: Mapping[str, ir.Table], *,  # noqa: ANN001
               before: date, as_of: date, base_currency: str, first: ir.Table,
               late_days: list[date]) -> int:
    """Replace every account's rows from its floor (module) in one transaction; how many
    accounts were recomputed from before the new days."""
    usage = con.table("account_usage_daily")
    con.create_table(FIRST_NOW, first, overwrite=True)
    touched = _touched(con, tables, before=before, as_of=as_of,
                       late_days=[d for d in late_days if d <= before])
    known = (con.table(FIRST).select("account_id")
             .union(con.table(FIRST_NOW).select("account_id"), distinct=True))
    next_day = ibis.literal(before + timedelta(days=1))
    j = known.left_join(touched, "account_id")
    floor = ibis.ifelse(j.day.notnull() & (j.day < next_day), j.day, next_day).cast(dt.date)
    floors = j.select("account_id", floor=floor)
    con.create_table(FLOORS, floors.filter(floors.floor <= as_of), overwrite=True)
    changed, earliest = raw.execute(
        f"SELECT count(*) FILTER (WHERE f.floor <= ?), min(greatest(f.floor, n.first_day)) "
        f"FROM {FLOORS} f JOIN {FIRST_NOW} n USING (account_id)", [before]).fetchall()[0]
    if earliest is not None:  # else no account has rows to recompute, only some to delete
        delta = account_daily(tables, as_of=as_of, base_currency=base_currency,
                              usage=usage.filter(usage.date >= earliest),
                              floors=con.table(FLOORS))
        con.create_table(DELTA, delta, overwrite=True)
    replace_rows(raw, TABLE, delete=f"DELETE FROM {TABLE} USING {FLOORS} f WHERE "
                 f"{TABLE}.account_id = f.account_id AND {TABLE}.date >= f.floor", params=[],
                 delta=None if earliest is None else DELTA)
    return int(changed)
