"""`onboarding_milestones`: the day each onboarding milestone was reached, and time to value.

A milestone is reached on the first day, on or before T, that its activity, product event or
daily usage level is seen (whenever that was: a milestone reached during a trial counts).
Onboarding is complete once every required milestone is reached; it was on time when that
happened within `target_days` of the customer's start (the first paid day). Time to first value
is the days from the customer's start to the first-value milestone (0 or less when value came
during a trial).

Example: with kickoff on 2026-01-05 and go-live (first value) on 2026-02-14 for a customer
since 2026-01-01: onboarding_completed_on 2026-02-14, time_to_value_days 44, on time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from quarterdeck.lifecycle.definitions import Milestone, Onboarding
from quarterdeck.warehouse.schema import entity_table
from quarterdeck.warehouse.subscription_mrr import day_after


def _reached(tables: Mapping[str, ir.Table], daily: ir.Table | None, m: Milestone,
             as_of: date) -> ir.Table:
    """account_id, reached_on: the first day milestone `m` was seen, on or before `as_of`."""
    end = day_after(as_of)
    if m.activity is not None:
        a = entity_table(tables, "activities")
        keep = (a.kind == m.activity.kind) & (a.occurred_at < end)
        if m.activity.subject is not None:
            keep = keep & (a.subject == m.activity.subject)
        a = a.filter(keep)
        return a.group_by("account_id").agg(reached_on=a.occurred_at.min().date())
    if m.event is not None:
        e = entity_table(tables, "events")
        e = e.filter((e.event == m.event.name) & (e.timestamp < end))
        users = entity_table(tables, "users").select("user_id", user_account="account_id")
        e = e.left_join(users, "user_id")
        e = e.select(account_id=e.account_id.fill_null(e.user_account), ts=e.timestamp)
        e = e.filter(e.account_id.notnull())
        return e.group_by("account_id").agg(reached_on=e.ts.min().date())
    assert m.usage is not None
    if daily is None:
        return ibis.memtable(pa.table({"account_id": pa.array([], pa.string()),
                                       "reached_on": pa.array([], pa.date32())}))
    d = daily.filter((daily.date <= as_of) & at_least(daily[m.usage.metric], m.usage.at_least))
    return d.group_by("account_id").agg(reached_on=d.date.min())


def at_least(column: ir.NumericColumn, threshold: float) -> ir.BooleanColumn:
    """`column` ≥ `threshold`. An integer column is compared with ⌈threshold⌉, an integer:
    the same rows (an integer is at least 2.5 when it is at least 3), without the engine
    turning each of the column's values into a decimal to compare it with 2.5 — over every
    day of every account's usage, that cast took most of the lifecycle's query."""
    if column.type().is_integer() and math.isfinite(threshold) and abs(threshold) < 2**62:
        return column >= ibis.literal(math.ceil(threshold), column.type())
    return column >= threshold


def onboarding_milestones(tables: Mapping[str, ir.Table], onboarding: Onboarding, *,
                          as_of: date, customer_since: ir.Table,
                          daily: ir.Table | None = None) -> ir.Table:
    """Per account of `customer_since` (account_id, customer_since): `<milestone>_on` for each
    milestone, milestones_reached, onboarding_complete, onboarding_completed_on,
    onboarding_on_time (NULL before the customer's start or while still in time),
    first_value_on and time_to_value_days. `daily` is account_daily, for usage milestones."""
    j = customer_since.select("account_id", "customer_since")
    for m in onboarding.milestones:
        r = _reached(tables, daily, m, as_of).rename(**{f"{m.name}_on": "reached_on"})
        j = j.left_join(r, "account_id").drop("account_id_right")
    required = [f"{m.name}_on" for m in onboarding.milestones if m.required]
    # ifelse, not a cast: PostgreSQL cannot cast a boolean to bigint.
    reached = sum((ibis.ifelse(j[f"{m.name}_on"].notnull(), 1, 0).cast(dt.int64)
                   for m in onboarding.milestones),
                  ibis.literal(0, dt.int64))
    complete = ibis.literal(True)
    for col in required:
        complete = complete & j[col].notnull()
    completed_on = (ibis.greatest(*[j[c] for c in required]) if len(required) > 1
                    else j[required[0]] if required else j.customer_since)
    completed_on = ibis.ifelse(complete, completed_on, ibis.null(dt.date))
    deadline = j.customer_since + ibis.interval(days=onboarding.target_days)
    t = ibis.literal(as_of, dt.date)
    on_time = ibis.cases(
        (j.customer_since.isnull(), ibis.null(dt.boolean)),
        (complete, completed_on <= deadline),
        (t > deadline, ibis.literal(False)),
        else_=ibis.null(dt.boolean))
    fv = onboarding.first_value
    first_value_on = j[f"{fv.name}_on"] if fv is not None else ibis.null(dt.date)
    return j.select(
        "account_id", *(f"{m.name}_on" for m in onboarding.milestones),
        milestones_reached=reached, onboarding_complete=complete,
        onboarding_completed_on=completed_on, onboarding_on_time=on_time,
        first_value_on=first_value_on,
        time_to_value_days=first_value_on.delta(j.customer_since, unit="day").cast(dt.int64),
    )
