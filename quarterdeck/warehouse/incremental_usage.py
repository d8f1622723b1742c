"""`account_usage_daily` built incrementally: a run for a later day recomputes only the days
that can have changed since the last build, and the result equals a full build table for table.

The warehouse keeps, beside the table, what it was built from (`_quarterdeck_usage_state`):
the as-of day, the event versions of the landing area it read, the number of superseded event
rows, the identity-resolution fingerprint and the definition's version; and the user → account
mapping it used (`_quarterdeck_usage_users`). A build for day D after day P then recomputes
every account's usage on the touched days only:

- the days after P up to D (new days);
- the days of the events in event versions loaded since (late events land on old days);
- the days of the events of every user whose mapping changed (added, moved to another account)
  or who was created since the last build — such a user's events count for another account,
  or start counting.

Recomputing a day reads every event of that day, so a touched day is exact whatever else
changed; touching too many days only costs time. Everything else forces a full build, with
the reason: the first build, an earlier day than the last, a removed event version, events
superseded by a later load (the replaced rows' days are no longer known), a changed identity
resolution (an account merged into another customer, or no longer: a new account that is its
own customer changes nothing), a new definition (`DEFINITION`), or a warehouse other than
DuckDB with a landing area (PostgreSQL and Spark warehouses always build in full). A company
with no product events at all builds incrementally as well (there is nothing to recompute).

Example: build_usage_daily(con, tables, as_of=date(2026, 9, 30), landing_dir=ws.landing_dir)
→ UsageBuild(mode="incremental", days=3, reason="2 new days, 1 day of late events")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.warehouse.account_daily import account_usage_daily
from quarterdeck.warehouse.incremental import (
    either_way,
    event_loads,
    landed_rows,
    raw_connection,
    replace_rows,
    table_exists,
)
from quarterdeck.warehouse.subscription_mrr import day_after

TABLE = "account_usage_daily"
STATE = "_quarterdeck_usage_state"
USERS = "_quarterdeck_usage_users"
RESOLUTION = "account_resolution"
#: Bump when `account_usage_daily` computes something else: the next build is a full one.
DEFINITION = 1


@dataclass(frozen=True)
class UsageBuild:
    """How the table was built: mode full or incremental, days recomputed, and why; for an
    incremental build, the day of the build it started from and the days it recomputed.
    `kept`: whether the warehouse keeps what the build read (DuckDB with a landing area);
    where it does not, every build is a full one."""

    mode: str
    days: int
    reason: str
    since: date | None = None
    touched: tuple[date, ...] = ()
    kept: bool = True


def _fingerprint(raw) -> dict[str, object]:  # noqa: ANN001
    """What the build reads besides the events' new rows: versions, supersessions, resolution."""
    versions, superseded = event_loads(raw)
    # Only accounts resolved into another customer move events: a new account that is its
    # own customer changes no one's usage.
    resolution = (list(raw.execute(
        f"SELECT count(*), coalesce(sum(hash(account_id, customer_id)), 0) FROM {RESOLUTION} "
        "WHERE account_id <> customer_id").fetchall()[0])
        if table_exists(raw, RESOLUTION) else None)
    return {"versions": versions, "superseded": superseded,
            "resolution": None if resolution is None else [int(x) for x in resolution],
            "definition": DEFINITION}


def _read_state(raw) -> tuple[date, dict[str, object]] | None:  # noqa: ANN001
    if not (table_exists(raw, STATE) and table_exists(raw, USERS) and table_exists(raw, TABLE)):
        return None
    row = raw.execute(f"SELECT as_of, state FROM {STATE}").fetchall()
    return (row[0][0], json.loads(row[0][1])) if row else None


def _why_full(raw, previous: tuple[date, dict[str, object]] | None,  # noqa: ANN001
              now: dict[str, object], as_of: date, events_from_landing: bool) -> str | None:
    if not events_from_landing:
        return "events are not read from a landing area"
    if previous is None:
        return "first build"
    before, then = previous
    if as_of < before:
        return f"an earlier day ({as_of}) than the last build ({before})"
    if then.get("definition") != now["definition"]:
        return "the definition of usage changed"
    if not set(then["versions"]) <= set(now["versions"]):
        return "an event version was removed"
    if then["superseded"] != now["superseded"]:
        return "a later load replaced event rows"
    if then["resolution"] != now["resolution"]:
        return "identity resolution changed"
    return None


def _save(con: BaseBackend, raw, as_of: date, now: dict[str, object],  # noqa: ANN001
          users: ir.Table) -> None:
    con.create_table(USERS, users.select("user_id", "account_id", "created_at"), overwrite=True)
    raw.execute(f"CREATE OR REPLACE TABLE {STATE} (as_of DATE, state VARCHAR)")
    raw.execute(f"INSERT INTO {STATE} VALUES (?, ?)", [as_of, json.dumps(now)])


def build_usage_daily(con: BaseBackend, tables: Mapping[str, ir.Table], *, as_of: date,
                      landing_dir: Path | None) -> UsageBuild:
    """Materialise `account_usage_daily` as of `as_of`, incrementally when it can (see the
    module)."""
    events, users = tables["events"], tables["users"]
    raw = raw_connection(con)
    if con.name != "duckdb" or raw is None or landing_dir is None:
        if raw is not None and con.name == "duckdb":  # a state beside another table misleads
            raw.execute(f"DROP TABLE IF EXISTS {STATE}")
        con.create_table(TABLE, account_usage_daily(events, users, as_of=as_of), overwrite=True)
        return UsageBuild("full", 0, "not a DuckDB warehouse with a landing area", kept=False)
    now = _fingerprint(raw)
    previous = _read_state(raw)
    # A company without product events (billing and CRM only) has nothing to rebuild: its
    # builds are incremental too, so that the tables after this one can be.
    no_events = not now["versions"] and con.to_pyarrow(events.limit(1).count()).as_py() == 0
    reason = _why_full(raw, previous, now, as_of, bool(now["versions"]) or no_events)
    if reason is not None:
        # Forget the old state first: a crash in the full build must not leave a state that
        # describes another table.
        raw.execute(f"DROP TABLE IF EXISTS {STATE}")
        con.create_table(TABLE, account_usage_daily(events, users, as_of=as_of), overwrite=True)
        _save(con, raw, as_of, now, users)
        return UsageBuild("full", 0, reason)
    before, then = previous
    new_versions = [v for v in now["versions"] if v not in set(then["versions"])]
    until = day_after(as_of)
    parts: list[ir.Table] = []
    new_days = (as_of - before).days
    if new_days:
        span = ibis.memtable({"date": [before + timedelta(days=i + 1) for i in range(new_days)]})
        parts.append(span.select(date=span.date.cast("date")))
    if new_versions:
        late = landed_rows(con, landing_dir, new_versions)
        late = late.filter(late.timestamp < until)
        parts.append(late.select(date=late.timestamp.date()).distinct())
    kept = con.table(USERS)
    current = users.select("user_id", "account_id", "created_at")
    # Users whose row changed, and users created since the last build: known now, their
    # events (of any day) count for their account from this build on.
    newly_known = current.filter((current.created_at >= day_after(before))
                                 & (current.created_at < until))
    changed = (either_way(current, kept, distinct=True).select("user_id")
               .union(newly_known.select("user_id")))
    moved = events.filter(events.timestamp < until).semi_join(changed.distinct(), "user_id")
    parts.append(moved.select(date=moved.timestamp.date()).distinct())
    touched_expr = ibis.union(*parts, distinct=True)
    touched = [r["date"] for r in con.to_pyarrow(touched_expr).to_pylist()]
    if touched:
        on_days = events.filter(events.timestamp.date().isin(touched))
        fresh = account_usage_daily(on_days, users, as_of=as_of)
        con.create_table("_quarterdeck_usage_delta", fresh, overwrite=True)
        replace_rows(raw, TABLE, delete=f"DELETE FROM {TABLE} WHERE date IN "
                     "(SELECT unnest(?::DATE[]))", params=[touched],
                     delta="_quarterdeck_usage_delta")
    _save(con, raw, as_of, now, users)
    late_days = len(touched) - new_days
    return UsageBuild("incremental", len(touched),
                      f"{new_days} new day{'s' if new_days != 1 else ''}, {late_days} earlier "
                      f"day{'s' if late_days != 1 else ''} with late events or changed users",
                      since=before, touched=tuple(sorted(touched)))
