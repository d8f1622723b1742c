"""The distribution of renewed ARR over a set of renewal decisions, and its 90% interval.

Each account is one independent outcome. An account with one decision in the set renews its
ARR at stake `a` with probability r × p (r = p_reached, p = p_renew) and brings back 0
otherwise: a Bernoulli trial weighted by its ARR, so the count of renewals is Poisson-binomial
and renewed ARR its weighted sum. An account with several decisions in the set (a monthly
account: one a month) renews a₁ + … + a_j when it renews the first j and churns at the
next, probability r × p₁ × … × p_j × (1 − p_{j+1}).

- exact: the distribution by dynamic programming over the accounts, ARR counted in units of
  1/`GRID` of the largest possible total (each outcome rounded to the nearest unit); the
  quantiles are read from it and shifted by the difference between the exact expected value
  and the rounded distribution's mean, so rounding never moves the interval's centre.
- monte_carlo (seeded, reproducible): `DRAWS` simulated outcomes of every account, used when
  the dynamic programme would take more than `EXACT_MAX_CELLS` cells (outcomes × grid).

- period error (`period_sd` τ > 0): the model's probabilities are off together in a period
  (a quarter whose customers all renew a little less than the model said), which independent
  outcomes do not carry. Each decision's log-odds move by one shared ε ~ N(0, τ²); the
  spread of the expected renewed ARR over ε (Gauss–Hermite quadrature, `NODES` nodes) is
  added in quadrature to each side's distance from E: low = low₀ − (√((E − low₀)² +
  (z·sd_ε)²) − |E − low₀|), and high alike, z the normal quantile of the level, kept within
  [0, total]; as τ → 0 the interval is the outcome interval. τ comes from the accuracy
  backtest (`period_error`): how far past periods' actual renewed ARR sat from their
  forecast, on the log-odds scale.

The interval is [5th, 95th] percentile: renewed ARR falls below `low` with probability at most
5%, above `high` with probability at most 5%. It need not contain the expected value: one
renewal of 100 at p = 0.99 has interval [100, 100] and expected value 99.

Example: renewed_arr_interval(["a", "b"], [100, 300], [0.5, 0.9], [1, 1]) → expected 320,
low 0, high 400 (P(0) = 0.05, P(100) = 0.05, P(300) = 0.45, P(400) = 0.45).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.90
GRID = 4000
# benchmarks/forecast.py: the exact programme takes about 2 s for 10,000 accounts (4e7 cells)
# and grows linearly; Monte Carlo at 20,000 draws is 15 times slower at every size measured,
# so it only takes over where one group holds some 250,000 accounts.
EXACT_MAX_CELLS = 1_000_000_000
NODES = 9
DRAWS = 20_000
SEED = 0
_BLOCK = 512


@dataclass(frozen=True)
class Interval:
    expected: float
    low: float
    high: float
    method: str  # exact or monte_carlo


def _chains(accounts: Sequence[str], arr: np.ndarray, p_renew: np.ndarray,
            p_reached: np.ndarray) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Per account, in the given order: (reach of its first decision, ARR, p_renew), cut at
    its first decision that cannot renew (nothing after it can happen); an account that
    cannot renew anything is left out, so a decision with p_renew = 0 changes nothing."""
    by: dict[str, list[int]] = {}
    for i, a in enumerate(accounts):
        by.setdefault(a, []).append(i)
    renew, reached = p_renew.tolist(), p_reached.tolist()
    out = []
    for ix in by.values():
        first = ix[0]
        reach = reached[first]
        if len(ix) == 1:  # most accounts: one decision, no array work
            if renew[first] > 0 and reach > 0:
                out.append((reach, arr[first:first + 1], p_renew[first:first + 1]))
            continue
        p = p_renew[ix]
        cut = int(np.argmax(p <= 0)) if (p <= 0).any() else len(p)
        if cut and reach > 0:
            out.append((reach, arr[ix][:cut], p[:cut]))
    return out


def _outcomes(reach: float, a: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values an account can bring back (0, a₁, a₁ + a₂, …) and their probabilities."""
    alive = reach * np.concatenate(([1.0], np.cumprod(p)))
    prob = alive - np.append(alive[1:], 0.0)
    prob[0] += 1.0 - reach
    return np.concatenate(([0.0], np.cumsum(a))), prob


def _quantiles(values: np.ndarray, cdf: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2
    low = values[np.searchsorted(cdf, tail - 1e-12, side="left")]
    high = values[np.searchsorted(cdf, 1 - tail - 1e-12, side="left")]
    return float(low), float(high)


def _exact(chains: list[tuple[float, np.ndarray, np.ndarray]], total: float, expected: float,
           level: float, grid: int) -> tuple[float, float]:
    unit = total / grid
    dist = np.ones(1)  # renewed ARR in units: 0 with certainty before any account
    for reach, a, p in chains:
        if len(a) == 1:  # renews a with probability reach × p, else 0: two shifted copies
            q = reach * float(p[0])
            step = int(np.rint(float(a[0]) / unit))
            new = np.zeros(len(dist) + step)
            stay = (reach - q) + (1.0 - reach)  # as _outcomes computes it
            if stay > 0:
                new[:len(dist)] += stay * dist
            if q > 0:
                new[step:] += q * dist
            dist = new
            continue
        values, prob = _outcomes(reach, a, p)
        steps = np.rint(values / unit).astype(int)
        new = np.zeros(len(dist) + steps[-1])
        for s, q in zip(steps, prob, strict=True):
            if q > 0:
                new[s:s + len(dist)] += q * dist
        dist = new
    dist /= dist.sum()
    grid_values = np.arange(len(dist)) * unit
    shift = expected - float(grid_values @ dist)
    low, high = _quantiles(grid_values, np.cumsum(dist), level)
    # the shift moves both ends alike; clipping both to [0, total] keeps low <= high
    return (float(np.clip(low + shift, 0.0, total)), float(np.clip(high + shift, 0.0, total)))


def _monte_carlo(chains: list[tuple[float, np.ndarray, np.ndarray]], level: float,
                 draws: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    totals = np.zeros(draws)
    for start in range(0, len(chains), _BLOCK):
        block = chains[start:start + _BLOCK]
        k = max(len(a) for _, a, _ in block)
        a = np.zeros((len(block), k))
        p = np.zeros((len(block), k))
        reach = np.array([r for r, _, _ in block])
        for i, (_, ai, pi) in enumerate(block):
            a[i, :len(ai)], p[i, :len(pi)] = ai, pi
        alive = rng.random((draws, len(block))) < reach
        for j in range(k):
            alive &= rng.random((draws, len(block))) < p[:, j]
            totals += alive @ a[:, j]
    return _quantiles(np.sort(totals), np.arange(1, draws + 1) / draws, level)


def _sums(chains: list[tuple[float, np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """The expected renewed ARR and the most ARR that can renew: per account, reach × Σ
    (p₁ × … × p_j) × a_j and Σ a_j, added account after account from 0 in the chains' order
    (a running sum, so every figure is the same to the last bit however the accounts are
    held); an account with one decision, most of them, is computed side by side with the
    others."""
    n = len(chains)
    if not n:
        return 0.0, 0.0
    reach = np.fromiter((r for r, _, _ in chains), dtype=float, count=n)
    first_a = np.fromiter((a[0] for _, a, _ in chains), dtype=float, count=n)
    first_p = np.fromiter((q[0] for _, _, q in chains), dtype=float, count=n)
    expected = (reach * first_p) * first_a  # as reach × cumprod([p]) × [a] is for one decision
    most = first_a.copy()
    for i, (r, a, q) in enumerate(chains):
        if len(a) > 1:
            expected[i] = (r * np.cumprod(q) * a).sum()
            most[i] = a.sum()
    zero = np.zeros(1)
    return (float(np.cumsum(np.concatenate((zero, expected)))[-1]),
            float(np.cumsum(np.concatenate((zero, most)))[-1]))


def renewed_arr_interval(accounts: Sequence[str], arr: Sequence[float],
                         p_renew: Sequence[float], p_reached: Sequence[float], *,
                         level: float = LEVEL, grid: int = GRID,
                         exact_max_cells: int = EXACT_MAX_CELLS, draws: int = DRAWS,
                         seed: int = SEED, period_sd: float = 0.0) -> Interval:
    """Expected renewed ARR and its `level` interval over decisions given in date order within
    each account (see the module)."""
    a = np.asarray(arr, dtype=float)
    p = np.clip(np.asarray(p_renew, dtype=float), 0.0, 1.0)
    r = np.clip(np.asarray(p_reached, dtype=float), 0.0, 1.0)
    chains = _chains(list(accounts), a, p, r)
    expected, total = _sums(chains)
    if not chains or total <= 0:
        return Interval(expected, 0.0, 0.0, "exact")
    cells = sum(len(ai) + 1 for _, ai, _ in chains) * grid
    if cells <= exact_max_cells:
        low, high = _exact(chains, total, expected, level, grid)
        method = "exact"
    else:
        low, high = _monte_carlo(chains, level, draws, seed)
        method = "monte_carlo"
    if period_sd > 0:
        low, high = _with_period_error(chains, expected, low, high, total, level, period_sd)
        method += "+period"
    return Interval(round(expected, 2), round(low, 2), round(high, 2), method)


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))


@dataclass(frozen=True)
class _Packed:
    """Chains side by side for array arithmetic: each account's reach, and its ARR and p_renew
    per decision, padded with ARR 0 and p 1 after its last (a padded step adds nothing)."""

    reach: np.ndarray  # (accounts,)
    arr: np.ndarray  # (accounts, most decisions)
    p: np.ndarray

    @classmethod
    def of(cls, chains: list[tuple[float, np.ndarray, np.ndarray]]) -> _Packed:
        n, k = len(chains), max((len(a) for _, a, _ in chains), default=1)
        reach = np.fromiter((r for r, _, _ in chains), dtype=float, count=n)
        lengths = np.fromiter((len(a) for _, a, _ in chains), dtype=int, count=n)
        arr, p = np.zeros((n, k)), np.ones((n, k))
        filled = np.arange(k) < lengths[:, None]
        if n:
            arr[filled] = np.concatenate([a for _, a, _ in chains])
            p[filled] = np.concatenate([q for _, _, q in chains])
        return cls(reach, arr, p)

    def expected_at(self, shift: float) -> float:
        moved = np.where(self.p >= 1, 1.0, 1 / (1 + np.exp(-(_logit(self.p) + shift))))
        return float((self.reach * (np.cumprod(moved, axis=1) * self.arr).sum(axis=1)).sum())


def expected_at(chains: list[tuple[float, np.ndarray, np.ndarray]], shift: float) -> float:
    """Expected renewed ARR when every decision's log-odds move by `shift` (p = 1 stays 1)."""
    return _Packed.of(chains).expected_at(shift)


def _with_period_error(chains: list[tuple[float, np.ndarray, np.ndarray]], expected: float,
                       low: float, high: float, total: float, level: float,
                       tau: float) -> tuple[float, float]:
    from statistics import NormalDist

    nodes, weights = np.polynomial.hermite_e.hermegauss(NODES)
    weights = weights / weights.sum()
    packed = _Packed.of(chains)
    values = np.array([packed.expected_at(tau * x) for x in nodes])
    mean = float(values @ weights)
    sd = float(np.sqrt(max(((values - mean) ** 2) @ weights, 0.0)))
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    # Each side widens by what the period's spread adds to its distance from E in quadrature
    # (nothing as τ → 0, even where the outcome interval does not hold E).
    wide_low = low - (np.hypot(expected - low, z * sd) - abs(expected - low))
    wide_high = high + (np.hypot(high - expected, z * sd) - abs(high - expected))
    return float(np.clip(wide_low, 0.0, total)), float(np.clip(wide_high, 0.0, total))


def period_shift(arr: Sequence[float], p_renew: Sequence[float], actual: float) -> float:
    """The shared log-odds shift ε that makes the expected renewed ARR of independent
    decisions (`arr`, `p_renew`) equal `actual` (bisection; ±10 at the extremes).
    Example: period_shift([100, 100], [0.5, 0.5], 100) → 0.0."""
    a = np.asarray(arr, dtype=float)
    p = np.clip(np.asarray(p_renew, dtype=float), 0.0, 1.0)
    keep = p > 0
    packed = _Packed(np.ones(int(keep.sum())), a[keep][:, None], p[keep][:, None])
    lo, hi = -10.0, 10.0
    if packed.expected_at(lo) >= actual:
        return lo
    if packed.expected_at(hi) <= actual:
        return hi
    for _ in range(60):
        mid = (lo + hi) / 2
        if packed.expected_at(mid) < actual:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2

