"""`churn_risk`: each paying account's probability of churning at its next renewal decision,
with the reasons in words.

- Accounts: those paying on T (MRR > 0, `paying_accounts`), their features as of T.
- churn_probability: the churn model's calibrated probability (see
  `quarterdeck.health.churn_model`), trained on the decisions known by T unless a model trained
  on or before T is given.
- horizon: the date of the decision the probability is about, as `renewal_outcomes` dates
  decisions: the next term end, the earliest end or term boundary of the account's running
  rows after T (`days_to_renewal`): a contract's next renewal, a monthly account's next
  monthly term end.
- reasons: the (up to) three features pushing the account's risk up the most, by the model's
  per-account contributions (`ChurnModel.contributions`: coefficient × standardised deviation
  for the logistic model; the change in probability when the feature is set to its median for
  the boosted one), each phrased from its value by the feature ("usage down 45% in 30 days"); a
  missing value reads "no data: <feature>".

Example: churn_risk(tables, as_of=date(2026, 9, 30), base_currency="USD") → account_id, as_of,
churn_probability, horizon, reason_1 … reason_3, reasons, model, model_version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from quarterdeck.health.churn_model import (
    DAYS_BEFORE,
    ChurnModel,
    matrix,
    train_churn_model,
    training_rows,
)
from quarterdeck.health.feature_table import feature_table_at, paying_accounts, points_for
from quarterdeck.health.features import FEATURES

TOP_REASONS = 3


def _phrases(account_ids: list[str], features: list[str], values: list[float | None],
             ranks: list[int]) -> pa.Table:
    """Each (account, feature, value) reason in words, phrased by its feature in Ibis."""
    long = ibis.memtable(pa.table({
        "account_id": pa.array(account_ids, pa.string()), "rank": pa.array(ranks, pa.int64()),
        "feature": pa.array(features, pa.string()), "value": pa.array(values, pa.float64())}))
    used = sorted(set(features))
    text = ibis.cases(*[(long.feature == n, FEATURES[n].phrase(long.value)) for n in used],
                      else_=ibis.null(dt.string)) if used else ibis.null(dt.string)
    text = ibis.coalesce(text, "no data: " + long.feature)
    return long.mutate(reason=text).to_pyarrow()


def reasons_in_words(model: ChurnModel, account_ids: list[str], x: np.ndarray,
                     k: int = TOP_REASONS) -> list[list[str]]:
    """Per account, up to `k` reasons: the features with the largest positive contribution."""
    contributions = model.contributions(x) if len(x) else np.empty((0, len(model.features)))
    ids, names, values, ranks = [], [], [], []
    for i, row in enumerate(contributions):
        order = np.argsort(-row, kind="stable")[:k]
        for rank, j in enumerate(order, start=1):
            if row[j] > 0:
                value = x[i, j]
                ids.append(account_ids[i])
                names.append(model.features[j])
                values.append(None if np.isnan(value) else float(value))
                ranks.append(rank)
    out: dict[str, list[str]] = {a: [] for a in account_ids}
    if ids:
        phrased = _phrases(ids, names, values, ranks).sort_by([("account_id", "ascending"),
                                                              ("rank", "ascending")])
        for a, r in zip(phrased["account_id"].to_pylist(), phrased["reason"].to_pylist(),
                        strict=True):
            out[a].append(r)
    return [out[a] for a in account_ids]


def scoring_rows(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                 features: Sequence[str], accounts: Sequence[str] | None = None,
                 usage: ir.Table | None = None) -> pa.Table:
    """The accounts paying on `as_of` (or only `accounts`) with `features` and
    days_to_renewal as of `as_of`, ordered by account_id."""
    paying = paying_accounts(tables, as_of=as_of, base_currency=base_currency)
    if accounts is not None:
        paying = paying.filter(paying.account_id.isin(list(accounts)))
    wanted = list(dict.fromkeys([*features, "days_to_renewal"]))
    f = feature_table_at(tables, points_for(paying, [as_of]), base_currency=base_currency,
                         features=wanted, usage=usage)
    return f.order_by("account_id").to_pyarrow()


def churn_risk(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
               model: ChurnModel | None = None, accounts: Sequence[str] | None = None,
               usage: ir.Table | None = None) -> pa.Table:
    """The churn risk of every account paying on `as_of` (see the module), one row each.

    Trains the model as of `as_of` when none is given (NotEnoughHistory when it cannot);
    a given model must have been trained on or before `as_of`.
    Example: churn_risk(tables, as_of=date(2026, 9, 30), base_currency="USD").
    """
    if model is None:
        model = train_churn_model(tables, as_of=as_of, base_currency=base_currency, usage=usage)
    if model.as_of > as_of:
        raise ValueError(f"a model trained as of {model.as_of} would look ahead of {as_of}")
    rows = scoring_rows(tables, as_of=as_of, base_currency=base_currency,
                        features=model.features, accounts=accounts, usage=usage)
    ids = rows["account_id"].to_pylist()
    x = matrix(rows, model.features)
    probability = model.probability(x) if len(ids) else np.empty(0)
    reasons = reasons_in_words(model, ids, x)
    horizon = [None if d is None else as_of + timedelta(days=d)
               for d in rows["days_to_renewal"].to_pylist()]
    padded = [r + [None] * (TOP_REASONS - len(r)) for r in reasons]
    return pa.table({
        "account_id": pa.array(ids, pa.string()),
        "as_of": pa.array([as_of] * len(ids), pa.date32()),
        "churn_probability": pa.array(np.round(probability, 4), pa.float64()),
        "horizon": pa.array(horizon, pa.date32()),
        **{f"reason_{i + 1}": pa.array([p[i] for p in padded], pa.string())
           for i in range(TOP_REASONS)},
        "reasons": pa.array(["; ".join(r) or None for r in reasons], pa.string()),
        "model": pa.array([model.name] * len(ids), pa.string()),
        "model_version": pa.array([model.version] * len(ids), pa.string()),
    })


def backtest_churn_risk(tables: Mapping[str, ir.Table], *, base_currency: str, start: date,
                        end: date, as_of: date, days_before: int = DAYS_BEFORE,
                        retrain_days: int = 91) -> pa.Table:
    """What churn_risk would have said before each renewal decision dated in [start, end]
    (outcomes as known at `as_of`): each decision scored at score_date = period_start −
    `days_before` by a model trained as of the latest retraining date on or before it
    (every `retrain_days` from the first score date), so no model sees its own outcomes.

    Columns: those of `training_rows`, churn_probability and model_as_of.
    Example: backtest_churn_risk(tables, base_currency="USD", start=date(2025, 9, 24),
    end=date(2026, 9, 23), as_of=date(2026, 9, 30)).
    """
    rows = training_rows(tables, as_of=as_of, base_currency=base_currency,
                         days_before=days_before, since=start)
    dates = np.array(rows["decision_date"].to_pylist(), dtype=object)
    rows = rows.filter(pa.array(dates <= end))
    scored = np.array(rows["score_date"].to_pylist(), dtype=object)
    probability, trained = np.full(len(scored), np.nan), np.empty(len(scored), dtype=object)
    first = min(scored, default=start)
    for k in range(0, (max(scored, default=first) - first).days // retrain_days + 1):
        since = first + timedelta(days=k * retrain_days)
        pick = (scored >= since) & (scored < since + timedelta(days=retrain_days))
        if pick.any():
            model = train_churn_model(tables, as_of=since, base_currency=base_currency,
                                      days_before=days_before)
            probability[pick] = model.probability(matrix(rows.filter(pa.array(pick)),
                                                         model.features))
            trained[pick] = since
    return rows.append_column("churn_probability", pa.array(probability)).append_column(
        "model_as_of", pa.array(list(trained), pa.date32()))


def backtest_auc(backtest: pa.Table) -> dict[str, float | None]:
    """AUC (churned vs renewed, contracted left out) of a `backtest_churn_risk` result over
    all its decisions, the contract renewals and the monthly terms.

    Example: backtest_auc(backtest_churn_risk(...)) → {"all": 0.83, "contract": 0.92,
    "monthly": 0.75}.
    """
    from quarterdeck.health.validation import auc

    result = np.array(backtest["result"].to_pylist(), dtype=object)
    term = np.array(backtest["term"].to_pylist(), dtype=object)
    p = np.array(backtest["churn_probability"].to_pylist(), dtype=float)
    pick = np.isin(result, ["churned", "renewed"]) & ~np.isnan(p)
    groups = {"all": pick, **{t: pick & (term == t) for t in ("contract", "monthly")}}
    return {name: auc((result[m] == "churned").astype(int), p[m]) if m.any() else None
            for name, m in groups.items()}
