"""The demo company looks like a real B2B SaaS business, and its signals precede churn."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def paid_rows(tables: dict[str, pa.Table]) -> list[dict]:
    rows = tables["subscriptions"].to_pylist()
    return sorted((r for r in rows if not r["trial"]), key=lambda r: (r["account_id"],
                                                                      r["start_date"]))


def churns(rows: list[dict], today: date) -> list[dict]:
    """Paid rows that ended by `today` with nothing of the account continuing on their end."""
    by_account = defaultdict(list)
    for r in rows:
        by_account[r["account_id"]].append(r)
    out = []
    for r in rows:
        if r["canceled_at"] is None or r["end_date"] is None or r["end_date"] > today:
            continue
        continuing = [s for s in by_account[r["account_id"]] if s["start_date"] <= r["end_date"]
                      and (s["end_date"] is None or s["end_date"] > r["end_date"])]
        if not continuing:
            out.append(r)
    return out


def successors(rows: list[dict]) -> list[tuple[dict, dict]]:
    """(row, the row of the same account starting the day it ends) for contract renewals."""
    starts = {(r["account_id"], r["start_date"]): r for r in rows}
    return [(r, starts[(r["account_id"], r["end_date"])]) for r in rows
            if r["interval_months"] >= 12 and (r["account_id"], r["end_date"]) in starts]


def test_all_segments_and_several_currencies_with_rates_before_every_start(tables):
    accounts = tables["accounts"]
    assert {"SMB", "Mid-Market", "Enterprise"} <= set(accounts["segment"].to_pylist())
    subs = tables["subscriptions"]
    currencies = set(subs["currency"].to_pylist())
    assert "USD" in currencies and len(currencies) >= 3
    rates = defaultdict(list)
    for row in tables["fx_rates"].to_pylist():
        rates[row["currency"]].append(row["date"])
    for row in subs.to_pylist():
        if row["currency"] != "USD":
            assert min(rates[row["currency"]]) <= row["start_date"]


def test_commercial_life_has_trials_renewals_changes_churn_and_comebacks(tables, demo):
    rows = paid_rows(tables)
    assert pc.any(tables["subscriptions"]["trial"]).as_py()
    assert any(r["interval_months"] >= 24 for r in rows)
    assert any(r["interval_months"] == 1 and r["end_date"] is None for r in rows)
    renewals = successors(rows)
    assert any(new["quantity"] > old["quantity"] for old, new in renewals)
    assert any(new["quantity"] < old["quantity"] for old, new in renewals)
    add_ons = [r for r in rows for c in rows if r is not c and r["contract_id"] == c["contract_id"]
               and c["start_date"] < r["start_date"] < c["end_date"]]
    assert add_ons, "no mid-term expansion"
    churned = churns(rows, demo.today)
    assert churned
    assert all(c["canceled_at"].date() < c["end_date"] for c in churned)
    comebacks = [c for c in churned if any(r["account_id"] == c["account_id"]
                                           and r["start_date"] > c["end_date"] for r in rows)]
    assert comebacks, "no reactivation"


def test_discounts_grow_with_deal_size(tables):
    rows = paid_rows(tables)
    segment = dict(zip(tables["accounts"]["account_id"].to_pylist(),
                       tables["accounts"]["segment"].to_pylist(), strict=True))
    mean = {s: np.mean([float(r["discount"]) for r in rows if segment[r["account_id"]] == s])
            for s in ("SMB", "Enterprise")}
    assert mean["SMB"] < mean["Enterprise"]


def test_team_hierarchy_and_ownership(tables):
    team = tables["team"].to_pylist()
    emails = {p["email"] for p in team}
    assert 8 <= sum(p["role"] == "csm" for p in team) <= 15
    assert all(p["manager_email"] in emails for p in team if p["manager_email"])
    owners = tables["accounts"]["owner_email"].to_pylist()
    assert None in owners
    assert {o for o in owners if o} <= emails
    assert tables["accounts"]["parent_account_id"].null_count < tables["accounts"].num_rows


def test_duplicates_are_accounts_with_tickets_but_no_subscriptions(tables, truth):
    pairs = truth["duplicates"].to_pylist()
    assert pairs
    account_ids = set(tables["accounts"]["account_id"].to_pylist())
    subscribed = set(tables["subscriptions"]["account_id"].to_pylist())
    ticketed = set(tables["tickets"]["account_id"].to_pylist())
    for pair in pairs:
        assert pair["account_id"] in account_ids and pair["duplicate_of_account_id"] in account_ids
        assert pair["account_id"] not in subscribed
    assert ticketed & {p["account_id"] for p in pairs}


def test_some_events_carry_only_a_user_and_tickets_feed_is_stale(tables, demo):
    events = tables["events"]
    only_user = pc.and_(pc.is_null(events["account_id"]), pc.is_valid(events["user_id"]))
    assert pc.sum(only_user.cast("int64")).as_py() > 0
    last_ticket = pc.max(tables["tickets"]["created_at"]).as_py().date()
    assert demo.today - last_ticket >= timedelta(days=14)
    for column in ("domain", "industry", "region"):
        assert tables["accounts"][column].null_count > 0


def test_a_lost_champion_raises_churn_probability(truth):
    decisions = truth["renewal_decisions"].to_pylist()
    with_loss = [d["churn_probability"] for d in decisions if d["champion_left"]]
    without = [d["churn_probability"] for d in decisions if not d["champion_left"]]
    assert with_loss and np.mean(with_loss) > np.mean(without)


def usage_rate(tables: dict[str, pa.Table]):
    """A function giving an account's events per user and day in the 90 days before a date.

    Events without an account are mapped to one through the users file, as the engine must.
    """
    users = tables["users"]
    owner = dict(zip(users["user_id"].to_pylist(), users["account_id"].to_pylist(), strict=True))
    user_count: dict[str, int] = defaultdict(int)
    for account in owner.values():
        user_count[account] += 1
    events = tables["events"]
    accounts = np.array([a if a is not None else owner[u] for a, u in zip(
        events["account_id"].to_pylist(), events["user_id"].to_pylist(), strict=True)])
    days = events["timestamp"].cast(pa.int64()).to_numpy() // 86_400_000_000
    order = np.lexsort((days, accounts))
    accounts, days = accounts[order], days[order]

    def rate(account: str, before: date) -> float:
        lo, hi = np.searchsorted(accounts, account), np.searchsorted(accounts, account, "right")
        end = (before - date(1970, 1, 1)).days
        window = days[lo:hi]
        return np.count_nonzero((window >= end - 90) & (window < end)) / user_count[account] / 90

    return rate


def test_usage_declines_before_churn(tables, demo):
    """Judged before the notice is given, so the wind-down after notice does not count."""
    rows = paid_rows(tables)
    usage_per_user_day = usage_rate(tables)
    first_start = {}
    for r in rows:
        first_start.setdefault(r["account_id"], r["start_date"])

    def settled(account: str, day: date) -> bool:
        return day - timedelta(days=90) >= first_start[account] + timedelta(days=120)

    churned = [usage_per_user_day(c["account_id"], c["canceled_at"].date())
               for c in churns(rows, demo.today)
               if settled(c["account_id"], c["canceled_at"].date())]
    renewed = [usage_per_user_day(old["account_id"], old["end_date"] - timedelta(45))
               for old, _ in successors(rows)
               if settled(old["account_id"], old["end_date"] - timedelta(45))]
    assert len(churned) >= 5 and len(renewed) >= 5
    assert np.mean(churned) < 0.85 * np.mean(renewed)
