"""The renewed-ARR distribution and its 90% interval, against outcomes enumerated by hand."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from quarterdeck.forecast.renewed_arr_interval import GRID, _sums, renewed_arr_interval


def _enumerated(accounts, arr, p, reached):
    """Every combination of independent account outcomes, with its probability."""
    chains: dict[str, list[int]] = {}
    for i, a in enumerate(accounts):
        chains.setdefault(a, []).append(i)
    options = []
    for ix in chains.values():
        alive, total, outs = reached[ix[0]], 0.0, [(0.0, 1 - reached[ix[0]])]
        for i in ix:
            outs[-1] = (outs[-1][0], outs[-1][1] + alive * (1 - p[i]))
            alive *= p[i]
            total += arr[i]
            outs.append((total, 0.0))
        outs[-1] = (total, alive)
        options.append(outs)
    dist: dict[float, float] = {}
    for combo in itertools.product(*options):
        v = sum(x for x, _ in combo)
        dist[v] = dist.get(v, 0.0) + float(np.prod([q for _, q in combo]))
    return dist


def _quantile(dist, q):
    c = 0.0
    for v in sorted(dist):
        c += dist[v]
        if c >= q - 1e-9:
            return v
    return max(dist)


def test_two_contracts_interval_is_read_from_the_four_outcomes():
    # P(0) = 0.05, P(100) = 0.05, P(300) = 0.45, P(400) = 0.45
    i = renewed_arr_interval(["a", "b"], [100, 300], [0.5, 0.9], [1, 1])
    assert (i.expected, i.low, i.high, i.method) == (320.0, 0.0, 400.0, "exact")


def test_a_monthly_account_renews_month_after_month_until_it_churns():
    # 0 w.p. 0.1, 10 w.p. 0.09, 20 w.p. 0.081, 30 w.p. 0.729: expected 10 × (0.9 + 0.81 + 0.729)
    i = renewed_arr_interval(["m"] * 3, [10, 10, 10], [0.9] * 3, [1, 0.9, 0.81])
    assert i.expected == 24.39
    assert (i.low, i.high) == (0.0, 30.0)


def test_one_likely_renewal_has_an_interval_without_its_expected_value():
    i = renewed_arr_interval(["a"], [100], [0.99], [1])
    assert (i.expected, i.low, i.high) == (99.0, 100.0, 100.0)


def test_monte_carlo_is_seeded_and_agrees_with_the_exact_interval():
    rng = np.random.default_rng(3)
    arr, p = rng.uniform(1_000, 50_000, 300), rng.uniform(0.6, 0.99, 300)
    ids = [str(i) for i in range(300)]
    exact = renewed_arr_interval(ids, arr, p, np.ones(300))
    mc = renewed_arr_interval(ids, arr, p, np.ones(300), exact_max_cells=0)
    again = renewed_arr_interval(ids, arr, p, np.ones(300), exact_max_cells=0)
    assert mc.method == "monte_carlo" and mc == again
    assert abs(mc.low - exact.low) < 0.01 * exact.expected
    assert abs(mc.high - exact.high) < 0.01 * exact.expected


worlds = st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(st.sampled_from("abcd"), min_size=n, max_size=n),
    st.lists(st.integers(1, 50).map(lambda v: v * 100.0), min_size=n, max_size=n),
    st.lists(st.sampled_from([0.0, 0.1, 0.35, 0.5, 0.8, 0.97, 1.0]), min_size=n, max_size=n)))


def _reached(accounts, p):
    out, running = [], {}
    for a, q in zip(accounts, p, strict=True):
        out.append(running.get(a, 1.0))
        running[a] = out[-1] * q
    return out


@settings(max_examples=60, deadline=None)
@given(worlds)
def test_the_exact_interval_leaves_at_most_5_percent_on_each_side(w):
    accounts, arr, p = w
    reached = _reached(accounts, p)
    i = renewed_arr_interval(accounts, arr, p, reached)
    dist = _enumerated(accounts, arr, p, reached)
    unit = sum(arr) / GRID * len(arr)  # each outcome is counted to the nearest grid unit
    assert abs(i.low - _quantile(dist, 0.05)) <= unit
    assert abs(i.high - _quantile(dist, 0.95)) <= unit
    assert abs(i.expected - sum(v * q for v, q in dist.items())) < 0.01
    assert i.low <= i.high


@settings(max_examples=60, deadline=None)
@given(worlds, st.integers(1, 50).map(lambda v: v * 1000.0))
def test_a_decision_that_cannot_renew_adds_no_arr(w, extra):
    accounts, arr, p = w
    before = renewed_arr_interval(accounts, arr, p, _reached(accounts, p))
    more = [*accounts, "zero"], [*arr, extra], [*p, 0.0]
    after = renewed_arr_interval(*more, _reached(more[0], more[2]))
    assert (after.expected, after.low, after.high) == (before.expected, before.low,
                                                         before.high)


@settings(max_examples=60, deadline=None)
@given(worlds)
def test_the_interval_contains_the_expected_value_when_no_renewal_is_near_certain(w):
    accounts, arr, p = w
    p = [min(q, 0.9) for q in p]  # a 0.97 renewal alone has interval [a, a] above 0.97 a
    accounts = [f"{a}{k}" for k, a in enumerate(accounts)]  # contracts: one decision each
    i = renewed_arr_interval(accounts, arr, p, [1.0] * len(p))
    assert i.low - 0.01 <= i.expected <= i.high + 0.01


def test_the_rounding_shift_never_lifts_low_above_a_clipped_high():
    # found by the property above: every outcome near the total, the mean shift pushed low past it
    i = renewed_arr_interval(["a", "a", "b", "a"], [100.0, 100.0, 4600.0, 100.0],
                             [0.97, 1.0, 1.0, 0.0], [1.0, 0.97, 1.0, 0.97])
    assert i.low <= i.high <= 4800.0


chains_drawn = st.lists(st.tuples(
    st.sampled_from([0.0, 0.37, 0.5, 1.0, 1e-12]),
    st.lists(st.tuples(st.floats(0.0, 1e7, allow_subnormal=True) | st.sampled_from([-0.0]),
                       st.sampled_from([1.0, 0.999, 0.3, 1e-9, 0.0]) | st.floats(0.0, 1.0)),
             min_size=1, max_size=14),
), max_size=40)


@settings(max_examples=200, deadline=None)
@given(chains_drawn)
@example([(0.37, [(3.3, 0.7)])])  # 0.37 × 0.7 first: 0.8547; 0.7 × 3.3 first: 0.85469999…
def test_the_sums_are_the_running_sums_of_each_account_to_the_last_bit(drawn):
    # The figures the published forecast rounds to the cent: what adding account after
    # account gives, whether an account has one decision or several.
    chains = [(r, np.array([a for a, _ in d]), np.array([q for _, q in d])) for r, d in drawn]
    expected = float(sum((r * np.cumprod(q) * a).sum() for r, a, q in chains))
    most = float(sum(a.sum() for _, a, _ in chains))
    got = _sums(chains)
    assert [np.float64(v).tobytes() for v in got] == [np.float64(v).tobytes()
                                                      for v in (expected, most)]
