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
- Features (`model_features`): every registered feature whose sources the company has
  (`quarterdeck.health.source_coverage`; the others are left out, never stand-ins), except
  `days_to_renewal` (about N on every training row, so it carries nothing there and would
  only make far-off renewals extrapolate), plus the account attributes
  (`quarterdeck.health.account_attributes`, encoded by
  `quarterdeck.health.attribute_encoding`). A feature with no value, or one value, on every
  training decision is left out too; the card lists what was left out and why. An account
  with no rows of its own for a source the company has (no meeting ever, no product event
  ever) has that feature missing, never a stand-in such as its tenure: the candidates read a
  missing value through their own means (an indicator beside the median; a branch of its
  own), and its reason says "no meeting recorded".
- Training starts at the first churn the data records (`FROM_FIRST_CHURN`): a history that
  holds no churn at all before some day usually starts recording churn then (an export of the
  customers present on a day, a billing system migrated), and its earlier decisions, every
  one a renewal, would teach the model that no one leaves. When too few decisions are left
  from that day on, every decision is used.
- For the renewal forecast (`open_at_score`): only the decisions still open on their score
  date. A churn whose cancellation was known by then is left out: the forecast gives such a
  decision P(renew) = 0 itself and asks the model only about the others, so the model must
  learn from the same kind of decision. Learnt from every decision, it would count churn that
  is announced early twice: once as the known cancellations, once again spread over the
  decisions still open. The account's churn risk keeps learning from every decision.
- Candidates: `logistic`, an L2-regularised logistic regression on standardised features
  (signed log1p of each number first, for counts and amounts with long tails; a missing value
  imputed with the median plus a 0/1 missing indicator; an attribute one-hot), and `boosted`,
  scikit-learn's HistGradientBoostingClassifier (missing values and categories handled
  natively).
- Choice (`quarterdeck.health.churn_validation`): a time split, each candidate trained on the
  older ~75% of decisions and judged on the most recent ~25% by AUC (churned vs renewed), or
  cross-validation grouped by account when the history allows no time split (the card says
  why); the better one (logistic on a tie) is refit on all rows with calibrated probabilities
  (CalibratedClassifierCV: isotonic from 1,000 rows on, sigmoid below, where isotonic
  overfits), never stated closer to 0 or 1 than max(0.001, 0.5 / training decisions).
- Card: validation AUC (overall and per term: contract renewals, monthly terms) and Brier
  score, base rates, a calibration table (predicted vs observed churn in five bins), training
  window and decisions per term, features and their mean contribution, attributes and their
  levels, features left out.

Example: train_churn_model(tables, as_of=date(2026, 9, 30), base_currency="USD").card["name"].
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from quarterdeck.errors import QuarterdeckError
from quarterdeck.health.account_attributes import PREFIX, candidate_attributes, is_attribute
from quarterdeck.health.attribute_encoding import Encoding, choose_encodings
from quarterdeck.health.churn_validation import TIME_SPLIT, ValidationPlan, validation_plan
from quarterdeck.health.feature_table import feature_table_at
from quarterdeck.health.features import FEATURES
from quarterdeck.health.renewal_outcomes import renewal_outcomes
from quarterdeck.health.source_coverage import absent_sources, left_out_features

DAYS_BEFORE = 30
NOT_MODELLED = ("days_to_renewal",)
MODEL_FEATURES = tuple(n for n in FEATURES if n not in NOT_MODELLED)
MIN_DECISIONS = 30
MIN_CHURNED = 5
ISOTONIC_MIN_ROWS = 1000
CALIBRATION_BINS = 5
TERMS = ("contract", "monthly")
IMPORTANCE_ROWS = 1000
SEED = 0
#: How the card says where training starts by default.
FROM_FIRST_CHURN = ("from the first churn the data records: earlier decisions, every one a "
                    "renewal, would teach the model that no one leaves")
PROBABILITY_FLOOR = 0.001
#: The most decisions a model learns from: a sample beyond that (docs/churn-model.md has the
#: measurement: at 130,581 decisions, training on 50,000 moved the held-out AUC by < 0.003).
TRAINING_SAMPLE = 50_000
#: From this many rows on, calibration fits its folds in parallel processes.
PARALLEL_ROWS = 20_000
WORKER_IDLE_SECONDS = 5
DECISION_COLUMNS = ("account_id", "segment", "term", "period_start", "decision_date",
                    "score_date", "result", "notice_date", "churned")
#: The training rows' order: oldest decision first, then a complete tiebreak.
ORDER = ("decision_date", "account_id", "term", "period_start", "result")
DECISIONS_KEY = "quarterdeck.decisions"


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
    encodings: dict[str, Encoding] = field(default_factory=dict)

    def matrix(self, table: pa.Table) -> np.ndarray:
        """The model's features of `table` as floats: attributes encoded as trained (a level
        unseen in training reads as `(other)` or missing), NaN where missing."""
        return matrix(table, self.features, getattr(self, "encodings", {}))

    @property
    def floor(self) -> float:
        """The smallest probability the model states (and 1 − floor the largest)."""
        return probability_floor(int(self.card.get("training", {}).get("rows", 0)))

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated churn probability of each row of the feature matrix `x`, kept within
        [floor, 1 − floor]: finite data never makes churn certain or impossible."""
        with one_thread():
            p = self.estimator.predict_proba(x)[:, 1]
        return np.clip(p, self.floor, 1 - self.floor)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per row and feature, how much the feature pushes the risk up (> 0) or down (< 0).

        logistic: coefficient × standardised deviation from the training mean (log-odds),
        adding the missing indicator's term for a missing value. boosted: the explainer's
        probability minus its probability with that feature set to its training median.
        """
        if self.name == "logistic":
            return _logistic_contributions(self.explainer, x)
        categorical = _categorical(self.features, getattr(self, "encodings", {}))
        out = np.empty_like(x, dtype=float)
        with one_thread():
            p = self.explainer.predict_proba(x)[:, 1]
            for j in range(x.shape[1]):
                moved = x.copy()
                moved[:, j] = self.medians[j]
                out[:, j] = p - self.explainer.predict_proba(moved)[:, 1]
                if categorical[j]:  # a missing level is the missing level, not a median
                    out[np.isnan(x[:, j]) & np.isnan(self.medians[j]), j] = 0.0
        return out


def probability_floor(training_rows: int) -> float:
    """max(0.001, 0.5 / training decisions): the probability half a decision would carry."""
    return max(PROBABILITY_FLOOR, 0.5 / training_rows) if training_rows else PROBABILITY_FLOOR


def _categorical(features: Sequence[str], encodings: Mapping[str, Encoding]) -> list[bool]:
    return [f in encodings and encodings[f].kind == "categorical" for f in features]


@contextmanager
def one_thread() -> Iterator[None]:
    """Run scikit-learn's OpenMP loops on one thread: on a few thousand rows more threads
    only wait on each other, badly so on a busy machine, and one thread is deterministic.
    Calibration's folds fitted side by side (`PARALLEL_ROWS`) run in worker processes of one
    thread each, which leave once idle for `WORKER_IDLE_SECONDS`, so they hold no memory
    while the warehouse works."""
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime, so the limit reaches it)
    from joblib import parallel_config
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"), parallel_config(
            backend="loky", inner_max_num_threads=1, idle_worker_timeout=WORKER_IDLE_SECONDS):
        yield


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def candidate(name: str, rows: int, seed: int = SEED,
              categorical: Sequence[bool] | None = None) -> Any:
    """An unfitted candidate estimator (`logistic` or `boosted`) sized for `rows`;
    `categorical` marks the columns holding an attribute's level codes."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    mask = list(categorical or [])
    if name == "logistic":
        numbers = [j for j, c in enumerate(mask) if not c] if mask else slice(None)
        levels = [j for j, c in enumerate(mask) if c]
        parts: list[tuple[str, Any, Any]] = [("numbers", make_pipeline(
            FunctionTransformer(_signed_log),
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
            numbers)] if numbers != [] else []
        if levels:
            parts.append(("levels", make_pipeline(
                SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
                OneHotEncoder(handle_unknown="ignore", sparse_output=False)), levels))
        return make_pipeline(ColumnTransformer(parts, sparse_threshold=0.0), StandardScaler(),
                             LogisticRegression(C=0.1, max_iter=5000))
    return HistGradientBoostingClassifier(
        learning_rate=0.06, max_iter=150, max_leaf_nodes=8,
        min_samples_leaf=max(5, min(40, rows // 20)), l2_regularization=1.0,
        early_stopping=False, random_state=seed,
        categorical_features=np.array(mask) if any(mask) else None)


def _logistic_contributions(pipeline: Any, x: np.ndarray) -> np.ndarray:
    """Per feature, the sum of its model terms: coefficient × standardised value, over its
    own column, its missing indicator and, for an attribute, its levels."""
    columns, scaler, lr = (step for _, step in pipeline.steps)
    terms = scaler.transform(columns.transform(x)) * lr.coef_[0]
    owner: list[int] = []
    for part, fitted, cols in columns.transformers_:
        if part == "remainder":
            continue
        ids = list(range(x.shape[1]))[cols] if isinstance(cols, slice) else list(cols)
        last = fitted.steps[-1][1]
        if part == "numbers":
            owner += ids
            indicator = getattr(last, "indicator_", None)
            owner += [ids[k] for k in indicator.features_] if indicator is not None else []
        else:
            owner += [j for j, cats in zip(ids, last.categories_, strict=True) for _ in cats]
    out = np.zeros(x.shape, dtype=float)
    for k, j in enumerate(owner):
        out[:, j] += terms[:, k]
    return out


def calibrated(name: str, y: np.ndarray, seed: int = SEED,
               categorical: Sequence[bool] | None = None) -> Any:
    """Candidate `name` wrapped in probability calibration suited to the sample size."""
    from joblib import cpu_count  # the cores this process may use (affinity, containers)
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold

    folds = int(min(5, y.sum(), (1 - y).sum()))
    if folds < 2:
        return candidate(name, len(y), seed, categorical)
    method = "isotonic" if len(y) >= ISOTONIC_MIN_ROWS else "sigmoid"
    # Each fold on one thread, as ever, so the result is the same; large ones side by side.
    jobs = min(folds, cpu_count()) if len(y) >= PARALLEL_ROWS else None
    return CalibratedClassifierCV(candidate(name, len(y), seed, categorical), method=method,
                                  cv=StratifiedKFold(folds), n_jobs=jobs)


def known_by_score_date(rows: pa.Table) -> np.ndarray:
    """Per row of `training_rows`, whether it churned and its cancellation was known on its
    score date (notice_date on or before it): a decision whose outcome was no longer open."""
    notice = rows["notice_date"].to_pylist()
    return np.array([r == "churned" and n is not None and n <= s for r, n, s in zip(
        rows["result"].to_pylist(), notice, rows["score_date"].to_pylist(), strict=True)],
        dtype=bool)


def training_rows(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                  days_before: int = DAYS_BEFORE, features: Sequence[str] = MODEL_FEATURES,
                  since: date | None = None, usage: ir.Table | None = None,
                  sample: int | None = None, seed: int = SEED) -> pa.Table:
    """The decisions known by `as_of` (dated on or after `since`; by default, on or after the
    first churn the data records), each with the account's features as of
    score_date = period_start − `days_before`, oldest first. With `sample`, at most that many
    decisions (`sampled_decisions`), their features computed for those alone.

    Columns: account_id, segment, term, period_start, decision_date, score_date, result,
    notice_date, churned (0/1), then one column per feature.
    """
    return training_rows_by_lead(tables, as_of=as_of, base_currency=base_currency,
                                 leads=[days_before], features=features, since=since,
                                 usage=usage, sample=sample, seed=seed)[days_before]


def training_rows_by_lead(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                          leads: Sequence[int], features: Sequence[str] = MODEL_FEATURES,
                          since: date | None = None, usage: ir.Table | None = None,
                          sample: int | None = None, seed: int = SEED) -> dict[int, pa.Table]:
    """`training_rows` for each `days_before` of `leads`: the same decisions (the same sample),
    their features at every lead computed in one query."""
    rows = training_rows_by_day(tables, days={as_of: leads}, base_currency=base_currency,
                                features=features, since=since, usage=usage, sample=sample,
                                seed=seed)
    return {n: rows[as_of, n] for n in leads}


def training_rows_by_day(tables: Mapping[str, ir.Table], *, days: Mapping[date, Sequence[int]],
                         base_currency: str, features: Sequence[str] = MODEL_FEATURES,
                         since: date | None = None, usage: ir.Table | None = None,
                         sample: int | None = None, seed: int = SEED
                         ) -> dict[tuple[date, int], pa.Table]:
    """`training_rows` as of each day of `days` at each of its leads, keyed (day, lead): each
    day's own decisions (its own sample), the features of every day and lead computed in one
    query, which reads the events once for all of them."""
    decided: dict[date, tuple[pa.Table, int]] = {}
    at: dict[tuple[date, int], pa.Table] = {}
    for day, leads in days.items():
        o = renewal_outcomes(tables, as_of=day, base_currency=base_currency)
        if since is None:
            first = o.filter(o.result == "churned").decision_date.min()
            o = o.filter(o.decision_date >= first)
        else:
            o = o.filter(o.decision_date >= since)
        scores = {n: f"score_date_{n}" for n in leads}
        o = o.mutate(churned=ibis.ifelse(o.result == "churned", 1, 0), **{
            name: (o.period_start - ibis.interval(days=n)).cast(dt.date)
            for n, name in scores.items()})
        decisions = o.select(*(c for c in DECISION_COLUMNS if c != "score_date"),
                             *scores.values()).to_pyarrow()
        total = decisions.num_rows
        decisions = sampled_decisions(decisions, total if sample is None else sample, seed)
        decided[day] = decisions, total
        for n, name in scores.items():
            at[day, n] = decisions.append_column("score_date", decisions[name]).select(
                list(DECISION_COLUMNS))
    points = ibis.memtable(pa.concat_tables([t.select(["account_id", "score_date"])
                                             for t in at.values()]))
    f = feature_table_at(tables, points.select("account_id", as_of=points.score_date),
                         base_currency=base_currency, features=features, usage=usage,
                         stand_ins=False).drop("segment")
    # No decisions (no churn yet, in a young workspace): no features to compute.
    anything = any(total for _, total in decided.values())
    f = f.to_pyarrow() if anything else f.schema().to_pyarrow().empty_table()
    out = {}
    for (day, n), t in at.items():
        # Joined here rather than in the engine: joined back to the decisions there, the
        # feature query was planned far worse (29 s against 11 s at 50,000 decisions).
        j = t.join(f, keys=["account_id", "score_date"], right_keys=["account_id", "as_of"],
                   join_type="left outer")
        j = j.select([*DECISION_COLUMNS, *features]).sort_by([(c, "ascending") for c in ORDER])
        out[day, n] = j.replace_schema_metadata({DECISIONS_KEY: str(decided[day][1])})
    return out


class PastDecisions:
    """The training rows of one day at several leads, computed together on the first request
    of each kind (`training_rows_by_day`), for the models a run trains that day: the churn
    model and the renewal forecast's horizons ask for the same decisions at 30, 60 and 90
    days, and, in a workspace with little history, again from every decision when too few
    are left after the first churn. With `also`, other days' decisions are computed in the
    same query (the window model's alternatives, trained as of the days it is judged on).

    `features`, when given, is every feature the requests may ask for (they may differ by
    day): the rows are computed once with all of them, and each request gets its own.

    A request for another day or a lead not declared gets None, and the model computes its
    own rows.
    """

    def __init__(self, tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                 leads: Sequence[int], usage: ir.Table | None = None,
                 also: Sequence[date] = (), features: Sequence[str] | None = None) -> None:
        self.tables, self.as_of, self.base_currency, self.usage = (
            tables, as_of, base_currency, usage)
        self.days = list(dict.fromkeys([as_of, *also]))
        self.leads = sorted(set(leads))
        self.features = None if features is None else list(dict.fromkeys(features))
        self._rows: dict[tuple[Any, ...], dict[tuple[date, int], pa.Table]] = {}
        self.computed = 0  # how many times rows were computed

    def rows(self, *, as_of: date, days_before: int, features: Sequence[str],
             since: date | None, sample: int | None, seed: int) -> pa.Table | None:
        if as_of not in self.days or days_before not in self.leads:
            return None
        wanted = list(features)
        every = (self.features if self.features is not None
                 and set(wanted) <= set(self.features) else wanted)
        key = (tuple(every), since, sample, seed)
        if key not in self._rows:
            self._rows[key] = training_rows_by_day(
                self.tables, days={d: self.leads for d in self.days},
                base_currency=self.base_currency, features=every, since=since,
                usage=self.usage, sample=sample, seed=seed)
            self.computed += 1
        rows = self._rows[key][as_of, days_before]
        return rows if every == wanted else rows.select([*DECISION_COLUMNS, *wanted])


def decisions_known(rows: pa.Table) -> int:
    """How many decisions `training_rows` chose its rows from (more than it holds when it
    took a sample)."""
    kept = (rows.schema.metadata or {}).get(DECISIONS_KEY.encode())
    return int(kept) if kept is not None else rows.num_rows


def sampled_decisions(decisions: pa.Table, limit: int, seed: int = SEED) -> pa.Table:
    """At most `limit` of `decisions`: all of them when there are no more, else a random
    sample (seeded, so the same decisions give the same sample) that takes the same share of
    the churned and of the other decisions, so the sample's churn rate is the decisions'.
    Ordered as given, by decision date first."""
    decisions = decisions.sort_by([(c, "ascending") for c in ORDER])
    if decisions.num_rows <= limit:
        return decisions
    churned = np.array(decisions["churned"].to_pylist(), dtype=int) == 1
    return decisions.take(pa.array(sample_of(churned, limit, seed)))


def sample_of(positive: np.ndarray, limit: int, seed: int = SEED) -> np.ndarray:
    """Sorted indices of at most `limit` of the rows `positive` (booleans) describes: every
    row when there are no more, else a seeded random sample taking the same share of the
    positive rows and of the others. Every row, too, when that share would leave fewer than
    `MIN_CHURNED` positive rows of more: a sample must not lose what a model needs."""
    taken = int(round(positive.sum() * limit / len(positive))) if len(positive) else 0
    if len(positive) <= limit or taken < min(MIN_CHURNED, positive.sum()):
        return np.arange(len(positive))
    rng = np.random.default_rng(seed)
    keep = [rng.choice(np.flatnonzero(side), n, replace=False)
            for side, n in ((positive, taken), (~positive, limit - taken))]
    return np.sort(np.concatenate(keep))


def matrix(table: pa.Table, features: Sequence[str],
           encodings: Mapping[str, Encoding] | None = None) -> np.ndarray:
    """The feature columns of `table` as a float matrix, NaN where missing; an attribute of
    `encodings` is read through its encoding (a level's code, or its number)."""
    if not features:
        return np.empty((table.num_rows, 0))
    enc = encodings or {}
    return np.column_stack([
        enc[f].codes(table[f].cast(pa.string()).to_pylist()) if f in enc
        else np.array(table[f].to_pylist(), dtype=float) for f in features])


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
                    features: Sequence[str] = MODEL_FEATURES, seed: int = SEED,
                    left_out: Sequence[Mapping[str, str]] = ()) -> ChurnModel:
    """Choose, fit and calibrate the churn model on `training_rows` (see the module).
    `left_out` lists features already left out (absent sources), for the card."""
    with one_thread():
        return _fit(rows, as_of, days_before, list(features), seed, list(left_out))


def usable_features(rows: pa.Table, features: Sequence[str]
                    ) -> tuple[list[str], dict[str, Encoding], list[dict[str, str]]]:
    """The features of `features` that can tell the training `rows` apart, the attributes'
    encodings, and the ones left out with why: no value on any row, one value on every row
    (a stand-in such as zero tickets for everyone), or a refused attribute."""
    encodings, left = choose_encodings(rows, [f for f in features if is_attribute(f)])
    kept = []
    for f in features:
        if is_attribute(f):
            if f in encodings:
                kept.append(f)
            continue
        values = [v for v in rows[f].unique().to_pylist() if v is not None]
        if not values:
            left.append({"feature": f, "reason": "no value on any past decision"})
        elif len(values) == 1:
            left.append({"feature": f, "reason": f"the same value ({values[0]:g}) on every "
                                                 "past decision"})
        else:
            kept.append(f)
    return kept, encodings, left


def _judge(name: str, plan: ValidationPlan, x: np.ndarray, y: np.ndarray, renewed: np.ndarray,
           term: np.ndarray, categorical: list[bool], seed: int) -> tuple[dict[str, Any],
                                                                          np.ndarray]:
    """A candidate's figures on the plan's held-out decisions, and their probabilities."""
    from sklearn.metrics import brier_score_loss

    p = np.full(len(y), np.nan)
    for train, test in plan.folds:
        fitted = calibrated(name, y[train], seed, categorical).fit(x[train], y[train])
        p[test] = fitted.predict_proba(x[test])[:, 1]
    j = plan.judged
    return {"model": name, "auc": _auc(y[j], p[j], renewed[j]),
            "auc_by_term": _auc_by_term(y[j], p[j], renewed[j], term[j]),
            "brier": round(float(brier_score_loss(y[j], p[j])), 4)}, p[j]


def _fit(rows: pa.Table, as_of: date, days_before: int, features: list[str],
         seed: int, left_out: list[dict[str, str]]) -> ChurnModel:
    y = np.array(rows["churned"].to_pylist(), dtype=int)
    if len(y) < MIN_DECISIONS or y.sum() < MIN_CHURNED or y.sum() == len(y):
        raise NotEnoughHistory(
            f"{len(y)} renewal decisions with {int(y.sum())} churned known by {as_of}; the "
            f"churn model needs at least {MIN_DECISIONS} decisions and {MIN_CHURNED} churns")
    features, encodings, refused = usable_features(rows, features)
    left_out = [*left_out, *refused]
    if not features:
        raise NotEnoughHistory("no candidate feature tells the past renewals apart: "
                               + "; ".join(f"{r['feature']}: {r['reason']}" for r in left_out))
    x = matrix(rows, features, encodings)
    categorical = _categorical(features, encodings)
    dates = np.array(rows["decision_date"].to_pylist(), dtype=object)
    renewed = np.array(rows["result"].to_pylist(), dtype=object) == "renewed"
    term = np.array(rows["term"].to_pylist(), dtype=object)
    accounts = np.array(rows["account_id"].to_pylist(), dtype=object)
    plan = validation_plan(dates, y, accounts, seed)
    candidates, best, shown = [], "logistic", None
    j = plan.judged
    if plan.folds:
        for name in ("logistic", "boosted"):
            try:
                figures, p = _judge(name, plan, x, y, renewed, term, categorical, seed)
            except ValueError as exc:
                # A fold too small for the candidate (e.g. a feature with no value in its
                # training part, which the boosted model cannot bin): it is not chosen.
                candidates.append({"model": name, "auc": None, "refused": str(exc)})
                continue
            candidates.append(figures)
            if shown is None or (figures["auc"] or 0) > (shown["auc"] or 0):
                best, shown = name, {**figures, "calibration": calibration_table(y[j], p)}
    estimator = calibrated(best, y, seed, categorical).fit(x, y)
    explainer = candidate(best, len(y), seed, categorical).fit(x, y)
    with np.errstate(all="ignore"):
        medians = np.array([_mode(c) if cat else np.nanmedian(c) if (~np.isnan(c)).any()
                            else np.nan for c, cat in zip(x.T, categorical, strict=True)])
    version = as_of.isoformat()
    model = ChurnModel(best, version, as_of, days_before, features, estimator, explainer,
                       medians, {"training": {"rows": len(y)}}, rows, encodings)
    sample = x[np.linspace(0, len(x) - 1, min(len(x), IMPORTANCE_ROWS)).astype(int)]
    weight = np.abs(model.contributions(sample)).mean(axis=0)
    method = getattr(estimator, "method", "none")
    model.card = {
        "name": best, "version": version, "as_of": as_of.isoformat(),
        "days_before": days_before, "features": features, "calibration_method": method,
        "probability_floor": round(model.floor, 6),
        "training": {"rows": len(y), "churned": int(y.sum()),
                     "base_rate": round(float(y.mean()), 4),
                     "first_decision": str(min(dates)), "last_decision": str(max(dates)),
                     "by_term": _by_term(y, term)},
        "validation": None if shown is None else {
            "method": plan.method, "note": plan.note,
            "from": str(plan.split or min(dates[j])), "to": str(max(dates[j])),
            "train_rows": int(len(y) - len(j) if plan.method == TIME_SPLIT
                              else round(len(y) * (1 - 1 / len(plan.folds)))),
            "rows": int(len(j)), "churned": int(y[j].sum()),
            "base_rate": round(float(y[j].mean()), 4), **shown},
        "validation_note": plan.note,
        "candidates": candidates,
        "attributes": {f: {"kind": e.kind, "levels": list(e.levels)}
                       for f, e in encodings.items()},
        "left_out": left_out,
        "importance": sorted(({"feature": f, "weight": round(float(w), 4)}
                              for f, w in zip(features, weight, strict=True)),
                             key=lambda r: -r["weight"]),
    }
    return model


def _mode(codes: np.ndarray) -> float:
    """The most frequent level code (NaN when all are missing), the boosted model's
    reference level for a categorical attribute."""
    seen = codes[~np.isnan(codes)]
    if not seen.size:
        return np.nan
    values, counts = np.unique(seen, return_counts=True)
    return float(values[np.argmax(counts)])


def model_features(tables: Mapping[str, ir.Table], *, as_of: date,
                   attributes: Sequence[str] | None = None
                   ) -> tuple[list[str], list[dict[str, str]]]:
    """The candidate features of a model trained as of `as_of`: the registered ones whose
    sources the company has (`quarterdeck.health.source_coverage`) and the account
    attributes (`attributes`: column names, or None for every one the tables give); and
    the features left out for an absent source, with why."""
    left = left_out_features(MODEL_FEATURES, absent_sources(tables, as_of=as_of))
    gone = {r["feature"] for r in left}
    offered = candidate_attributes(tables)
    if attributes is not None:
        wanted = {a if is_attribute(a) else PREFIX + a for a in attributes}
        unknown = wanted - set(offered)
        if unknown:
            raise ValueError(f"unknown account attributes {sorted(unknown)}; the data has "
                             f"{sorted(offered)}")
        offered = [a for a in offered if a in wanted]
    return [*(f for f in MODEL_FEATURES if f not in gone), *offered], left


def train_churn_model(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                      days_before: int = DAYS_BEFORE, since: date | None = None,
                      usage: ir.Table | None = None, seed: int = SEED,
                      attributes: Sequence[str] | None = None,
                      open_at_score: bool = False,
                      sample: int | None = TRAINING_SAMPLE,
                      past: PastDecisions | None = None) -> ChurnModel:
    """Learn the churn model from the decisions known by `as_of` (see the module);
    `attributes` limits the account attributes it may use (None: every one);
    `open_at_score` learns only from decisions whose cancellation was not yet known on their
    score date (the renewal forecast's models); `sample` bounds the decisions it learns from
    (`sampled_decisions`; None: every one); `past` shares the day's training rows with the
    run's other models.

    Raises NotEnoughHistory when there are too few. Example: train_churn_model(tables,
    as_of=date(2026, 9, 30), base_currency="USD").card["validation"]["auc"].
    """
    features, left = model_features(tables, as_of=as_of, attributes=attributes)
    rows = None if past is None else past.rows(
        as_of=as_of, days_before=days_before, features=features, since=since, sample=sample,
        seed=seed)
    if rows is None:
        rows = training_rows(tables, as_of=as_of, base_currency=base_currency,
                             days_before=days_before, since=since, usage=usage,
                             features=features, sample=sample, seed=seed)
    known, taken = decisions_known(rows), rows.num_rows
    announced = known_by_score_date(rows) if open_at_score else np.zeros(rows.num_rows, bool)
    if announced.any():
        rows = rows.filter(pa.array(~announced))
    try:
        model = fit_churn_model(rows, as_of=as_of, days_before=days_before, seed=seed,
                                features=features, left_out=left)
    except NotEnoughHistory as exc:
        again = {"tables": tables, "as_of": as_of, "base_currency": base_currency,
                 "days_before": days_before, "usage": usage, "seed": seed,
                 "attributes": attributes, "sample": sample, "past": past}
        if since is None:
            # From the first churn on, too little is left: learn from every decision after all.
            return train_churn_model(**again, since=date.min, open_at_score=open_at_score)
        if not open_at_score:
            raise
        # Nearly every churn was announced before its score date: too few open ones to learn
        # from. Every decision teaches it then, and the card says so.
        model = train_churn_model(**again, since=since)
        model.card["open_at_score_refused"] = (
            f"{int(announced.sum())} of the churns were known by their score date; the "
            f"decisions still open then are too few to learn from ({exc})")
        return model
    if since is None:
        model.card["training"]["starts"] = FROM_FIRST_CHURN
    if known > taken:
        model.card["training"]["sample"] = (
            f"a random sample of {taken:,} of the {known:,} "
            "decisions known, churned and other decisions in the same share: more adds "
            "nothing measurable to the model (docs/churn-model.md)")
        model.card["training"]["decisions_known"] = known
    # What the workspace asked for, so a model kept for reuse is known to match the setting.
    model.card["attribute_setting"] = None if attributes is None else sorted(attributes)
    model.card["open_at_score"] = open_at_score
    if open_at_score:
        model.card["training"]["left_out_known_cancellations"] = int(announced.sum())
    return model
