"""The vendor's price book: plans, list prices per currency, contract terms and discounts.

Prices are per seat. A row's unit_price is the price of one seat for its whole billing interval,
so a 36-month prepaid seat costs about 36 monthly list prices less the prepay discount, and
MRR = quantity x unit_price x (1 - discount) / interval_months.
"""

from __future__ import annotations

import numpy as np

PLANS = ("Starter", "Growth", "Enterprise")
MONTHLY_LIST_USD = (25.0, 45.0, 80.0)
# Local price books are set per currency, not converted daily.
PRICE_BOOK = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CAD": 1.36, "AUD": 1.52}
PLAN_SHARE = ((0.7, 0.3, 0.0), (0.1, 0.65, 0.25), (0.0, 0.25, 0.75))
PREPAY_FACTOR = 0.85  # paying a year or more up front is cheaper than month to month
TRIAL_SHARE = (0.5, 0.25, 0.05)
TRIAL_CONVERSION = 0.75


def draw_plan(rng: np.random.Generator, segment: int) -> int:
    return int(rng.choice(3, p=PLAN_SHARE[segment]))


def list_price(plan: int, currency: str, months: int) -> float:
    """List price of one seat of `plan` for `months` months, in `currency`."""
    monthly = round(MONTHLY_LIST_USD[plan] * PRICE_BOOK[currency])
    return float(monthly if months == 1 else round(monthly * months * PREPAY_FACTOR, 2))


def draw_term(rng: np.random.Generator, segment: int) -> int:
    """Billing interval in months: SMB mostly monthly; Enterprise often multi-year."""
    if segment == 0:
        return 1 if rng.random() < 0.78 else 12
    if segment == 1:
        return 12 if rng.random() < 0.92 else 24
    return int(rng.choice([12, 24, 36], p=[0.5, 0.28, 0.22]))


def draw_discount(rng: np.random.Generator, segment: int, months: int) -> float:
    """Bigger deals and longer commitments get bigger discounts; most SMB pays list."""
    if segment == 0:
        d = 0.0 if rng.random() < 0.6 else rng.uniform(0.05, 0.15)
    elif segment == 1:
        d = rng.uniform(0.05, 0.2)
    else:
        d = rng.uniform(0.1, 0.3)
    if months >= 24:
        d += 0.05
    return round(float(d), 2)


def draw_auto_renew(rng: np.random.Generator, segment: int) -> bool:
    return bool(rng.random() < (0.9, 0.55, 0.3)[segment])


def monthly_value(quantity: float, unit_price: float, discount: float, months: int) -> float:
    """MRR of a line item in its own currency."""
    return quantity * unit_price * (1 - discount) / months


def churn_probability(health: float, segment: int, monthly: bool, champion_left: bool,
                      multi_year: bool) -> float:
    """True probability that a customer leaves at a renewal (per month for monthly plans).

    Logistic in latent health: an average SMB account leaves about one renewal in five, a
    healthy Enterprise one rarely; a recently lost champion raises the odds.
    """
    if monthly:
        logit = -3.9 - 1.3 * health + 0.8 * champion_left
    else:
        logit = (-1.6, -2.1, -2.5)[segment] - 1.7 * health + 1.0 * champion_left
        logit -= 0.3 * multi_year
    return float(1.0 / (1.0 + np.exp(-logit)))
