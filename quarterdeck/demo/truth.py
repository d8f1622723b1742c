"""The ground truth behind the demo data, for validating health models and forecasts.

Never loaded by the engine: latent health per account and month, the true churn probability
and outcome of every renewal decision, and which accounts are duplicates of which.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from quarterdeck.demo.company import Company
from quarterdeck.demo.subscriptions import Ledger
from quarterdeck.demo.timeline import Timeline, month_start


def monthly_health(company: Company, health: np.ndarray, timeline: Timeline) -> pa.Table:
    """Mean latent health per account and calendar month, from the account's signup month."""
    week_month = np.array([month_start(int(timeline.week_day(w)))
                           for w in range(timeline.n_weeks)], dtype=np.int64)
    months, first_week = np.unique(week_month, return_index=True)
    sums = np.add.reduceat(health.astype(np.float64), first_week, axis=1)
    means = sums / np.diff(np.append(first_week, timeline.n_weeks))
    signup_month = np.array([month_start(int(d)) for d in company.signup_day])
    account, k = np.nonzero(months[None, :] >= signup_month[:, None])
    return pa.table({
        "account_id": pa.array([company.account_id[a] for a in account], pa.string()),
        "month": pa.array(months[k].astype(np.int32), pa.int32()).cast(pa.date32()),
        "latent_health": pa.array(np.round(means[account, k], 6), pa.float64()),
    })


def renewal_decisions(company: Company, ledger: Ledger) -> pa.Table:
    """Every renewal decision: its true churn probability, the health behind it, the outcome.

    Monthly plans decide every month; `outcome` is renewed, churned or pending (not yet due).
    """
    r = ledger.renewals
    return pa.table({
        "account_id": pa.array([company.account_id[a] for a in r["account"]], pa.string()),
        "subscription_id": pa.array([f"sub-{i + 1:07d}" for i in r["subscription"]],
                                    pa.string()),
        "renewal_date": pa.array(np.array(r["renewal_day"], dtype=np.int32),
                                 pa.int32()).cast(pa.date32()),
        "monthly": pa.array(r["monthly"], pa.bool_()),
        "churn_probability": pa.array(np.round(r["churn_probability"], 6), pa.float64()),
        "latent_health": pa.array(np.round(r["latent_health"], 6), pa.float64()),
        "champion_left": pa.array(r["champion_left"], pa.bool_()),
        "outcome": pa.array(r["outcome"], pa.string()),
    })


def duplicate_pairs(duplicates: list[dict]) -> pa.Table:
    """Injected duplicates: `account_id` is the same company as `duplicate_of_account_id`."""
    return pa.table({
        "account_id": pa.array([d["account_id"] for d in duplicates], pa.string()),
        "duplicate_of_account_id": pa.array([d["duplicate_of_account_id"] for d in duplicates],
                                            pa.string()),
        "source": pa.array([d["source"] for d in duplicates], pa.string()),
    })


def truth_tables(company: Company, health: np.ndarray, ledger: Ledger, duplicates: list[dict],
                 timeline: Timeline) -> dict[str, pa.Table]:
    """All truth tables by file name."""
    return {
        "health_monthly": monthly_health(company, health, timeline),
        "renewal_decisions": renewal_decisions(company, ledger),
        "duplicates": duplicate_pairs(duplicates),
    }
