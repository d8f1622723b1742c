"""`churn_risk`: each paying account's probability of churning at its next renewal decision
and within a window (90 days by default), with the reasons in words.

- Accounts: those paying on T (MRR > 0, `paying_accounts`), their features as of T.
- churn_probability: the churn model's calibrated probability that the next decision is a
  churn (see `quarterdeck.health.churn_model`), trained on the decisions known by T unless a
  model trained on or before T is given; never closer to 0 or 1 than the model's floor
  (max(0.001, 0.5 / training decisions)).
- horizon: the date of that decision, as `renewal_outcomes` dates decisions: the next term
  end, the earliest end or term boundary of the account's running rows after T
  (`days_to_renewal`): a contract's next renewal, a monthly account's next monthly term end.
- churn_probability_window: the probability of churning at any decision in (T, T + window]:
  1 − (1 − p)^n for the n decisions the account faces in it (the next one, then one per
  term), each at the same probability p; the floor when it faces none. A monthly account
  renewing in 10 days faces 3 decisions in 90 days, an annual one renewing in 200 days none,
  so a list sorted by it puts near renewals first. `decisions_in_window` is n.
- reasons: for an account whose probability is at or above the churn rate of its kind of
  decision in training (`reasons_direction` = raises), the (up to) three features pushing
  its risk up the most; below it (`lowers`), the three pushing it down the most: why it is
  low. Contributions are the model's per-account ones (`ChurnModel.contributions`). Each is
  phrased from its value ("usage down 45% in 30 days", "ARR $439,714", "payment method:
  electronic check raises the risk"); a missing value reads "no data on <feature>".

Example: churn_risk(tables, as_of=date(2026, 9, 30), base_currency="USD") → account_id, as_of,
churn_probability, horizon, churn_probability_window, window_days, decisions_in_window,
reason_1 … reason_3, reasons, reasons_direction, model, model_version.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from quarterdeck.health.account_attributes import label
from quarterdeck.health.churn_model import (
    DAYS_BEFORE,
    ChurnModel,
    model_features,
    train_churn_model,
    training_rows,
)
from quarterdeck.health.feature_table import (
    DayUsage,
    feature_table_at,
    paying_accounts,
    points_for,
)
from quarterdeck.health.features import FEATURES, Feature
from quarterdeck.health.window_model import NoWindowModel, WindowModel, train_window_model

TOP_REASONS = 3
WINDOW_DAYS = 90
RAISES, LOWERS = "raises", "lowers"
MONEY_FEATURES = ("arr",)
CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def money(value: float, currency: str) -> str:
    """An amount in words: money(439714.4, "USD") → "$439,714"; other currencies by code."""
    sign = CURRENCY_SIGNS.get(currency)
    amount = f"{abs(value):,.0f}"
    text = f"{sign}{amount}" if sign else f"{amount} {currency}"
    return f"-{text}" if value < 0 else text


def _phrases(account_ids: list[str], features: list[str], values: list[float | None],
             ranks: list[int], seen: list[bool] | None = None) -> pa.Table:
    """Each (account, feature, value) reason in words, phrased by its feature in Ibis; a
    stand-in value (`seen` false) in the feature's words for one (`unobserved_phrase`)."""
    long = ibis.memtable(pa.table({
        "account_id": pa.array(account_ids, pa.string()), "rank": pa.array(ranks, pa.int64()),
        "feature": pa.array(features, pa.string()), "value": pa.array(values, pa.float64()),
        "seen": pa.array(seen if seen is not None else [True] * len(features), pa.bool_())}))
    used = sorted(set(features))

    def words(f: Feature) -> ir.StringValue:
        if f.unobserved_phrase is None:
            return f.phrase(long.value)
        return ibis.ifelse(long.seen, f.phrase(long.value), f.unobserved_phrase(long.value))

    text = ibis.cases(*[(long.feature == n, words(FEATURES[n])) for n in used],
                      else_=ibis.null(dt.string)) if used else ibis.null(dt.string)
    text = ibis.coalesce(text, "no data on " + long.feature.replace("_", " "))
    return long.mutate(reason=text).to_pyarrow()


def _attribute_phrase(model: ChurnModel, name: str, code: float, direction: str) -> str:
    encoding = model.encodings[name]
    if np.isnan(code):
        value = "not recorded"
    elif encoding.kind == "categorical":
        value = str(encoding.level(code))
    else:
        value = f"{code:,.2f}".rstrip("0").rstrip(".")
    return f"{label(name)}: {value} {direction} the risk"


def _direction(probability: float, term_months: float | None, card: Mapping[str, Any]) -> str:
    """`lowers` when the probability is below the churn rate of the account's kind of
    decision in training (monthly term ends or contract renewals), else `raises`."""
    training = card.get("training", {})
    kind = "monthly" if term_months == 1 else "contract"
    seen = training.get("by_term", {}).get(kind)
    rate = seen["churned"] / seen["rows"] if seen and seen["rows"] else training.get(
        "base_rate", 0.0)
    return LOWERS if probability < rate else RAISES


def reasons_in_words(model: ChurnModel, account_ids: list[str], x: np.ndarray,
                     k: int = TOP_REASONS, directions: Sequence[str] | None = None,
                     base_currency: str = "USD",
                     observed: Mapping[str, Sequence[bool]] | None = None) -> list[list[str]]:
    """Per account, up to `k` reasons: the features with the largest positive contribution
    (or, where `directions` says `lowers`, the largest negative one: why the risk is low).
    `observed` gives, per feature with a stand-in, whether each account's value is its own."""
    contributions = model.contributions(x) if len(x) else np.empty((0, len(model.features)))
    ids, names, values, ranks, seen = [], [], [], [], []
    out: dict[str, list[tuple[int, str]]] = {a: [] for a in account_ids}
    for i, row in enumerate(contributions):
        sign = -1.0 if directions is not None and directions[i] == LOWERS else 1.0
        order = np.argsort(-sign * row, kind="stable")[:k]
        for rank, j in enumerate(order, start=1):
            if sign * row[j] <= 0:
                continue
            name, value = model.features[j], x[i, j]
            if name in getattr(model, "encodings", {}):
                word = RAISES if sign > 0 else LOWERS
                out[account_ids[i]].append((rank, _attribute_phrase(model, name, value, word)))
            elif name in MONEY_FEATURES and not np.isnan(value):
                what = FEATURES[name].name.upper()
                out[account_ids[i]].append((rank, f"{what} {money(value, base_currency)}"))
            else:
                ids.append(account_ids[i])
                names.append(name)
                values.append(None if np.isnan(value) else float(value))
                ranks.append(rank)
                flags = (observed or {}).get(name)
                seen.append(True if flags is None else bool(flags[i]))
    if ids:
        phrased = _phrases(ids, names, values, ranks, seen)
        for a, rank, r in zip(phrased["account_id"].to_pylist(), phrased["rank"].to_pylist(),
                              phrased["reason"].to_pylist(), strict=True):
            out[a].append((rank, r))
    return [[r for _, r in sorted(out[a])] for a in account_ids]


def scoring_rows(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                 features: Sequence[str], accounts: Sequence[str] | None = None,
                 usage: ir.Table | None = None, known: DayUsage | None = None) -> pa.Table:
    """The accounts paying on `as_of` (or only `accounts`) with `features`,
    days_to_renewal and term_months as of `as_of`, and `observed_<feature>` for the features
    that can hold a stand-in, ordered by account_id. `known`: the run's usage facts."""
    paying = paying_accounts(tables, as_of=as_of, base_currency=base_currency)
    if accounts is not None:
        paying = paying.filter(paying.account_id.isin(list(accounts)))
    wanted = list(dict.fromkeys([*features, "days_to_renewal", "term_months"]))
    f = feature_table_at(tables, points_for(paying, [as_of]), base_currency=base_currency,
                         features=wanted, usage=usage, observed=True, stand_ins=False,
                         usage_facts=None if known is None else known.facts_for([as_of]))
    return f.order_by("account_id").to_pyarrow()


def rows_for(rows: pa.Table, features: Sequence[str],
             accounts: Sequence[str] | None = None) -> pa.Table:
    """The rows of `accounts` (all when None) of `rows`, scoring rows computed beforehand for
    at least those accounts and `features`: what `scoring_rows` gives for them."""
    missing = [f for f in [*features, "days_to_renewal", "term_months"]
               if f not in rows.column_names]
    if missing:
        raise ValueError(f"the scoring rows given lack {', '.join(missing)}")
    if accounts is None:
        return rows
    return rows.filter(pc.is_in(rows["account_id"],
                                value_set=pa.array(sorted(set(accounts)), pa.string())))


class DayScoring:
    """The scoring rows of one day, computed once for every model that scores it (the churn
    model, the window model, the forecast's horizon models).

    The first request computes them for every account paying on `as_of` with the features it
    asks for and those declared up front; a later request for a feature outside them computes
    them again, so a request is always answered as `scoring_rows` would answer it.
    """

    def __init__(self, tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                 usage: ir.Table | None = None, features: Sequence[str] = (),
                 known: DayUsage | None = None) -> None:
        self.tables, self.as_of, self.base_currency, self.usage = (
            tables, as_of, base_currency, usage)
        self.known = known
        self.features = list(features)
        self._rows: pa.Table | None = None
        self.computed = 0  # how many times the rows were computed

    def rows(self, features: Sequence[str], accounts: Sequence[str] | None = None
             ) -> pa.Table:
        if self._rows is None or any(f not in self._rows.column_names for f in features):
            self.features = list(dict.fromkeys([*self.features, *features]))
            self._rows = scoring_rows(self.tables, as_of=self.as_of,
                                      base_currency=self.base_currency,
                                      features=self.features, usage=self.usage,
                                      known=self.known)
            self.computed += 1
        return rows_for(self._rows, features, accounts)


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def decisions_within(horizon: date | None, term_months: int | None, as_of: date,
                     window_days: int) -> int:
    """How many renewal decisions fall in (as_of, as_of + window_days]: the next one on
    `horizon`, then one every `term_months` months. Example: a monthly account whose term
    ends in 10 days faces 3 decisions in 90 days; an annual one renewing in 200 days, none."""
    if horizon is None:
        return 0
    last, n, step = as_of + timedelta(days=window_days), 0, max(int(term_months or 12), 1)
    while horizon <= last:
        n += 1
        horizon = _add_months(horizon, step)
    return n


def window_probability(p: np.ndarray, decisions: np.ndarray, floor: float) -> np.ndarray:
    """The probability of churning at one of `decisions` decisions, each with probability
    `p`: 1 − (1 − p)^decisions, kept within [floor, 1 − floor]."""
    return np.clip(1 - (1 - p) ** decisions, floor, 1 - floor)


def next_decisions(model: ChurnModel, rows: pa.Table, x: np.ndarray | None = None, *,
                   as_of: date, window_days: int
                   ) -> tuple[np.ndarray, list[date | None], np.ndarray]:
    """Per row of `rows` (features as of `as_of`, with days_to_renewal and term_months): the
    model's churn probability at the next decision, that decision's date (the horizon) and
    how many decisions fall within `window_days`. `x`: the model's matrix of `rows`, when
    already made."""
    x = model.matrix(rows) if x is None else x
    probability = model.probability(x) if rows.num_rows else np.empty(0)
    horizon = [None if d is None else as_of + timedelta(days=d)
               for d in rows["days_to_renewal"].to_pylist()]
    decisions = np.array([decisions_within(h, t, as_of, window_days) for h, t in zip(
        horizon, rows["term_months"].to_pylist(), strict=True)], dtype=float)
    return probability, horizon, decisions


def churn_risk(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
               model: ChurnModel | None = None, accounts: Sequence[str] | None = None,
               usage: ir.Table | None = None, window_days: int = WINDOW_DAYS,
               attributes: Sequence[str] | None = None,
               window_model: WindowModel | None = None,
               scoring: DayScoring | None = None) -> pa.Table:
    """The churn risk of every account paying on `as_of` (see the module), one row each.

    Trains the model as of `as_of` when none is given (NotEnoughHistory when it cannot;
    `attributes` as for `train_churn_model`), and then the window model too (when the history
    allows one); a given model must have been trained on or before `as_of`. The probability
    within the window is the window model's when there is one for `window_days`, else the
    churn model's decisions in the window combined. `scoring` shares the day's scoring rows
    with the other models of a run (`DayScoring`).
    Example: churn_risk(tables, as_of=date(2026, 9, 30), base_currency="USD").
    """
    if model is None:
        model = train_churn_model(tables, as_of=as_of, base_currency=base_currency, usage=usage,
                                  attributes=attributes)
        try:
            window_model = train_window_model(tables, as_of=as_of, base_currency=base_currency,
                                              window_days=window_days, usage=usage,
                                              attributes=attributes)
        except NoWindowModel:
            window_model = None
    if model.as_of > as_of or (window_model is not None and window_model.as_of > as_of):
        raise ValueError(f"a model trained as of {model.as_of} would look ahead of {as_of}")
    if window_model is not None and (window_model.window_days != window_days
                                     or window_model.combines_decisions):
        window_model = None
    wanted = [*model.features, *(window_model.features if window_model else [])]
    wanted = list(dict.fromkeys(wanted))
    rows = (scoring_rows(tables, as_of=as_of, base_currency=base_currency, features=wanted,
                         accounts=accounts, usage=usage) if scoring is None
            else scoring.rows(wanted, accounts))
    ids = rows["account_id"].to_pylist()
    x = model.matrix(rows)
    probability, horizon, decisions = next_decisions(model, rows, x, as_of=as_of,
                                                     window_days=window_days)
    terms = rows["term_months"].to_pylist()
    within = (window_model.probability(rows) if window_model is not None and len(ids)
              else window_probability(probability, decisions, model.floor))
    directions = [_direction(float(p), t, model.card)
                  for p, t in zip(probability, terms, strict=True)]
    observed = {c[len("observed_"):]: rows[c].to_pylist() for c in rows.column_names
                if c.startswith("observed_")}
    reasons = reasons_in_words(model, ids, x, directions=directions,
                               base_currency=base_currency, observed=observed)
    padded = [r + [None] * (TOP_REASONS - len(r)) for r in reasons]
    return pa.table({
        "account_id": pa.array(ids, pa.string()),
        "as_of": pa.array([as_of] * len(ids), pa.date32()),
        "churn_probability": pa.array(np.round(probability, 4), pa.float64()),
        "horizon": pa.array(horizon, pa.date32()),
        "churn_probability_window": pa.array(np.round(within, 4), pa.float64()),
        "window_days": pa.array([window_days] * len(ids), pa.int32()),
        "decisions_in_window": pa.array(decisions.astype(int), pa.int32()),
        **{f"reason_{i + 1}": pa.array([p[i] for p in padded], pa.string())
           for i in range(TOP_REASONS)},
        "reasons": pa.array(["; ".join(r) or None for r in reasons], pa.string()),
        "reasons_direction": pa.array(directions, pa.string()),
        "model": pa.array([model.name] * len(ids), pa.string()),
        "model_version": pa.array([model.version] * len(ids), pa.string()),
    })


def backtest_churn_risk(tables: Mapping[str, ir.Table], *, base_currency: str, start: date,
                        end: date, as_of: date, days_before: int = DAYS_BEFORE,
                        retrain_days: int = 91,
                        attributes: Sequence[str] | None = None,
                        open_at_score: bool = False) -> pa.Table:
    """What churn_risk would have said before each renewal decision dated in [start, end]
    (outcomes as known at `as_of`): each decision scored at score_date = period_start −
    `days_before` by a model trained as of the latest retraining date on or before it
    (every `retrain_days` from the first score date), so no model sees its own outcomes.
    `open_at_score` scores with models trained as the renewal forecast's are
    (`train_churn_model`); every decision is still scored.

    Columns: those of `training_rows`, churn_probability and model_as_of.
    Example: backtest_churn_risk(tables, base_currency="USD", start=date(2025, 9, 24),
    end=date(2026, 9, 23), as_of=date(2026, 9, 30)).
    """
    features, _ = model_features(tables, as_of=as_of, attributes=attributes)
    rows = training_rows(tables, as_of=as_of, base_currency=base_currency,
                         days_before=days_before, since=start, features=features)
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
                                      days_before=days_before, attributes=attributes,
                                      open_at_score=open_at_score)
            probability[pick] = model.probability(model.matrix(rows.filter(pa.array(pick))))
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
