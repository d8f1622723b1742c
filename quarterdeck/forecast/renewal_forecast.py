"""`renewal_forecast`: each upcoming renewal decision with its probability of renewing and the
ARR it is expected to bring back.

- p_renew, the probability that the decision renews if it is reached: 1 − the churn model's
  probability for the account as of `as_of`, from the model trained `h` days before its
  decisions (`horizon_models`): the smallest `h` of `HORIZONS` (30, 60, 90) at or beyond the
  decision's days out, the longest beyond them. Each learns only from past decisions still
  open on their score date (`open_at_score`), as the decisions it scores are. A model learnt
  from features 90 days ahead of the outcome is the calibrated one for a decision 90 days
  away; a 30-day model would read today's healthier-looking features as less risk. 0 when
  the cancellation is already known;
  an account the model cannot score (no paying row on `as_of`) takes the churn rate of its
  kind of decision in training.
- p_reached: the probability that the decision happens at all, the product of p_renew of the
  account's earlier decisions in the horizon (a monthly account that churns in October faces
  no November decision). 1 for the next decision.
- expected_arr = arr_at_stake × p_reached × p_renew: the ARR expected to renew at its value at
  stake. `gross_factor` and `net_factor` are what a renewing decision of its kind (contract,
  monthly) kept of its ARR over the past year (`renewal_amounts`): Σ min(ARR after, ARR at
  stake) / Σ ARR at stake and Σ ARR after / Σ ARR at stake over the renewed and contracted
  decisions known by `as_of`, so expected gross and net renewal rates account for
  contraction and expansion at renewal.
- category and note: the CSM's call on the renewal (commit, best_case, at_risk,
  churn_expected), given as a table keyed by renewal_id.

Example: renewal_forecast(tables, as_of=date(2026, 9, 30), base_currency="USD",
horizon_days=90).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from quarterdeck.forecast.renewal_decisions import upcoming_decisions
from quarterdeck.health.churn_model import ChurnModel, train_churn_model
from quarterdeck.health.churn_risk import DayScoring, scoring_rows
from quarterdeck.health.renewal_outcomes import renewal_outcomes

HORIZONS = (30, 60, 90)
AMOUNT_LOOKBACK_DAYS = 365
CATEGORIES = ("commit", "best_case", "at_risk", "churn_expected")
PUBLISHED_HORIZON_DAYS = 180
DECIMALS = 6


def model_horizon(days_out: int, horizons: Sequence[int] = HORIZONS) -> int:
    """The model horizon that scores a decision `days_out` days away: the smallest at or
    beyond it, else the longest. Example: model_horizon(45) → 60; model_horizon(200) → 90."""
    for h in sorted(horizons):
        if days_out <= h:
            return h
    return max(horizons)


def horizon_models(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                   horizons: Sequence[int] = HORIZONS,
                   given: Mapping[int, ChurnModel] | None = None, usage: ir.Table | None = None,
                   attributes: Sequence[str] | None = None) -> dict[int, ChurnModel]:
    """A churn model per horizon (days before the decision its features are read), trained as
    of `as_of` on the decisions open on their score date unless `given`; a given model must
    not be trained after `as_of`."""
    out = dict(given or {})
    for h, m in out.items():
        if m.as_of > as_of:
            raise ValueError(f"the {h}-day model trained as of {m.as_of} would look ahead "
                             f"of {as_of}")
    for h in horizons:
        if h not in out:
            out[h] = train_churn_model(tables, as_of=as_of, base_currency=base_currency,
                                       days_before=h, usage=usage, attributes=attributes,
                                       open_at_score=True)
    return out


def renewal_amounts(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                    lookback_days: int = AMOUNT_LOOKBACK_DAYS) -> dict[str, tuple[float, float]]:
    """Per kind of decision (contract, monthly), the (gross, net) share of ARR at stake that
    renewing decisions decided in the `lookback_days` before `as_of` kept; (1, 1) with none.
    Example: {"contract": (0.93, 1.04), "monthly": (0.99, 1.01)}."""
    o = renewal_outcomes(tables, as_of=as_of, base_currency=base_currency)
    o = o.filter((o.result != "churned")
                 & (o.decision_date > as_of - timedelta(days=lookback_days)))
    kept = ibis.least(o.arr_after, o.arr_at_stake)
    g = o.group_by("term").agg(stake=o.arr_at_stake.sum(), kept=kept.sum(),
                               after=o.arr_after.sum()).to_pyarrow().to_pylist()
    out = {"contract": (1.0, 1.0), "monthly": (1.0, 1.0)}
    for r in g:
        if r["stake"]:
            out[r["term"]] = (float(r["kept"] / r["stake"]), float(r["after"] / r["stake"]))
    return out


def _fallback_renew(model: ChurnModel, term: str) -> float:
    """1 − the churn rate of `term` decisions the model was trained on."""
    training = model.card.get("training", {})
    seen = training.get("by_term", {}).get(term)
    rate = seen["churned"] / seen["rows"] if seen and seen["rows"] else training.get(
        "base_rate", 0.0)
    return 1.0 - float(rate)


def reached(accounts: Sequence[str], p_renew: np.ndarray) -> np.ndarray:
    """Per decision (ordered by date within each account), the product of p_renew of the
    account's earlier decisions: the chance the decision happens at all."""
    out, running = np.ones(len(accounts)), {}
    for i, a in enumerate(accounts):
        out[i] = running.get(a, 1.0)
        running[a] = out[i] * p_renew[i]
    return out


def renewal_forecast(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                     horizon_days: int, models: Mapping[int, ChurnModel] | None = None,
                     categories: pa.Table | None = None, usage: ir.Table | None = None,
                     attributes: Sequence[str] | None = None,
                     scoring: DayScoring | None = None) -> pa.Table:
    """Every renewal decision in (as_of, as_of + horizon_days] with p_renew, p_reached and
    expected ARR (see the module). `models` maps a horizon in days to a churn model trained on
    or before `as_of` (missing ones are trained); `categories` has renewal_id, category, note;
    `scoring` shares the day's scoring rows with the other models of a run (`DayScoring`).

    Columns: those of `upcoming_decisions`, then p_renew, p_reached, expected_arr,
    gross_factor, net_factor, model, model_days_before, model_as_of, category, note.
    """
    d = upcoming_decisions(tables, as_of=as_of, base_currency=base_currency,
                           horizon_days=horizon_days).to_pyarrow()
    days = d["days_out"].to_pylist()
    needed = sorted({model_horizon(n) for n in days}) or [HORIZONS[0]]
    given = {h: m for h, m in (models or {}).items() if h in needed}
    models = horizon_models(tables, as_of=as_of, base_currency=base_currency, horizons=needed,
                            given=given, usage=usage, attributes=attributes)
    accounts = d["account_id"].to_pylist()
    terms = d["term"].to_pylist()
    features = sorted({f for m in models.values() for f in m.features})
    rows = (scoring_rows(tables, as_of=as_of, base_currency=base_currency, features=features,
                         accounts=sorted(set(accounts)), usage=usage) if scoring is None
            else scoring.rows(features, accounts))
    index = {a: i for i, a in enumerate(rows["account_id"].to_pylist())}
    churn = {h: m.probability(m.matrix(rows)) if rows.num_rows else np.empty(0)
             for h, m in models.items()}
    chosen = [model_horizon(n, needed) for n in days]
    p_renew = np.array([
        1.0 - float(churn[h][index[a]]) if a in index else _fallback_renew(models[h], t)
        for a, t, h in zip(accounts, terms, chosen, strict=True)])
    p_renew[np.array(d["cancellation_known"].to_pylist(), dtype=bool)] = 0.0
    # Stated to six decimals, and expected ARR computed from the stated figures, so
    # arr_at_stake × p_reached × p_renew of any exported row gives its expected ARR to the cent.
    p_renew = np.round(p_renew, DECIMALS)
    order = np.lexsort((np.array(d["decision_number"].to_pylist()), np.array(accounts)))
    p_reached = np.ones(len(accounts))
    p_reached[order] = np.round(reached([accounts[i] for i in order], p_renew[order]), DECIMALS)
    arr = np.array([float(v) for v in d["arr_at_stake"].to_pylist()])
    expected = arr * p_reached * p_renew
    amounts = renewal_amounts(tables, as_of=as_of, base_currency=base_currency)
    calls = _calls(categories)
    ids = d["renewal_id"].to_pylist()
    return d.append_column("p_renew", pa.array(p_renew)).append_column(
        "p_reached", pa.array(p_reached)).append_column(
        "expected_arr", pa.array([Decimal(f"{v:.2f}") for v in expected],
                                 pa.decimal128(38, 2))).append_column(
        "gross_factor", pa.array([round(amounts[t][0], 4) for t in terms],
                                 pa.float64())).append_column(
        "net_factor", pa.array([round(amounts[t][1], 4) for t in terms],
                               pa.float64())).append_column(
        "model", pa.array([models[h].name for h in chosen], pa.string())).append_column(
        "model_days_before", pa.array(chosen, pa.int32())).append_column(
        "model_as_of", pa.array([models[h].as_of for h in chosen], pa.date32())).append_column(
        "category", pa.array([calls.get(i, (None, None))[0] for i in ids],
                             pa.string())).append_column(
        "note", pa.array([calls.get(i, (None, None))[1] for i in ids], pa.string()))


def _calls(categories: pa.Table | None) -> dict[str, tuple[str | None, str | None]]:
    if categories is None or not categories.num_rows:
        return {}
    notes = (categories["note"].to_pylist() if "note" in categories.column_names
             else [None] * categories.num_rows)
    return {r: (c, n) for r, c, n in zip(categories["renewal_id"].to_pylist(),
                                         categories["category"].to_pylist(), notes,
                                         strict=True)}
