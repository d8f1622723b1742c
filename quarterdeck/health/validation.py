"""Backtest a health model against real renewal outcomes, with no look-ahead.

For each renewal decision dated in [start, end] (`renewal_outcomes`: every contract renewal
and every monthly term end), the account is scored as it stood N days before (N = 30, 60, 90
by default): its features as of the decision date minus N days, using only data known then.
Decisions whose churn or contraction was already notified by then are left out by default (a
score that only rediscovers a cancellation proves nothing).

Metrics, per N: over all decisions, per kind of term (segment `term: contract` and
`term: monthly`, when both are present) and per segment (churned = result `churned`;
contracted counts as kept). A monthly account has a decision every month, each with a low
churn rate, so the base rate and the red precision are per decision, not per account-year:
compare the lift.
- auc: probability that a churned account scores below a renewed one (contracted left out);
  0.5 is chance, 1 perfect.
- base_rate: share of decisions that churned. red_share: share scored red.
- red_precision: churn rate among red; lift = red_precision / base_rate.
- churned_arr_recall: share of the churned ARR at stake that was red.
- calibration: decisions, churn rate and ARR churn rate per band.
Components whose sources the company does not have (no row known by `as_of`) are named with
the reason, and `unscored` counts the decisions no component could score (their AUC is "–").
The feature ranking scores every candidate feature alone (AUC, the direction that predicts
churn, coverage) and recommends the 3–5 strongest that are not near-copies of each other.

Example: validate_model(tables, models, base_currency="USD", start=date(2025, 10, 1),
end=date(2026, 9, 30)).summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from quarterdeck.health.definitions import HealthModels
from quarterdeck.health.feature_table import feature_table_at
from quarterdeck.health.features import FEATURES
from quarterdeck.health.health_scores import score_features
from quarterdeck.health.renewal_outcomes import GRACE_DAYS, renewal_outcomes
from quarterdeck.health.source_coverage import absent_sources, left_out_features

DAYS_BEFORE = (30, 60, 90)
BANDS = ("red", "yellow", "green")
MIN_FEATURE_COVERAGE = 0.3
KEEP_MIN_AUC = 0.55
REDUNDANT_CORRELATION = 0.8


@dataclass
class ValidationResult:
    """What `validate_model` found; every table is a list of dict rows, ready to render."""

    model: str
    start: date
    end: date
    days_before: tuple[int, ...]
    summary: list[dict[str, Any]]  # per days_before: "all", each term, each segment
    calibration: list[dict[str, Any]]  # per days_before and band
    roc: dict[int, list[tuple[float, float]]]  # per days_before: (false, true positive rate)
    feature_ranking: list[dict[str, Any]]  # at the first days_before
    recommended: list[str]
    excluded_notified: int
    scored: pa.Table = field(repr=False)  # one row per decision and days_before
    # Components whose every source is absent by the as-of date: model, feature, reason.
    components_without_data: list[dict[str, str]] = field(default_factory=list)
    unscored: int = 0  # decisions (at the first days_before) no component could score


def auc(churned: np.ndarray, risk: np.ndarray) -> float | None:
    """Area under the ROC curve of `risk` (higher = riskier) for the 0/1 array `churned`;
    None when only one class is present. Example: auc([1, 0], [0.9, 0.1]) → 1.0."""
    from sklearn.metrics import roc_auc_score

    churned, risk = np.asarray(churned), np.asarray(risk, dtype=float)
    if len(set(churned.tolist())) < 2:
        return None
    return float(roc_auc_score(churned, risk))


def _roc(churned: np.ndarray, risk: np.ndarray) -> list[tuple[float, float]]:
    from sklearn.metrics import roc_curve

    if len(set(churned.tolist())) < 2:
        return []
    fpr, tpr, _ = roc_curve(churned, risk)
    return [(float(a), float(b)) for a, b in zip(fpr, tpr, strict=True)]


def _metrics(rows: dict[str, np.ndarray]) -> dict[str, Any]:
    churned = rows["result"] == "churned"
    kept = rows["result"] == "renewed"
    has = ~np.isnan(rows["score"])
    n = int(churned.size)
    red = rows["band"] == "red"
    pick = has & (churned | kept)
    base = float(churned.mean()) if n else None
    precision = float(churned[red].mean()) if red.any() else None
    churned_arr = float(rows["arr"][churned].sum())
    return {
        "decisions": n, "churned": int(churned.sum()),
        "scored_share": float(has.mean()) if n else None,
        "auc": auc(churned[pick].astype(int), -rows["score"][pick]) if pick.any() else None,
        "base_rate": base, "red_share": float(red.mean()) if n else None,
        "red_precision": precision,
        "lift": precision / base if precision is not None and base else None,
        "churned_arr_recall": float(rows["arr"][churned & red].sum()) / churned_arr
        if churned_arr else None,
    }


def _columns(table: pa.Table, mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
    out = {}
    for name in ("result", "band", "segment", "term"):
        out[name] = np.array(table[name].to_pylist(), dtype=object)
    out["score"] = np.array(table["score"].to_pylist(), dtype=float)
    out["arr"] = np.array(table["arr_at_stake"].to_pylist(), dtype=float)
    out["days_before"] = np.array(table["days_before"].to_pylist())
    if mask is not None:
        out = {k: v[mask] for k, v in out.items()}
    return out


def rank_features(table: pa.Table, features: Sequence[str]) -> list[dict[str, Any]]:
    """Each feature alone as a churn predictor over the decisions of `table` (churned vs
    renewed): auc (≥ 0.5, in its predictive direction), direction, coverage; best first."""
    result = np.array(table["result"].to_pylist(), dtype=object)
    pick = (result == "churned") | (result == "renewed")
    churned = (result[pick] == "churned").astype(int)
    out = []
    for name in features:
        values = np.array(table[name].to_pylist(), dtype=float)[pick]
        has = ~np.isnan(values)
        a = auc(churned[has], values[has]) if has.sum() > 1 else None
        direction = None if a is None else (
            "higher is riskier" if a >= 0.5 else "lower is riskier")
        out.append({"feature": name, "auc": None if a is None else max(a, 1 - a),
                    "direction": direction, "coverage": float(has.mean()) if has.size else 0.0,
                    "description": FEATURES[name].description})
    return sorted(out, key=lambda r: -(r["auc"] or 0))


def recommend(table: pa.Table, ranking: list[dict[str, Any]], most: int = 5) -> list[str]:
    """Up to `most` (at least 3 when possible) strong, well-covered, non-redundant features."""
    chosen: list[str] = []
    columns = {r["feature"]: np.array(table[r["feature"]].to_pylist(), dtype=float)
               for r in ranking}
    for r in ranking:
        if r["auc"] is None or r["coverage"] < MIN_FEATURE_COVERAGE:
            continue
        if len(chosen) >= 3 and r["auc"] < KEEP_MIN_AUC:
            break
        x = columns[r["feature"]]
        if any(_rank_correlation(x, columns[c]) > REDUNDANT_CORRELATION for c in chosen):
            continue
        chosen.append(r["feature"])
        if len(chosen) == most:
            break
    return chosen


def _rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    both = ~np.isnan(a) & ~np.isnan(b)
    if both.sum() < 3:
        return 0.0
    ra, rb = np.argsort(np.argsort(a[both])), np.argsort(np.argsort(b[both]))
    c = np.corrcoef(ra, rb)[0, 1]
    return 0.0 if np.isnan(c) else abs(float(c))


def decisions_scored(tables: Mapping[str, ir.Table], models: HealthModels, *,
                     base_currency: str, start: date, end: date, as_of: date,
                     days_before: Sequence[int] = DAYS_BEFORE) -> ir.Table:
    """Each decision dated in [start, end] × each N of `days_before`, with the account's
    features and score as of score_date = period_start − N (one query for all of them)."""
    o = renewal_outcomes(tables, as_of=as_of, base_currency=base_currency)
    o = o.filter((o.decision_date >= start) & (o.decision_date <= end))
    o = ibis.union(*[o.mutate(days_before=ibis.literal(n, dt.int64),
                              score_date=(o.period_start - ibis.interval(days=n)).cast(dt.date))
                     for n in days_before])
    points = o.select("account_id", as_of=o.score_date)
    f = feature_table_at(tables, points, base_currency=base_currency)
    s = score_features(f, models).select("account_id", "as_of", "model", "score", "band")
    f = f.drop("segment").join(s, ["account_id", "as_of"])
    j = o.left_join(f, [o.account_id == f.account_id, o.score_date == f.as_of])
    return j.drop("account_id_right", "as_of")


def validate_model(tables: Mapping[str, ir.Table], models: HealthModels, *,
                   base_currency: str, start: date, end: date, as_of: date | None = None,
                   days_before: Sequence[int] = DAYS_BEFORE, model: str | None = None,
                   exclude_notified: bool = True) -> ValidationResult:
    """Backtest `models` (or only `model`, applied to every account) on the decisions dated
    in [start, end], outcomes as known at `as_of` (default: `end` plus the grace period).

    Example: validate_model(tables, models, base_currency="USD", start=date(2025, 10, 1),
    end=date(2026, 9, 30)).summary[0]["auc"].
    """
    chosen = models.only(model) if model else models
    as_of = as_of or end + timedelta(days=GRACE_DAYS)
    days_before = tuple(days_before)
    expr = decisions_scored(tables, chosen, base_currency=base_currency, start=start, end=end,
                            as_of=as_of, days_before=days_before)
    table = expr.to_pyarrow()
    notice = np.array(table["notice_date"].to_pylist(), dtype=object)
    score_date = np.array(table["score_date"].to_pylist(), dtype=object)
    notified = np.array([n is not None and n <= d for n, d in zip(notice, score_date,
                                                                  strict=True)], dtype=bool)
    excluded = int(notified.sum()) if exclude_notified else 0
    if excluded:
        table = table.filter(pa.array(~notified))
    cols = _columns(table)
    summary, calibration, roc = [], [], {}
    for n in days_before:
        at = cols["days_before"] == n
        segments = sorted({s for s in cols["segment"][at] if s is not None})
        terms = sorted(set(cols["term"][at].tolist()))
        groups = [("all", at)]
        if len(terms) > 1:
            groups += [(f"term: {t}", at & (cols["term"] == t)) for t in terms]
        groups += [(seg, at & (cols["segment"] == seg)) for seg in segments]
        for label, mask in groups:
            summary.append({"days_before": n, "segment": label,
                            **_metrics({k: v[mask] for k, v in cols.items()})})
        for b in BANDS:
            mask = at & (cols["band"] == b)
            churned = cols["result"][mask] == "churned"
            arr = cols["arr"][mask]
            calibration.append({
                "days_before": n, "band": b, "decisions": int(mask.sum()),
                "churned": int(churned.sum()),
                "churn_rate": float(churned.mean()) if mask.any() else None,
                "arr_churn_rate": float(arr[churned].sum() / arr.sum()) if arr.sum() else None,
            })
        pick = at & ~np.isnan(cols["score"]) & np.isin(cols["result"], ["churned", "renewed"])
        roc[n] = _roc((cols["result"][pick] == "churned").astype(int), -cols["score"][pick])
    first = table.filter(pa.array(cols["days_before"] == days_before[0]))
    ranking = rank_features(first, list(FEATURES))
    unscored = int(np.isnan(cols["score"][cols["days_before"] == days_before[0]]).sum())
    return ValidationResult(
        model=model or ", ".join(chosen.names), start=start, end=end, days_before=days_before,
        summary=summary, calibration=calibration, roc=roc, feature_ranking=ranking,
        recommended=recommend(first, ranking), excluded_notified=excluded, scored=table,
        components_without_data=components_without_data(tables, chosen, as_of=as_of),
        unscored=unscored)


def components_without_data(tables: Mapping[str, ir.Table], models: HealthModels, *,
                            as_of: date) -> list[dict[str, str]]:
    """The components of `models` whose every source but subscriptions has no row known by
    `as_of` (`quarterdeck.health.source_coverage`): model, feature, reason."""
    absent = absent_sources(tables, as_of=as_of)
    out = []
    for m in models.models:
        for r in left_out_features([c.feature for c in m.components], absent):
            out.append({"model": m.name, **r})
    return out
