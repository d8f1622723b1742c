"""The churn model: a probability that an account leaves at its next renewal, learnt from the
renewal decisions of the company's own past.

- Training rows: every renewal decision known by the as-of date T (`renewal_outcomes` as of
  T: its date plus the grace period is on or before T, rows read as known at T), with the
  account's features as of score_date = period_start − N days (N = 30 by default;
  period_start is the decision date: a contract's renewal, a monthly term's end). Label: 1
  when the decision was a churn, 0 when renewed or contracted. Only outcomes known by T are
  seen. A monthly account decides every month, so its decisions far outnumber the contracts'
  and churn far less often each; the model sees the term (`term_months`) among its features,
  and the AUC it is chosen by is rank-based, so the imbalance needs no reweighting.
- Features: every registered feature with a value on some training row, except
  `days_to_renewal` (about N on every training row, so it carries nothing there and would
  only make far-off renewals extrapolate).
- Candidates: `logistic`, an L2-regularised logistic regression on standardised features
  (signed log1p of each value first, for counts and amounts with long tails; a missing value
  imputed with the median plus a 0/1 missing indicator), and `boosted`, scikit-learn's
  HistGradientBoostingClassifier (missing values handled natively).
- Choice: a time split, each candidate trained on the older ~75% of decisions and judged on the
  most recent ~25% by AUC (churned vs renewed); the better one (logistic on a tie or when the
  split has too few churns) is refit on all rows with calibrated probabilities
  (CalibratedClassifierCV: isotonic from 1,000 rows on, sigmoid below, where isotonic overfits).
- Card: validation AUC (overall and per term: contract renewals, monthly terms) and Brier
  score, base rates, a calibration table (predicted vs observed churn in five bins), training
  window and decisions per term, features and their mean contribution.

Example: train_churn_model(tables, as_of=date(2026, 9, 30), base_currency="USD").card["name"].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from quarterdeck.errors import QuarterdeckError
from quarterdeck.health.feature_table import feature_table_at
from quarterdeck.health.features import FEATURES
from quarterdeck.health.renewal_outcomes import renewal_outcomes

DAYS_BEFORE = 30
NOT_MODELLED = ("days_to_renewal",)
MODEL_FEATURES = tuple(n for n in FEATURES if n not in NOT_MODELLED)
MIN_DECISIONS = 30
MIN_CHURNED = 5
VALIDATION_SHARE = 0.25
ISOTONIC_MIN_ROWS = 1000
CALIBRATION_BINS = 5
TERMS = ("contract", "monthly")
IMPORTANCE_ROWS = 1000
SEED = 0


class NotEnoughHistory(QuarterdeckError):
    """Too few past renewal decisions (or no churn among them) to learn a churn model."""


@dataclass
class ChurnModel:
    """A fitted churn model: `estimator` gives calibrated probabilities, `explainer` (the same
    kind fitted once on every row) the per-account contributions behind the reasons."""

    name: str
    version: str
    as_of: date
    days_before: int
    features: list[str]
    estimator: Any
    explainer: Any
    medians: np.ndarray
    card: dict[str, Any]
    training: pa.Table | None = field(default=None, repr=False)

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated churn probability of each row of the feature matrix `x`."""
        with one_thread():
            return self.estimator.predict_proba(x)[:, 1]

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per row and feature, how much the feature pushes the risk up (> 0) or down (< 0).

        logistic: coefficient × standardised deviation from the training mean (log-odds),
        adding the missing indicator's term for a missing value. boosted: the explainer's
        probability minus its probability with that feature set to its training median.
        """
        if self.name == "logistic":
            return _logistic_contributions(self.explainer, x)
        out = np.empty_like(x, dtype=float)
        with one_thread():
            p = self.explainer.predict_proba(x)[:, 1]
            for j in range(x.shape[1]):
                moved = x.copy()
                moved[:, j] = self.medians[j]
                out[:, j] = p - self.explainer.predict_proba(moved)[:, 1]
        return out


def one_thread() -> Any:
    """Run scikit-learn's OpenMP loops on one thread: on a few thousand rows more threads
    only wait on each other, badly so on a busy machine, and one thread is deterministic."""
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime, so the limit reaches it)
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def candidate(name: str, rows: int, seed: int = SEED) -> Any:
    """An unfitted candidate estimator (`logistic` or `boosted`) sized for `rows`."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if name == "logistic":
        return make_pipeline(
            FunctionTransformer(_signed_log),
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))
    return HistGradientBoostingClassifier(
        learning_rate=0.06, max_iter=150, max_leaf_nodes=8,
        min_samples_leaf=max(5, min(40, rows // 20)), l2_regularization=1.0,
        early_stopping=False, random_state=seed)


def _logistic_contributions(pipeline: Any, x: np.ndarray) -> np.ndarray:
    log, imputer, scaler, lr = (step for _, step in pipeline.steps)
    z = scaler.transform(imputer.transform(log.transform(x)))
    terms = z * lr.coef_[0]
    n = x.shape[1]
    out = terms[:, :n].copy()
    indicator = getattr(imputer, "indicator_", None)
    if indicator is not None:
        for k, j in enumerate(indicator.features_):
            out[:, j] += terms[:, n + k]
    return out


def calibrated(name: str, y: np.ndarray, seed: int = SEED) -> Any:
    """Candidate `name` wrapped in probability calibration suited to the sample size."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold

    folds = int(min(5, y.sum(), (1 - y).sum()))
    if folds < 2:
        return candidate(name, len(y), seed)
    method = "isotonic" if len(y) >= ISOTONIC_MIN_ROWS else "sigmoid"
    return CalibratedClassifierCV(candidate(name, len(y), seed), method=method,
                                  cv=StratifiedKFold(folds))


def training_rows(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                  days_before: int = DAYS_BEFORE, features: Sequence[str] = MODEL_FEATURES,
                  since: date | None = None, usage: ir.Table | None = None) -> pa.Table:
    """The decisions known by `as_of` (dated on or after `since`), each with the account's
    features as of score_date = period_start − `days_before`, oldest first.

    Columns: account_id, segment, term, period_start, decision_date, score_date, result,
    notice_date, churned (0/1), then one column per feature.
    """
    o = renewal_outcomes(tables, as_of=as_of, base_currency=base_currency)
    if since is not None:
        o = o.filter(o.decision_date >= since)
    o = o.mutate(score_date=(o.period_start - ibis.interval(days=days_before)).cast(dt.date),
                 churned=ibis.ifelse(o.result == "churned", 1, 0))
    points = o.select("account_id", as_of=o.score_date)
    f = feature_table_at(tables, points, base_currency=base_currency, features=features,
                         usage=usage).drop("segment")
    j = o.left_join(f, [o.account_id == f.account_id, o.score_date == f.as_of])
    j = j.select("account_id", "segment", "term", "period_start", "decision_date", "score_date",
                 "result", "notice_date", "churned", *features)
    return j.order_by(["decision_date", "account_id", "term"]).to_pyarrow()


def matrix(table: pa.Table, features: Sequence[str]) -> np.ndarray:
    """The feature columns of `table` as a float matrix, NaN where missing."""
    if not features:
        return np.empty((table.num_rows, 0))
    return np.column_stack([np.array(table[f].to_pylist(), dtype=float) for f in features])


def _auc(y: np.ndarray, p: np.ndarray, renewed: np.ndarray) -> float | None:
    from quarterdeck.health.validation import auc

    pick = (y == 1) | renewed
    return auc(y[pick], p[pick])


def _auc_by_term(y: np.ndarray, p: np.ndarray, renewed: np.ndarray,
                 term: np.ndarray) -> dict[str, float | None]:
    """AUC (churned vs renewed) over each kind of decision present: contract, monthly."""
    return {t: _auc(y[term == t], p[term == t], renewed[term == t])
            for t in TERMS if (term == t).any()}


def _by_term(y: np.ndarray, term: np.ndarray) -> dict[str, dict[str, int]]:
    return {t: {"rows": int((term == t).sum()), "churned": int(y[term == t].sum())}
            for t in TERMS if (term == t).any()}


def calibration_table(y: np.ndarray, p: np.ndarray,
                      bins: int = CALIBRATION_BINS) -> list[dict[str, Any]]:
    """Rows in `bins` bins of equal size by predicted probability: mean predicted vs observed."""
    order = np.argsort(p, kind="stable")
    out = []
    for part in np.array_split(order, bins):
        if part.size:
            out.append({"rows": int(part.size), "predicted": round(float(p[part].mean()), 4),
                        "observed": round(float(y[part].mean()), 4)})
    return out


def fit_churn_model(rows: pa.Table, *, as_of: date, days_before: int = DAYS_BEFORE,
                    features: Sequence[str] = MODEL_FEATURES, seed: int = SEED) -> ChurnModel:
    """Choose, fit and calibrate the churn model on `training_rows` (see the module)."""
    with one_thread():
        return _fit(rows, as_of, days_before, list(features), seed)


def _fit(rows: pa.Table, as_of: date, days_before: int, features: list[str],
         seed: int) -> ChurnModel:
    from sklearn.metrics import brier_score_loss

    y = np.array(rows["churned"].to_pylist(), dtype=int)
    if len(y) < MIN_DECISIONS or y.sum() < MIN_CHURNED or y.sum() == len(y):
        raise NotEnoughHistory(
            f"{len(y)} renewal decisions with {int(y.sum())} churned known by {as_of}; the "
            f"churn model needs at least {MIN_DECISIONS} decisions and {MIN_CHURNED} churns")
    # A feature without a single value (a source the company does not have) is left out.
    features = [f for f in features if rows[f].null_count < rows.num_rows]
    x = matrix(rows, features)
    if not features:
        raise NotEnoughHistory("no candidate feature has a value on the past renewals")
    dates = np.array(rows["decision_date"].to_pylist(), dtype=object)
    renewed = np.array(rows["result"].to_pylist(), dtype=object) == "renewed"
    term = np.array(rows["term"].to_pylist(), dtype=object)
    split = sorted(dates)[int(len(dates) * (1 - VALIDATION_SHARE))]
    old, new = dates < split, dates >= split
    candidates, best, shown = [], "logistic", None
    if min(y[old].sum(), y[new].sum()) >= 2 and (1 - y[old]).sum() >= 2:
        for name in ("logistic", "boosted"):
            p = calibrated(name, y[old], seed).fit(x[old], y[old]).predict_proba(x[new])[:, 1]
            figures = {"model": name, "auc": _auc(y[new], p, renewed[new]),
                       "auc_by_term": _auc_by_term(y[new], p, renewed[new], term[new]),
                       "brier": round(float(brier_score_loss(y[new], p)), 4)}
            candidates.append(figures)
            if shown is None or (figures["auc"] or 0) > (shown["auc"] or 0):
                best, shown = name, {**figures, "calibration": calibration_table(y[new], p)}
    estimator = calibrated(best, y, seed).fit(x, y)
    explainer = candidate(best, len(y), seed).fit(x, y)
    with np.errstate(all="ignore"):
        medians = np.array([np.nanmedian(c) if (~np.isnan(c)).any() else np.nan for c in x.T])
    version = as_of.isoformat()
    model = ChurnModel(best, version, as_of, days_before, features, estimator, explainer,
                       medians, {}, rows)
    sample = x[np.linspace(0, len(x) - 1, min(len(x), IMPORTANCE_ROWS)).astype(int)]
    weight = np.abs(model.contributions(sample)).mean(axis=0)
    method = getattr(estimator, "method", "none")
    model.card = {
        "name": best, "version": version, "as_of": as_of.isoformat(),
        "days_before": days_before, "features": features, "calibration_method": method,
        "training": {"rows": len(y), "churned": int(y.sum()),
                     "base_rate": round(float(y.mean()), 4),
                     "first_decision": str(min(dates)), "last_decision": str(max(dates)),
                     "by_term": _by_term(y, term)},
        "validation": None if shown is None else {
            "from": str(split), "to": str(max(dates)), "train_rows": int(old.sum()),
            "rows": int(new.sum()), "churned": int(y[new].sum()),
            "base_rate": round(float(y[new].mean()), 4), **shown},
        "candidates": candidates,
        "importance": sorted(({"feature": f, "weight": round(float(w), 4)}
                              for f, w in zip(features, weight, strict=True)),
                             key=lambda r: -r["weight"]),
    }
    return model


def train_churn_model(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                      days_before: int = DAYS_BEFORE, since: date | None = None,
                      usage: ir.Table | None = None, seed: int = SEED) -> ChurnModel:
    """Learn the churn model from the decisions known by `as_of` (see the module).

    Raises NotEnoughHistory when there are too few. Example: train_churn_model(tables,
    as_of=date(2026, 9, 30), base_currency="USD").card["validation"]["auc"].
    """
    rows = training_rows(tables, as_of=as_of, base_currency=base_currency,
                         days_before=days_before, since=since, usage=usage)
    return fit_churn_model(rows, as_of=as_of, days_before=days_before, seed=seed)
