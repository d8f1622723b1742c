"""`account_snapshot`: one row per account as of a date — the facts the account list shows.

Built from `account_daily` and the canonical tables, so every figure traces back to a day's
row: ARR is `account_daily.arr` on the as-of day; events_30d sums the 30 days ending on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from quarterdeck.metrics.periods import periods_between
from quarterdeck.warehouse.subscription_mrr import day_after, subscription_mrr

HISTORY_MONTHS = 36
#: The days of the 30-day figures (events, tickets, active users): the as-of day and the 29
#: before it.
WINDOW_DAYS = 30


def figures_window(as_of: date) -> tuple[date, date]:
    """The first and last day of the 30-day figures as of `as_of`."""
    return as_of - timedelta(days=WINDOW_DAYS - 1), as_of


def _tier_expr(arr: ir.NumericValue, tiers: Sequence[tuple[str, float]]) -> ir.StringValue:
    """The first tier whose floor the ARR meets (tiers are listed from the highest floor)."""
    case = ibis.cases(*[(arr >= floor, name) for name, floor in tiers], else_=tiers[-1][0])
    return case


def account_snapshot(tables: Mapping[str, ir.Table], daily: ir.Table, *, as_of: date,
                     base_currency: str, tiers: Sequence[tuple[str, float]],
                     active_users: ir.Table | None = None) -> ir.Table:
    """Per account known at `as_of`: who it is, its ARR, status, tier, usage and support load.

    status: `active` (MRR > 0), `trial` (an active trial and no MRR), `churned` (paid before,
    not now), `prospect` (never paid). Example: an account whose last row ended last month is
    `churned` with ARR 0.
    `active_users` (account_id, active_users_30d): the distinct users of the 30 days when
    already counted (from the kept recent usage, `kept_active_users`); by default they are
    counted from the events.
    """
    accounts = tables["accounts"]
    accounts = accounts.filter(
        accounts.created_at.isnull() | (accounts.created_at.date() <= as_of))
    window_start, _ = figures_window(as_of)
    on_day = daily.filter(daily.date == as_of).select(
        "account_id", "mrr", "arr", "open_tickets")
    last30 = daily.filter((daily.date >= window_start) & (daily.date <= as_of))
    recent = last30.group_by("account_id").agg(
        events_30d=last30.events.sum(), tickets_30d=last30.tickets_opened.sum())
    paid = daily.filter(daily.mrr > 0)
    first_paid = paid.group_by("account_id").agg(customer_since=paid.date.min())

    subs = subscription_mrr(tables["subscriptions"], tables["fx_rates"], as_of=as_of,
                            base_currency=base_currency)
    live = subs.filter((subs.start_date <= as_of)
                       & (subs.end_date.isnull() | (subs.end_date > as_of)))
    renewals = live.group_by("account_id").agg(
        renewal_date=live.end_date.min(), on_trial=live.trial.any())

    users_30d = (active_users_30d(tables, window_start, as_of) if active_users is None
                 else active_users)
    acts = tables["activities"]
    acts = acts.filter(acts.occurred_at.date() <= as_of)
    last_activity = acts.group_by("account_id").agg(last_activity_at=acts.occurred_at.max())

    team = tables["team"].select(owner_email="email", owner_name="name")
    j = accounts
    for other in (on_day, recent, first_paid, renewals, users_30d, last_activity):
        j = j.left_join(other, "account_id").drop("account_id_right")
    j = j.left_join(team, "owner_email").drop("owner_email_right")
    mrr = j.mrr.fill_null(0)
    arr = j.arr.fill_null(0)
    status = ibis.cases(
        (mrr > 0, "active"),
        (j.customer_since.notnull(), "churned"),
        (j.on_trial.fill_null(False), "trial"),
        else_="prospect",
    )
    return j.select(
        "account_id", "name", "domain", "segment",
        tier=_tier_expr(arr, tiers),
        region=j.region, country=j.country, industry=j.industry,
        owner_email=j.owner_email, owner_name=j.owner_name,
        parent_account_id=j.parent_account_id,
        status=status, mrr=mrr, arr=arr, currency=ibis.literal(base_currency),
        customer_since=j.customer_since, renewal_date=j.renewal_date,
        events_30d=j.events_30d.fill_null(0).cast("int64"),
        active_users_30d=j.active_users_30d.fill_null(0).cast("int64"),
        open_tickets=j.open_tickets.fill_null(0).cast("int64"),
        tickets_30d=j.tickets_30d.fill_null(0).cast("int64"),
        last_activity_at=j.last_activity_at,
    ).order_by("account_id")


def active_users_30d(tables: Mapping[str, ir.Table], start: date, as_of: date) -> ir.Table:
    """Distinct users with an event in [start, as_of], by account: an event counts for its own
    account, else its user's when the user was known at the end of `as_of` (created before
    the midnight after it, or without a date), as the health features count them."""
    events = tables["events"]
    end = day_after(as_of)
    # Timestamps against midnights, not their dates: the scan of the events can then skip
    # what lies outside the window.
    events = events.filter((events.timestamp >= day_after(start - timedelta(days=1)))
                           & (events.timestamp < end) & events.user_id.notnull())
    users = tables["users"]
    users = users.filter(users.created_at.isnull() | (users.created_at < end)).select(
        user_id="user_id", user_account="account_id")
    mapped = events.left_join(users, "user_id").select(
        account_id=ibis.coalesce(events.account_id, users.user_account), user_id=events.user_id)
    mapped = mapped.filter(mapped.account_id.notnull())
    return mapped.group_by("account_id").agg(active_users_30d=mapped.user_id.nunique())


def arr_history(daily: ir.Table, *, as_of: date, months: int = HISTORY_MONTHS) -> ir.Table:
    """ARR at each month end (and on the as-of day) over the last `months` months, from
    `daily` (account_daily, whose days end on `as_of`). The days are listed, not found by a
    test of each row's date: the engine then picks them out of millions of rows at a glance."""
    since = (as_of.replace(day=1) - timedelta(days=31 * months)).replace(day=1)
    days = [*month_ends(since, as_of), as_of]
    d = daily.filter(daily.date.isin(days))
    return d.select("account_id", month=d.date, arr=d.arr).order_by(["account_id", "month"])


def month_ends(since: date, until: date) -> list[date]:
    """The last day of every month from `since`'s to `until`'s that ends by `until`.

    Example: month_ends(date(2026, 1, 15), date(2026, 3, 31)) → Jan 31, Feb 28, Mar 31."""
    return [p.end for p in periods_between(since, until, "month") if p.end <= until]
