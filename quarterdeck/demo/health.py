"""The latent health of each account: the one hidden process every observable signal follows.

Health is a weekly AR(1) process around an account-specific level (Enterprise customers are a
little healthier on average), knocked down when the champion leaves and recovering slowly.
Usage, tickets, sentiment, meetings, payments and renewal decisions are all drawn from it, so a
health model built on the observable data can be validated against what it hides.
"""

from __future__ import annotations

import numpy as np

from quarterdeck.demo.company import Company
from quarterdeck.demo.timeline import NULL_INT, Timeline, rng_for

SEGMENT_LEVEL = np.array([-0.1, 0.1, 0.3])
LEVEL_SPREAD = 0.55
PERSISTENCE = 0.94  # week to week
NOISE = 0.22
CHAMPION_SHOCK = -1.2
SHOCK_RECOVERY = 0.975  # a lost champion weighs on the account for months


def simulate_health(
    company: Company, champion_left_day: np.ndarray, timeline: Timeline, seed: int,
    level_shift: np.ndarray | None = None,
) -> np.ndarray:
    """Latent health per account (rows) and week (columns), roughly standard normal;
    `level_shift` moves each account's level (what its attributes carry, when they do).

    Example: `health[a, timeline.week_of(day)]` is account a's health in the week of `day`.
    """
    rng = rng_for(seed, "health")
    n, weeks = company.n, timeline.n_weeks
    level = SEGMENT_LEVEL[company.segment] + rng.normal(0, LEVEL_SPREAD, n)
    if level_shift is not None:
        level = level + level_shift
    deviation = rng.normal(0, NOISE / np.sqrt(1 - PERSISTENCE**2), n)
    shock = np.zeros(n)
    shock_week = np.where(champion_left_day == NULL_INT, -1,
                          timeline.week_of(np.maximum(champion_left_day, 0)))
    health = np.empty((n, weeks), dtype=np.float32)
    noise = rng.normal(0, NOISE, (weeks, n))
    for w in range(weeks):
        deviation = PERSISTENCE * deviation + noise[w]
        shock = SHOCK_RECOVERY * shock + np.where(shock_week == w, CHAMPION_SHOCK, 0.0)
        health[:, w] = level + deviation + shock
    return health


def recent_health(health: np.ndarray, account: int, week: int, span: int = 8) -> float:
    """Average health over the `span` weeks up to `week` (what a renewal decision feels)."""
    week = int(np.clip(week, 1, health.shape[1]))
    return float(health[account, max(0, week - span):week].mean())
