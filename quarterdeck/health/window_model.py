"""The churn probability within a window, learnt directly: will an account paying on a day stop
paying within the next W days?

The churn model (`churn_model`) learns the probability of churning at one renewal decision;
combined over the decisions an account faces in a window it ranks accounts less well than a
model of the window itself on some companies (a public telecom data set of 7,043 customers
without usage data: 0.79 AUC against 0.90, docs/churn-model.md) and better on others. So the
window gets its own model, kept where it ranks better:

- Snapshots: the days S_k = T − W − 30·k (k = 0 … ⌈W / 30⌉ + `TRAINING_SNAPSHOTS` − 1, none
  before the first churn the data records), each with the accounts paying on S_k, their
  features as of S_k (the churn model's features plus days to renewal and term) and the
  label: not paying any more on S_k + W. Every label is known by T (S_k + W ≤ T); no feature
  reads anything after S_k.
- Candidates `logistic` and `boosted` (those of the churn model), judged by AUC on the two
  newest windows that do not overlap (S_0, the latest whose outcome is known, and
  S_⌈W/30⌉), predictions pooled; for each, trained on the snapshots whose windows had ended
  by its start: a window overlapping the judged one would carry its outcomes into training
  (the same account, churning once, labelled in both), which made an overfitting candidate
  look best. The better one is refit on every snapshot with calibrated probabilities.
- Kept only when it ranks the judged windows better than the alternative, the churn model
  trained as of each judged day with its decisions in the window combined (same accounts):
  neither wins everywhere (on the 300-account demo over 90 days the combination does, 0.84
  against 0.76; on the public data set the window model, 0.90 against 0.79).
- Not trained (NoWindowModel says why; the window combines the churn model's decisions) when
  fewer than 2 snapshots, too few accounts or too few that stopped paying. When the
  combination ranks the judged windows better, the result is a `WindowModel` named
  `decisions_combined` without an estimator, kept like a model, so the retraining schedule
  does not judge again every day; its card says why.

Example: train_window_model(tables, as_of=date(2026, 9, 30), base_currency="USD",
window_days=90).card["validation"]["auc"]
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

from quarterdeck.health.attribute_encoding import Encoding
from quarterdeck.health.churn_model import (
    DAYS_BEFORE,
    MIN_CHURNED,
    MIN_DECISIONS,
    SEED,
    TRAINING_SAMPLE,
    PastDecisions,
    _categorical,
    calibrated,
    matrix,
    model_features,
    one_thread,
    probability_floor,
    sample_of,
    usable_features,
)
from quarterdeck.health.feature_table import feature_table_at, paying_accounts, points_for
from quarterdeck.health.renewal_outcomes import renewal_outcomes

STEP_DAYS = 30
#: The name of the outcome where the churn model's decisions, combined, rank the window better.
COMBINED = "decisions_combined"
#: Snapshots whose windows end before the judged one starts, for judging the candidates.
TRAINING_SNAPSHOTS = 6
EXTRA_FEATURES = ("days_to_renewal", "term_months")


@dataclass
class WindowModel:
    """A fitted window model: calibrated probability of stopping to pay within `window_days`."""

    name: str
    as_of: date
    window_days: int
    features: list[str]
    estimator: Any
    card: dict[str, Any]
    encodings: dict[str, Encoding] = field(default_factory=dict)

    @property
    def combines_decisions(self) -> bool:
        """Whether the judging chose the churn model's decisions combined over this model."""
        return self.estimator is None

    def probability(self, table: pa.Table) -> np.ndarray:
        """The probability of each row of `table` (which holds the model's features)."""
        x = matrix(table, self.features, self.encodings)
        floor = probability_floor(int(self.card["training"]["rows"]))
        with one_thread():
            p = self.estimator.predict_proba(x)[:, 1] if len(x) else np.empty(0)
        return np.clip(p, floor, 1 - floor)


class NoWindowModel(Exception):
    """Too little history for a window model; the message says what is missing."""


def _snapshots(tables: Mapping[str, ir.Table], days: Sequence[date], window_days: int,
               base_currency: str, features: Sequence[str], usage: ir.Table | None
               ) -> pa.Table:
    """The accounts paying on each of `days` with their features then and whether they
    stopped paying within the window, in one query: newest day first, then by account."""
    points, still = [], []
    for day in days:
        paying = paying_accounts(tables, as_of=day, base_currency=base_currency)
        later = paying_accounts(tables, as_of=day + timedelta(days=window_days),
                                base_currency=base_currency)
        points.append(points_for(paying, [day]))
        still.append(later.select("account_id", as_of=ibis.literal(day, dt.date), still=True))
    f = feature_table_at(tables, ibis.union(*points), base_currency=base_currency,
                         features=list(features), usage=usage, stand_ins=False)
    later = ibis.union(*still)
    f = f.left_join(later, ["account_id", "as_of"]).drop("account_id_right", "as_of_right")
    f = f.mutate(churned=f.still.isnull().cast("int64"), snapshot=f.as_of).drop("still")
    return f.order_by([ibis.desc("snapshot"), "account_id"]).to_pyarrow()


def snapshot_days(tables: Mapping[str, ir.Table], *, as_of: date, window_days: int,
                  base_currency: str, snapshots: int | None = None) -> list[date]:
    """The snapshot days, newest first, none before the first churn known by `as_of`: enough
    for `TRAINING_SNAPSHOTS` whose windows end before the newest starts (or `snapshots`)."""
    if snapshots is None:
        snapshots = -(-window_days // STEP_DAYS) + TRAINING_SNAPSHOTS
    o = renewal_outcomes(tables, as_of=as_of, base_currency=base_currency)
    first = o.filter(o.result == "churned").decision_date.min().to_pyarrow().as_py()
    days = [as_of - timedelta(days=window_days + STEP_DAYS * k) for k in range(snapshots)]
    return [d for d in days if first is None or d + timedelta(days=window_days) >= first]


def train_window_model(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                       window_days: int, usage: ir.Table | None = None,
                       attributes: Sequence[str] | None = None, seed: int = SEED,
                       snapshots: int | None = None) -> WindowModel:
    """Learn the window model as of `as_of` (see the module); NoWindowModel when it cannot."""
    from quarterdeck.health.validation import auc

    features, _ = model_features(tables, as_of=as_of, attributes=attributes)
    features = list(dict.fromkeys([*features, *EXTRA_FEATURES]))
    days = snapshot_days(tables, as_of=as_of, window_days=window_days,
                         base_currency=base_currency, snapshots=snapshots)
    if len(days) < 2:
        raise NoWindowModel(f"fewer than 2 windows of {window_days} days end by {as_of} since "
                            "the first recorded churn")
    rows = _snapshots(tables, days, window_days, base_currency, features, usage)
    y = np.array(rows["churned"].to_pylist(), dtype=int)
    if len(y) < MIN_DECISIONS or y.sum() < MIN_CHURNED or y.sum() == len(y):
        raise NoWindowModel(f"{len(y)} account windows with {int(y.sum())} that stopped paying; "
                            f"a window model needs {MIN_DECISIONS} and {MIN_CHURNED}")
    kept, encodings, _ = usable_features(rows, features)
    x = matrix(rows, kept, encodings)
    categorical = _categorical(kept, encodings)
    # Judged on the newest window and on the one before it that does not overlap it, each
    # by candidates trained on the windows that had ended by its start (a window overlapping
    # the judged one would carry its outcomes into training), predictions pooled.
    snapshot = np.array(rows["snapshot"].to_pylist(), dtype=object)
    step = -(-window_days // STEP_DAYS)
    judged_days = [d for d in days[:step + 1:step] if
                   (snapshot + timedelta(days=window_days) <= d).sum() > 0]
    pooled: dict[str, list[np.ndarray]] = {"logistic": [], "boosted": [], "combined": []}
    labels: list[np.ndarray] = []
    judged = [day for day in judged_days
              if y[snapshot + timedelta(days=window_days) <= day].sum() >= MIN_CHURNED
              and 0 < y[snapshot == day].sum() < (snapshot == day).sum()]
    # The alternative's churn models, one as of each judged day, learn from decisions whose
    # features are computed in one query for all those days.
    past = PastDecisions(tables, as_of=judged[0], also=judged[1:], base_currency=base_currency,
                         leads=[DAYS_BEFORE], usage=usage, features=[
                             f for day in judged for f in model_features(
                                 tables, as_of=day, attributes=attributes)[0]]
                         ) if judged else None
    for day in judged:
        test = snapshot == day
        older = snapshot + timedelta(days=window_days) <= day
        train = np.flatnonzero(older)[sample_of(y[older] == 1, TRAINING_SAMPLE, seed)]
        labels.append(y[test])
        for name in ("logistic", "boosted"):
            with one_thread():
                try:
                    fitted = calibrated(name, y[train], seed, categorical).fit(x[train],
                                                                               y[train])
                except ValueError:  # e.g. a feature with no value before `day`: not judged
                    pooled[name].append(None)
                    continue
                pooled[name].append(fitted.predict_proba(x[test])[:, 1])
        pooled["combined"].append(_combined(
            tables, rows.filter(pa.array(test)), day=day, window_days=window_days,
            base_currency=base_currency, usage=usage, attributes=attributes, seed=seed,
            past=past))
    if not labels:
        raise NoWindowModel(f"the latest windows ({days[0]} + {window_days} days) or the older "
                            "ones hold too few accounts that stopped paying to judge a model")
    judged_y = np.concatenate(labels)
    scores = {name: auc(judged_y, np.concatenate(p)) or 0.0 for name, p in pooled.items()
              if len(p) == len(labels) and all(q is not None for q in p)}
    candidates = [{"model": name, "auc": round(float(scores[name]), 4) if name in scores
                   else None} for name in ("logistic", "boosted")]
    fitted_models = [n for n in ("logistic", "boosted") if n in scores]
    if not fitted_models:
        raise NoWindowModel("neither candidate could be fitted on the older windows")
    best = max(fitted_models, key=lambda n: scores[n])
    best_auc = scores[best]
    combined = scores.get("combined")
    combined_wins = combined is not None and combined >= best_auc
    if combined_wins:  # kept as a decision, so the schedule does not judge again every day
        estimator = None
    else:
        every = sample_of(y == 1, TRAINING_SAMPLE, seed)
        with one_thread():
            estimator = calibrated(best, y[every], seed, categorical).fit(x[every], y[every])
    name = COMBINED if combined_wins else best
    card = {
        "name": name, "as_of": as_of.isoformat(), "window_days": window_days,
        "features": kept,
        "training": {"rows": int(len(y)), "stopped_paying": int(y.sum()),
                     "snapshots": [d.isoformat() for d in days],
                     **({"sample": f"fitted on a random sample of {TRAINING_SAMPLE:,} of the "
                                   f"{len(y):,} account windows, those that stopped paying "
                                   "and the others in the same share"}
                        if len(y) > TRAINING_SAMPLE else {})},
        "validation": {"snapshots": [d.isoformat() for d in judged_days],
                       "rows": int(len(judged_y)), "stopped_paying": int(judged_y.sum()),
                       "auc": round(best_auc, 4),
                       "decisions_combined_auc": None if combined is None
                       else round(combined, 4)},
        "candidates": candidates,
        "attribute_setting": None if attributes is None else sorted(attributes),
    }
    if combined_wins:
        card["why"] = (f"on the latest windows the churn model's decisions combined rank who "
                       f"stopped paying better (AUC {combined:.3f}) than a window model "
                       f"({best} {best_auc:.3f})")
    return WindowModel(name, as_of, window_days, kept, estimator, card, encodings)


def _combined(tables: Mapping[str, ir.Table], judged: pa.Table, *, day: date,
              window_days: int, base_currency: str, usage: ir.Table | None,
              attributes: Sequence[str] | None, seed: int,
              past: PastDecisions | None = None) -> np.ndarray | None:
    """The alternative's probabilities for the judged accounts: the churn model trained as of
    the window's first day, its decisions in the window combined (as `churn_risk` states
    them), read from the judged rows' features (those of `churn_risk` on that day); None when
    no model can be trained then."""
    from quarterdeck.health.churn_model import NotEnoughHistory, train_churn_model
    from quarterdeck.health.churn_risk import next_decisions, window_probability

    try:
        model = train_churn_model(tables, as_of=day, base_currency=base_currency, usage=usage,
                                  attributes=attributes, seed=seed, past=past)
    except NotEnoughHistory:
        return None
    p, _, decisions = next_decisions(model, judged, as_of=day, window_days=window_days)
    return np.round(window_probability(p, decisions, model.floor), 4)
