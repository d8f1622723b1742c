"""Product usage: the event stream, generated a chunk of accounts at a time.

Models users who are invited over an account's first weeks, use the product mostly on weekdays,
more when the account is healthy and across more features (breadth) when it is healthy, less
over the holidays, less while a trial or after notice is given, and not at all once churned.
Some events arrive with only a user_id (the mobile app does not send the account) and
integration syncs with only an account_id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from quarterdeck.demo.company import Company
from quarterdeck.demo.people import USER_RAMP_DAYS, Users
from quarterdeck.demo.timeline import DAY_US, Timeline, from_day, rng_for, scatter_in_weeks

EVENTS = ("login", "dashboard_viewed", "report_created", "export", "integration_sync",
          "invite_sent", "alert_configured", "api_call")
# A struggling account logs in and looks; a thriving one builds, exports, integrates, invites.
NARROW_MIX = np.array([0.46, 0.40, 0.07, 0.03, 0.0, 0.01, 0.01, 0.02])
BROAD_MIX = np.array([0.20, 0.24, 0.17, 0.09, 0.08, 0.05, 0.06, 0.11])
ACCOUNT_LEVEL_EVENT = EVENTS.index("integration_sync")
EVENTS_PER_USER_WEEK = 1.6
NO_ACCOUNT_SHARE = 0.3
CHUNK_ACCOUNTS = 400
REPORT_TYPES = ('{"report_type": "pipeline"}', '{"report_type": "retention"}',
                '{"report_type": "usage"}', '{"report_type": "custom"}')
INTEGRATIONS = ('{"integration": "salesforce"}', '{"integration": "hubspot"}',
                '{"integration": "slack"}', '{"integration": "snowflake"}')


def holiday_factor(timeline: Timeline) -> np.ndarray:
    """Usage per week relative to normal: the last two weeks of December are quiet."""
    days = timeline.week0 + 7 * np.arange(timeline.n_weeks)
    quiet = [from_day(int(d)).month == 12 and from_day(int(d)).day >= 20 for d in days]
    return np.where(quiet, 0.55, 1.0)


def _draw_events(mix_weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    narrow = np.searchsorted(np.cumsum(NARROW_MIX), rng.random(mix_weight.size) * NARROW_MIX.sum())
    broad = np.searchsorted(np.cumsum(BROAD_MIX), rng.random(mix_weight.size) * BROAD_MIX.sum())
    return np.where(rng.random(mix_weight.size) < mix_weight, broad, narrow).astype(np.int32)


def event_chunks(company: Company, users: Users, health: np.ndarray, activity: np.ndarray,
                 timeline: Timeline, seed: int,
                 progress: Callable[[float], None] | None = None) -> Iterator[dict[str, object]]:
    """Yield the events file's columns, one chunk of accounts at a time."""
    account_ids = pa.array(company.account_id, pa.string())
    user_ids = pa.array(users.columns["user_id"], pa.string())
    event_names = pa.array(EVENTS, pa.string())
    properties = pa.array(REPORT_TYPES + INTEGRATIONS, pa.string())
    season = holiday_factor(timeline)
    week_index = np.arange(timeline.n_weeks)
    signup_week = timeline.week_of(company.signup_day)
    next_id = 1
    n_chunks = max(1, -(-company.n // CHUNK_ACCOUNTS))
    for c in range(n_chunks):
        rng = rng_for(seed, "events", c)
        lo, hi = c * CHUNK_ACCOUNTS, min(company.n, (c + 1) * CHUNK_ACCOUNTS)
        h = health[lo:hi]
        ramp = np.clip((week_index[None, :] - signup_week[lo:hi, None] + 1) / 16, 0, 1)
        intensity = (EVENTS_PER_USER_WEEK * users.count[lo:hi, None] * ramp * activity[lo:hi]
                     * np.exp(0.5 * h) * season[None, :])
        rows, instant = scatter_in_weeks(rng.poisson(intensity), timeline, rng, 14.0,
                                         company.signup_day[lo:hi])
        account = rows + lo
        week = timeline.week_of(instant // DAY_US)
        kind = _draw_events(1 / (1 + np.exp(-(1.3 * h[account - lo, week] + 0.2))), rng)

        count = users.count[account]
        days_in = timeline.week_day(week) - company.signup_day[account] + 1
        available = np.clip(-(-days_in * count // USER_RAMP_DAYS), 1, count)
        user = users.first[account] + (rng.random(account.size) * available).astype(np.int64)
        account_level = kind == ACCOUNT_LEVEL_EVENT
        no_account = ~account_level & (rng.random(account.size) < NO_ACCOUNT_SHARE)

        value = np.ones(account.size)
        export = kind == EVENTS.index("export")
        value[export] = np.round(rng.lognormal(5, 1.2, int(export.sum())))
        api = kind == EVENTS.index("api_call")
        value[api] = 1 + rng.poisson(40, int(api.sum()))
        prop = np.full(account.size, -1)
        report = kind == EVENTS.index("report_created")
        prop[report] = rng.integers(0, len(REPORT_TYPES), int(report.sum()))
        prop[account_level] = len(REPORT_TYPES) + rng.integers(
            0, len(INTEGRATIONS), int(account_level.sum()))

        n = account.size
        ids = pc.binary_join_element_wise(
            "ev-", pc.cast(pa.array(np.arange(next_id, next_id + n)), pa.string()), "")
        next_id += n
        yield {
            "event_id": ids,
            "timestamp": instant,
            "event": event_names.take(pa.array(kind)),
            "account_id": account_ids.take(pa.array(account, mask=no_account)),
            "user_id": user_ids.take(pa.array(user, mask=account_level)),
            "value": value,
            "properties": properties.take(pa.array(prop, mask=prop < 0)),
        }
        if progress:
            progress((c + 1) / n_chunks)


def storage_usage(company: Company, activity: np.ndarray, health: np.ndarray,
                  timeline: Timeline, seed: int) -> dict[str, object]:
    """usage_daily: storage (GB) per paying account on the first day of each month.

    Stands for the usage a warehouse already holds aggregated; it grows with seats and health.
    """
    rng = rng_for(seed, "usage_daily")
    day = timeline.start_day
    days = []
    while day < timeline.today_day:
        first = day - from_day(day).day + 1
        if first >= timeline.start_day:
            days.append(first)
        day = first + 32
    days_arr = np.array(days, dtype=np.int64)
    weeks = timeline.week_of(days_arr)
    active = activity[:, weeks] >= 1
    account, k = np.nonzero(active)
    base = company.seats[account] * 0.4 * np.exp(0.3 * health[account, weeks[k]])
    value = np.round(base * rng.lognormal(0, 0.1, account.size), 3)
    return {
        "date": days_arr[k],
        "account_id": [company.account_id[a] for a in account],
        "metric": ["storage_gb"] * account.size,
        "value": value,
    }
