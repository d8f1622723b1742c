"""`forecast_accuracy`: how right the renewal forecast would have been, measured on past periods
with no look-ahead.

- Periods: the last `periods` complete periods (of `grain`) before `as_of`: those whose every
  renewal decision is known (period end + the outcomes' grace period on or before `as_of`).
- Re-forecast: every renewal decision dated in them (`renewal_outcomes`), scored from the data
  as it stood `days_before` days before it (30, 60, 90) by a churn model trained then
  (`backtest_churn_risk`: features as of the score date, a model trained as of the latest
  retraining date on or before it, every 91 days, on the outcomes known by that date only,
  from the decisions still open on their own score dates, as the forecast's models are).
  p_renew = 1 − that probability, 0 when it churned and its cancellation was known by the
  score date (a contraction announced early still renews).
- Actual renewed ARR of a decision: its ARR at stake unless it churned (what p_renew predicts;
  a contraction renews). Per period and segment: expected_arr = Σ arr_at_stake × p_renew, its
  90% interval, actual_renewed_arr, ape = |expected − actual| / actual, covered = the actual
  inside the interval, brier = mean (renewed − p_renew)².
- Period error: each period's shift ε̂, the shared log-odds move of every p_renew that makes
  the expected renewed ARR equal the actual (`period_shift`); τ = their root mean square
  (`period_error`). A period is judged by the interval widened by τ of the *other* periods
  (`covered`), and by outcome randomness alone (`covered_outcome_only`); the summary's
  `period_sd` (all periods) is what the published forecast's intervals carry.
- Baseline: the same periods forecast by the trailing renewal share, the share of ARR at stake
  that did not churn over the decisions of the same term known on the score date in the year
  before it (`baseline_expected_arr`, `baseline_ape`), to show what the model adds.
- Calibration: the decisions in ten groups of equal size by p_renew, mean p_renew beside the
  share that renewed.
- The CSM's call, where categories exist: each decision's category as it stood on the score
  date (the last change on or before it); committed_arr (called `commit`) against the actual
  renewed ARR of the decisions called anything, and its ape.

Example: forecast_accuracy(tables, as_of=date(2026, 9, 30), base_currency="USD").periods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from quarterdeck.forecast.renewed_arr_interval import LEVEL, period_shift, renewed_arr_interval
from quarterdeck.health.churn_model import known_by_score_date
from quarterdeck.health.churn_risk import backtest_churn_risk
from quarterdeck.health.renewal_outcomes import GRACE_DAYS, renewal_outcomes
from quarterdeck.metrics.periods import Period, period_of

DAYS_BEFORE = (30, 60, 90)
PERIODS = 4
ALL = "(all)"
DECILES = 10


@dataclass
class ForecastAccuracy:
    periods: pa.Table  # per days_before, period and segment (ALL for the whole period)
    calibration: pa.Table  # per days_before and decile of p_renew
    summary: pa.Table  # per days_before
    decisions: pa.Table  # the backtest's rows: each decision as it was forecast, its outcome


def complete_periods(as_of: date, *, grain: str = "quarter", count: int = PERIODS,
                     fiscal_start_month: int = 1) -> list[Period]:
    """The last `count` periods whose decisions are all known by `as_of`, oldest first.
    Example: as of 2026-09-30 by quarter → 2025-Q3 … 2026-Q2 (2026-Q3's last week is not)."""
    day = as_of - timedelta(days=GRACE_DAYS)
    period = period_of(day, grain, fiscal_start_month)
    if period.end > day:
        period = period_of(period.start - timedelta(days=1), grain, fiscal_start_month)
    out = [period]
    while len(out) < count:
        out.append(period_of(out[-1].start - timedelta(days=1), grain, fiscal_start_month))
    return out[::-1]


def _category_at(changes: pa.Table | None) -> dict[str, list[tuple[date, str | None]]]:
    out: dict[str, list[tuple[date, str | None]]] = {}
    if changes is None:
        return out
    for rid, at, after in zip(changes["renewal_id"].to_pylist(),
                              changes["changed_at"].to_pylist(), changes["after"].to_pylist(),
                              strict=True):
        out.setdefault(rid, []).append((at.date() if hasattr(at, "date") else at, after))
    return {k: sorted(v, key=lambda x: x[0]) for k, v in out.items()}


def trailing_renewal_share(outcomes: pa.Table, terms: Sequence[str], score_dates: Sequence[date],
                           lookback_days: int = 365) -> np.ndarray:
    """The simple baseline: per decision, the share of ARR at stake that renewed (did not
    churn) over the decisions of its term known on its score date (decided + grace on or
    before it) in the `lookback_days` before; 1 when there were none."""
    known = np.array([d + timedelta(days=GRACE_DAYS) for d in
                      outcomes["decision_date"].to_pylist()], dtype="datetime64[D]")
    term = np.array(outcomes["term"].to_pylist(), dtype=object)
    stake = np.array([float(v) for v in outcomes["arr_at_stake"].to_pylist()])
    kept = stake * (np.array(outcomes["result"].to_pylist(), dtype=object) != "churned")
    out = np.ones(len(terms))
    scored = np.array(score_dates, dtype="datetime64[D]")
    for t in set(terms):
        pick = term == t
        order = np.argsort(known[pick], kind="stable")
        days, s_cum, k_cum = known[pick][order], np.cumsum(stake[pick][order]), np.cumsum(
            kept[pick][order])
        s_cum, k_cum = np.concatenate(([0.0], s_cum)), np.concatenate(([0.0], k_cum))
        mine = np.array([x == t for x in terms])
        hi = np.searchsorted(days, scored[mine], side="right")
        lo = np.searchsorted(days, scored[mine] - np.timedelta64(lookback_days, "D"),
                             side="right")
        total = s_cum[hi] - s_cum[lo]
        out[mine] = np.where(total > 0, (k_cum[hi] - k_cum[lo]) / np.where(total > 0, total, 1),
                             1.0)
    return out


def backtest_decisions(tables: Mapping, *, as_of: date, base_currency: str, start: date,
                       end: date, days_before: int, category_changes: pa.Table | None = None,
                       attributes: Sequence[str] | None = None) -> pa.Table:
    """Each decision dated in [start, end] as it was forecast `days_before` days ahead, with
    its outcome (see the module). Columns: renewal_id, account_id, segment, term,
    renewal_date, score_date, days_before, arr_at_stake, p_renew, cancellation_known,
    model_as_of, result, renewed, category."""
    bt = backtest_churn_risk(tables, base_currency=base_currency, start=start, end=end,
                             as_of=as_of, days_before=days_before, attributes=attributes,
                             open_at_score=True)
    every = renewal_outcomes(tables, as_of=as_of, base_currency=base_currency).to_pyarrow()
    o = every.filter(pc.and_(
        pc.greater_equal(every["decision_date"], pa.scalar(start, pa.date32())),
        pc.less_equal(every["decision_date"], pa.scalar(end, pa.date32()))))
    stake = {(a, d, t): float(v) for a, d, t, v in zip(
        o["account_id"].to_pylist(), o["decision_date"].to_pylist(), o["term"].to_pylist(),
        o["arr_at_stake"].to_pylist(), strict=True)}
    ids, dates, terms = (bt[c].to_pylist() for c in ("account_id", "decision_date", "term"))
    scored = bt["score_date"].to_pylist()
    known = known_by_score_date(bt)
    p = 1.0 - np.array(bt["churn_probability"].to_pylist(), dtype=float)
    p[known] = 0.0
    calls = _category_at(category_changes)
    rid = [f"{a}@{d.isoformat()}" for a, d in zip(ids, dates, strict=True)]
    category = []
    for r, s in zip(rid, scored, strict=True):
        seen = [c for at, c in calls.get(r, []) if at <= s]
        category.append(seen[-1] if seen else None)
    result = bt["result"].to_pylist()
    return pa.table({
        "renewal_id": pa.array(rid, pa.string()), "account_id": pa.array(ids, pa.string()),
        "segment": bt["segment"], "term": bt["term"],
        "renewal_date": pa.array(dates, pa.date32()), "score_date": bt["score_date"],
        "days_before": pa.array([days_before] * len(ids), pa.int32()),
        "arr_at_stake": pa.array([stake[k] for k in zip(ids, dates, terms, strict=True)],
                                 pa.float64()),
        "p_renew": pa.array(np.round(p, 4), pa.float64()),
        "cancellation_known": pa.array(known, pa.bool_()), "model_as_of": bt["model_as_of"],
        "result": pa.array(result, pa.string()),
        "renewed": pa.array([r != "churned" for r in result], pa.bool_()),
        "category": pa.array(category, pa.string()),
        "baseline_p_renew": pa.array(np.round(trailing_renewal_share(every, terms, scored), 4),
                                     pa.float64()),
    })


def _figures(rows: pa.Table, level: float, period_sd: float = 0.0) -> dict[str, object]:
    arr = np.array(rows["arr_at_stake"].to_pylist(), dtype=float)
    p = np.array(rows["p_renew"].to_pylist(), dtype=float)
    renewed = np.array(rows["renewed"].to_pylist(), dtype=bool)
    calls = np.array([c is not None for c in rows["category"].to_pylist()], dtype=bool)
    commit = np.array([c == "commit" for c in rows["category"].to_pylist()], dtype=bool)
    ids = rows["renewal_id"].to_pylist()
    outcome_only = renewed_arr_interval(ids, arr, p, np.ones(len(p)), level=level)
    interval = (renewed_arr_interval(ids, arr, p, np.ones(len(p)), level=level,
                                     period_sd=period_sd) if period_sd > 0 else outcome_only)
    actual = float(arr[renewed].sum())
    baseline = float((arr * np.array(rows["baseline_p_renew"].to_pylist(), dtype=float)).sum())
    called = float(arr[renewed & calls].sum())
    committed = float(arr[commit].sum())
    return {
        "renewals": len(arr), "arr_at_stake": round(float(arr.sum()), 2),
        "expected_arr": interval.expected, "low_arr": interval.low, "high_arr": interval.high,
        "actual_renewed_arr": round(actual, 2),
        "ape": round(abs(interval.expected - actual) / actual, 4) if actual else None,
        "covered": bool(interval.low <= actual <= interval.high),
        "period_sd": round(period_sd, 4),
        "period_shift": round(period_shift(arr, p, actual), 4) if len(arr) else None,
        "covered_outcome_only": bool(outcome_only.low <= actual <= outcome_only.high),
        "brier": round(float(((renewed - p) ** 2).mean()), 4) if len(p) else None,
        "baseline_expected_arr": round(baseline, 2),
        "baseline_ape": round(abs(baseline - actual) / actual, 4) if actual else None,
        "categorised": int(calls.sum()), "committed_arr": round(committed, 2),
        "categorised_renewed_arr": round(called, 2),
        "committed_ape": round(abs(committed - called) / called, 4) if calls.any() and called
        else None,
    }


def accuracy_by_period(backtest: pa.Table, periods: Sequence[Period], *,
                       level: float = LEVEL) -> pa.Table:
    """Per days_before, period, and segment (ALL: every segment), the figures of the
    module. A period's interval carries the period error τ measured on the other periods
    (leave one out), so no period's own miss widens the interval it is judged by."""
    rows = []
    for h in sorted(set(backtest["days_before"].to_pylist())):
        at_h = backtest.filter(pc.equal(backtest["days_before"], h))
        parts = {}
        for period in periods:
            inside = at_h.filter(pc.and_(
                pc.greater_equal(at_h["renewal_date"], pa.scalar(period.start, pa.date32())),
                pc.less_equal(at_h["renewal_date"], pa.scalar(period.end, pa.date32()))))
            if inside.num_rows:
                parts[period] = inside
        shifts = {period: _shift(inside) for period, inside in parts.items()}
        for period, inside in parts.items():
            tau = period_error([s for q, s in shifts.items() if q != period])
            segments = sorted({s for s in inside["segment"].to_pylist() if s is not None})
            for segment in [ALL, *segments]:
                part = inside if segment == ALL else inside.filter(
                    pc.equal(inside["segment"], segment))
                if part.num_rows:
                    rows.append({"days_before": h, "period": period.label,
                                 "period_start": period.start, "period_end": period.end,
                                 "segment": segment, **_figures(part, level, tau)})
    return pa.Table.from_pylist(rows)


def _shift(rows: pa.Table) -> float:
    arr = np.array(rows["arr_at_stake"].to_pylist(), dtype=float)
    renewed = np.array(rows["renewed"].to_pylist(), dtype=bool)
    return period_shift(arr, rows["p_renew"].to_pylist(), float(arr[renewed].sum()))


def period_error(shifts: Sequence[float]) -> float:
    """τ, the period error: the root mean square of past periods' log-odds shifts (0 with
    fewer than two periods: one period says nothing about the spread)."""
    values = [s for s in shifts if s is not None]
    return float(np.sqrt(np.mean(np.square(values)))) if len(values) >= 2 else 0.0


def calibration_by_decile(backtest: pa.Table) -> pa.Table:
    """Per days_before, the decisions in ten equal groups by p_renew: mean p_renew and the
    share that renewed."""
    rows = []
    for h in sorted(set(backtest["days_before"].to_pylist())):
        at_h = backtest.filter(pc.equal(backtest["days_before"], h))
        p = np.array(at_h["p_renew"].to_pylist(), dtype=float)
        y = np.array(at_h["renewed"].to_pylist(), dtype=float)
        for k, part in enumerate(np.array_split(np.argsort(p, kind="stable"), DECILES), 1):
            if part.size:
                rows.append({"days_before": h, "decile": k, "decisions": int(part.size),
                             "mean_p_renew": round(float(p[part].mean()), 4),
                             "renewed_share": round(float(y[part].mean()), 4)})
    return pa.Table.from_pylist(rows)


def _summary(by_period: pa.Table) -> pa.Table:
    rows = []
    for h in sorted(set(by_period["days_before"].to_pylist())):
        at_h = by_period.filter(pc.equal(by_period["days_before"], h)).to_pylist()
        total = [r for r in at_h if r["segment"] == ALL]
        parts = [r for r in at_h if r["segment"] != ALL]
        apes = [r["ape"] for r in total if r["ape"] is not None]
        naive = [r["baseline_ape"] for r in total if r["baseline_ape"] is not None]
        decisions = sum(r["renewals"] for r in total)
        rows.append({
            "days_before": h, "periods": len(total), "decisions": decisions,
            "mean_ape": round(float(np.mean(apes)), 4) if apes else None,
            "max_ape": round(float(np.max(apes)), 4) if apes else None,
            "baseline_mean_ape": round(float(np.mean(naive)), 4) if naive else None,
            "coverage": round(float(np.mean([r["covered"] for r in total])), 4),
            "coverage_outcome_only": round(float(np.mean(
                [r["covered_outcome_only"] for r in total])), 4),
            "period_sd": round(period_error([r["period_shift"] for r in total]), 4),
            "segment_coverage": round(float(np.mean([r["covered"] for r in parts])), 4)
            if parts else None,
            "brier": round(sum(r["brier"] * r["renewals"] for r in total) / decisions, 4)
            if decisions else None,
        })
    return pa.Table.from_pylist(rows)


def forecast_accuracy(tables: Mapping, *, as_of: date, base_currency: str,
                      grain: str = "quarter", periods: int = PERIODS,
                      days_before: Sequence[int] = DAYS_BEFORE, fiscal_start_month: int = 1,
                      category_changes: pa.Table | None = None,
                      attributes: Sequence[str] | None = None,
                      level: float = LEVEL) -> ForecastAccuracy:
    """The backtest of the module over the last `periods` complete periods before `as_of`."""
    chosen = complete_periods(as_of, grain=grain, count=periods,
                              fiscal_start_month=fiscal_start_month)
    parts = [backtest_decisions(tables, as_of=as_of, base_currency=base_currency,
                                start=chosen[0].start, end=chosen[-1].end, days_before=h,
                                category_changes=category_changes, attributes=attributes)
             for h in days_before]
    backtest = pa.concat_tables(parts)
    by_period = accuracy_by_period(backtest, chosen, level=level)
    return ForecastAccuracy(by_period, calibration_by_decile(backtest), _summary(by_period),
                            backtest)
