"""Money as finance sees it: exchange rates, invoices and whether customers pay on time.

Models monthly exchange rates as a random walk from realistic starting levels, and invoices
issued at the start of every billing interval of every paid line item (prorated for lines added
mid-term). Unhealthy customers pay late, and a few not at all.
"""

from __future__ import annotations

import numpy as np

from quarterdeck.demo.company import Company
from quarterdeck.demo.subscriptions import Ledger
from quarterdeck.demo.timeline import (
    DAY_US,
    NULL_INT,
    Timeline,
    add_months,
    month_start,
    rng_for,
    sigmoid,
)

START_RATE = {"AUD": 0.66, "CAD": 0.74, "EUR": 1.08, "GBP": 1.27}
MONTHLY_VOLATILITY = 0.018
PAYMENT_TERMS_DAYS = (14, 30, 45)  # by segment


def build_fx_rates(timeline: Timeline, seed: int) -> dict[str, object]:
    """One rate per currency on the first of every month from the start of history to today."""
    rng = rng_for(seed, "fx_rates")
    months = [month_start(timeline.start_day)]
    while add_months(months[-1], 1) <= timeline.today_day:
        months.append(add_months(months[-1], 1))
    days, currencies, rates = [], [], []
    for currency, level in START_RATE.items():
        walk = level * np.exp(np.cumsum(rng.normal(0, MONTHLY_VOLATILITY, len(months))))
        days += months
        currencies += [currency] * len(months)
        rates += list(np.round(walk, 6))
    return {"date": np.array(days, dtype=np.int64), "currency": currencies, "rate_to_base": rates}


def build_invoices(ledger: Ledger, company: Company, health: np.ndarray, timeline: Timeline,
                   seed: int) -> dict[str, object]:
    """Invoices for every billing interval started before today, with their payment."""
    rng = rng_for(seed, "invoices")
    s = ledger.subs
    today = timeline.today_day
    account, issued, amount, currency = [], [], [], []
    for r in range(len(s["account"])):
        if s["trial"][r]:
            continue
        start, end, months = s["start"][r], s["end"][r], s["interval_months"][r]
        end = today + 10**6 if end == NULL_INT else end
        full = s["quantity"][r] * s["unit_price"][r] * (1 - s["discount"][r])
        k = 0
        while (day := add_months(start, months * k)) < min(end, today):
            period_end = add_months(start, months * (k + 1))
            share = min(1.0, (end - day) / (period_end - day))  # a line added mid-term is prorated
            account.append(s["account"][r])
            issued.append(day)
            amount.append(round(full * share, 2))
            currency.append(s["currency"][r])
            k += 1
    acc = np.array(account, dtype=np.int64)
    issue_day = np.array(issued, dtype=np.int64)
    n = acc.size
    h = health[acc, timeline.week_of(issue_day)] if n else np.zeros(0)
    terms = np.array(PAYMENT_TERMS_DAYS)[company.segment[acc]]
    on_time = (terms * rng.uniform(0.2, 1.0, n)).astype(np.int64)
    late = rng.random(n) < sigmoid(-1.6 - 1.4 * h)
    delay = np.where(late, terms + 1 + rng.exponential(25, n).astype(np.int64), on_time)
    never = rng.random(n) < 0.03 * sigmoid(-2 * h)
    issued_us = issue_day * DAY_US + rng.integers(0, DAY_US // 4, n)
    due_us = (issue_day + terms) * DAY_US + DAY_US - 1
    paid_us = (issue_day + delay) * DAY_US + rng.integers(DAY_US // 3, DAY_US * 2 // 3, n)
    unpaid = never | (paid_us >= timeline.now_us)
    status = np.where(unpaid, np.where(due_us < timeline.now_us, "overdue", "open"), "paid")
    return {
        "invoice_id": [f"in-{i + 1:07d}" for i in range(n)],
        "account_id": [company.account_id[a] for a in acc],
        "issued_at": issued_us,
        "due_at": due_us,
        "paid_at": np.where(unpaid, NULL_INT, paid_us),
        "amount": np.array(amount, dtype=np.float64),
        "currency": currency,
        "status": list(status),
    }
