"""Usage facts per point: event counts, distinct users, days and kinds in windows before T.

A point is (account_id, as_of = T); its windows end at `end`, midnight after T, and a window
(a, b) holds the events of [end - a days, end - b days). An event counts for its own account,
else its user's, and through its user only when the user was known at T (created before
`end`). Two computations give the same facts:

- `point_usage`: any points (a backtest's renewals, a day's paying accounts), one pass joining
  each event to the points whose windows hold it;
- `grid_usage`: every account with usage on a few dates (a run's day and its lookback). It
  reduces the events once per user, kind and day, with each date as a column, instead of once
  per point, which on DuckDB takes about 60% of the time at 20,000 accounts.

Example: point_usage(tables, points, usage) → account_id, as_of, events_30d, …, last_event_date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.warehouse.schema import empty_table

#: Event counts: name → window (a, b) in days before the point's end.
COUNT_WINDOWS: dict[str, tuple[int, int]] = {
    "events_30d": (30, 0), "events_prev_30d": (60, 30), "events_7d": (7, 0),
    "events_prev_7d": (14, 7), "events_14d": (14, 0), "events_prev_14d": (28, 14),
}
#: Distinct users, days with usage and event kinds: name → (what is counted, window).
DISTINCT_WINDOWS: dict[str, tuple[str, tuple[int, int]]] = {
    "active_users_7d": ("user", (7, 0)), "active_users_prev_7d": ("user", (14, 7)),
    "active_users_7d_before": ("user", (37, 30)), "active_users_30d": ("user", (30, 0)),
    "active_days_30d": ("day", (30, 0)),
    "event_kinds_30d": ("kind", (30, 0)), "event_kinds_7d": ("kind", (7, 0)),
}
#: A point has window facts when it has an event in the `REACH` days before its end (the
#: longest window, 60 days, and a week more).
REACH = 67
USAGE_COLUMNS = [*COUNT_WINDOWS, *DISTINCT_WINDOWS]
#: Every window (a, b) of the facts.
WINDOWS = [*COUNT_WINDOWS.values(), *(w for _, w in DISTINCT_WINDOWS.values())]


def _table(tables: Mapping[str, ir.Table], name: str) -> ir.Table:
    return tables[name] if name in tables else empty_table(name)


def _days(n: int) -> ir.IntervalValue:
    return ibis.interval(days=n)


def mapped_events(tables: Mapping[str, ir.Table], since: ir.Value, until: ir.Value) -> ir.Table:
    """Events in [since, until) with their account: their own, else their user's
    (`by_user`, with the user's creation `user_since`)."""
    e = _table(tables, "events")
    e = e.filter((e.timestamp >= since) & (e.timestamp < until))
    users = _table(tables, "users")
    u = users.select("user_id", user_account=users.account_id, user_since=users.created_at)
    j = e.left_join(u, "user_id")
    m = j.select(account_id=j.account_id.fill_null(j.user_account), by_user=j.account_id.isnull(),
                 user_since=j.user_since, user_id=j.user_id, event=j.event, ts=j.timestamp)
    return m.filter(m.account_id.notnull())


def _last_usage_day(tables: Mapping[str, ir.Table], points: ir.Table, usage: ir.Table | None,
                    until: ir.Value) -> ir.Table:
    """The last day with usage on or before each point's date (over all history)."""
    if usage is None:
        all_events = mapped_events(tables, ibis.timestamp("1900-01-01 00:00:00"), until)
        usage = all_events.select("account_id", date=all_events.ts.date()).distinct()
    else:
        usage = usage.filter(usage.events > 0).select("account_id", "date")
    d = points.join(usage, ["account_id", usage.date <= points.as_of])
    return d.group_by(["account_id", "as_of"]).agg(last_event_date=d.date.max())


def with_last_day(windows: ir.Table, last: ir.Table) -> ir.Table:
    return windows.outer_join(last, ["account_id", "as_of"]).select(
        account_id=ibis.coalesce(windows.account_id, last.account_id),
        as_of=ibis.coalesce(windows.as_of, last.as_of),
        **{c: windows[c] for c in USAGE_COLUMNS},
        last_event_date=last.last_event_date,
    )


def point_usage(tables: Mapping[str, ir.Table], points: ir.Table,
                usage: ir.Table | None) -> ir.Table:
    """The usage facts of each point of `points` (account_id, as_of) and its last day with
    usage; `usage` (`account_usage_daily`, when materialised) gives the last day cheaply.

    Example: point_usage(tables, decisions.select("account_id", as_of="score_date"), usage).
    """
    end = (points.as_of + _days(1)).cast(dt.timestamp)
    # Each window's edges once per point, not once per event joined to it: on a backtest's
    # points the join holds tens of millions of rows, and subtracting an interval on each of
    # them took longer than the join.
    edges = sorted({n for a, b in WINDOWS for n in (a, b)} | {REACH})
    p = points.mutate(end=end, **{f"_edge_{n}": end - _days(n) for n in edges if n})
    since = (points.as_of.min() - _days(REACH)).cast(dt.timestamp)
    until = (points.as_of.max() + _days(1)).cast(dt.timestamp)
    m = mapped_events(tables, since, until)
    x = p.join(m, ["account_id", m.ts < p.end, m.ts >= p[f"_edge_{REACH}"]])
    # A user not yet known at T does not map an event to an account.
    x = x.filter(~x.by_user | x.user_since.isnull() | (x.user_since < x.end))

    def edge(n: int) -> ir.TimestampValue:
        return x.end if n == 0 else x[f"_edge_{n}"]

    def within(window: tuple[int, int]) -> ir.BooleanValue:
        a, b = window
        return (x.ts >= edge(a)) & (x.ts < edge(b))

    counted = {"user": x.user_id, "day": x.ts.date(), "kind": x.event}
    windows = x.group_by(["account_id", "as_of"]).agg(
        **{name: x.count(where=within(w)) for name, w in COUNT_WINDOWS.items()},
        **{name: counted[what].nunique(where=within(w))
           for name, (what, w) in DISTINCT_WINDOWS.items()},
    )
    return with_last_day(windows, _last_usage_day(tables, points, usage, until))


def grid_usage(tables: Mapping[str, ir.Table], accounts: ir.Table | None,
               dates: Sequence[date], usage: ir.Table) -> ir.Table:
    """`point_usage` of every account of `accounts` (None: every account of `usage`) on each
    of `dates` (a few), the same rows.

    The events of the longest reach are read once and reduced three ways: per account and
    user (its last event before each window's end), per account and kind (likewise), and per
    account and day (the events each date counts, a column per date). Each event has its
    `unknown_at`: the number of dates at whose end its user was not yet known (0 for events
    with their own account); it counts for date i exactly when its `unknown_at` is at most i,
    the dates sorted. Each date's facts are then sums and counts over these, a few hundred
    thousand rows instead of every event once per point.

    Example: grid_usage(tables, usage.select("account_id").distinct(), [T, T - 7 days], usage).
    """
    dates = sorted(set(dates))
    ends = [d + timedelta(days=1) for d in dates]

    def at(t: date) -> ir.Value:
        return ibis.literal(t, dt.timestamp)

    m = mapped_events(tables, at(ends[0] - timedelta(days=REACH)), at(ends[-1]))
    known = m.by_user & m.user_since.notnull()
    m = m.mutate(unknown_at=sum(
        (ibis.ifelse(known & (m.user_since >= at(e)), 1, 0) for e in ends), ibis.literal(0)))
    # For each date i and each window end b in use: the last event before end_i - b.
    offsets = {what: sorted({w[1] for t, w in DISTINCT_WINDOWS.values() if t == what})
               for what in ("user", "kind")}

    def last_before(i: int, b: int) -> ir.TimestampValue:
        return m.ts.max(where=(m.unknown_at <= i) & (m.ts < at(ends[i] - timedelta(days=b))))

    per = {what: m.filter(m[column].notnull()).group_by(["account_id", column]).agg(
        **{f"last_{i}_{b}": last_before(i, b) for i in range(len(ends)) for b in offsets[what]})
        for what, column in (("user", "user_id"), ("kind", "event"))}
    # Per account and day, the events each date counts: its user known by then, in its reach.
    # Counted where, not filtered: the dates' filters would reach the events' scan as one
    # disjunction evaluated on every event of the reach.
    day = m.ts.date()
    per_day = m.group_by(["account_id", day.name("day")]).agg(**{
        f"n_{i}": m.count(where=(m.unknown_at <= i) & (day >= ibis.literal(e - timedelta(
            days=REACH), dt.date)) & (day < ibis.literal(e, dt.date)))
        for i, e in enumerate(ends)})
    windows = ibis.union(*[grid_date(per_day, _distinct_by_last(per, d, i), d, i)
                           for i, d in enumerate(dates)])
    # The events reach accounts beyond `accounts` (each point's join leaves them out).
    return with_last_day(windows.semi_join(accounts_of(usage, accounts), "account_id"),
                          last_usage_days(accounts, dates, usage))


def accounts_of(usage: ir.Table, accounts: ir.Table | None) -> ir.Table:
    """`accounts`, or when None every account of `usage` (account_usage_daily)."""
    return usage.select("account_id").distinct() if accounts is None else accounts


def last_usage_days(accounts: ir.Table | None, dates: Sequence[date],
                    usage: ir.Table) -> ir.Table:
    """`_last_usage_day` of every account of `accounts` on each of `dates`: one pass over the
    daily usage, the last day on or before each date a column, rather than a join of every
    account's days to each date. With `accounts` None, of every account of `usage`: its rows
    with an account, not joined to the list of its own accounts (the same rows; at 20,000
    accounts that join of every day of usage took most of the pass)."""
    u = usage.filter(usage.events > 0)
    u = (u.filter(u.account_id.notnull()) if accounts is None
         else u.semi_join(accounts, "account_id"))
    last = u.group_by("account_id").agg(**{
        f"last_{i}": u.date.max(where=u.date <= ibis.literal(d, dt.date))
        for i, d in enumerate(dates)})
    return ibis.union(*[
        last.filter(last[f"last_{i}"].notnull()).select(
            "account_id", as_of=ibis.literal(d, dt.date), last_event_date=last[f"last_{i}"])
        for i, d in enumerate(dates)])


def points_for(accounts: ir.Table, dates: Iterable[date]) -> ir.Table:
    """The snapshot grid of `accounts` (an account_id column) at every date of `dates`."""
    ids = accounts.select("account_id")
    return ibis.union(*[ids.mutate(as_of=ibis.literal(d, dt.date)) for d in dates])


def grid_date(per_day: ir.Table, distinct: Mapping[str, ir.Table], day: date,
               i: int) -> ir.Table:
    """The window facts of date `day`, the `i`-th of the grid's sorted dates, from the events
    it counts per account and day (`per_day`, a column n_i) and its distinct users and kinds
    per account (`distinct`: what → account_id and one column per fact)."""
    end = day + timedelta(days=1)

    def ago(n: int) -> date:
        return end - timedelta(days=n)

    n = per_day[f"n_{i}"]
    d = per_day.filter(n > 0).select("account_id", "day", n=n)

    def on_days(window: tuple[int, int]) -> ir.BooleanValue:
        return (d.day >= ago(window[0])) & (d.day < ago(window[1]))

    facts = d.group_by("account_id").agg(
        **{name: d.n.sum(where=on_days(w)).fill_null(0) for name, w in COUNT_WINDOWS.items()},
        **{name: d.count(where=on_days(w)) for name, (what, w) in DISTINCT_WINDOWS.items()
           if what == "day"})
    for what in ("user", "kind"):
        facts = facts.left_join(distinct[what], "account_id").drop("account_id_right")
    return facts.select(
        "account_id", as_of=ibis.literal(day, dt.date),
        **{c: facts[c] if c in COUNT_WINDOWS or DISTINCT_WINDOWS[c][0] == "day"
           else facts[c].fill_null(0) for c in USAGE_COLUMNS})


def _distinct_by_last(per: Mapping[str, ir.Table], day: date, i: int) -> dict[str, ir.Table]:
    """Distinct users and kinds of date i from each one's last event before each window's
    end (`grid_usage`'s columns last_{i}_{b})."""
    end = day + timedelta(days=1)
    return {what: per[what].group_by("account_id").agg(**{
        name: per[what].count(where=per[what][f"last_{i}_{w[1]}"]
                              >= ibis.literal(end - timedelta(days=w[0]), dt.timestamp))
        for name, (counted, w) in DISTINCT_WINDOWS.items() if counted == what})
        for what in ("user", "kind")}
