"""`health_scores`: the daily health snapshot per account, and `health_coverage`: who has none.

Each account is scored by the model of its segment (else the default model; see
`quarterdeck.health.definitions` and `quarterdeck.health.scoring` for the rules). The change of
the score compares it with the account's score 7 and 30 days earlier, taken from the feature
rows of those dates (`feature_table(..., lookback=(7, 30))`) or from `previous` (earlier
snapshots: account_id, as_of, score).

Example: health_scores(feature_table(tables, as_of=T, base_currency="USD", lookback=(7, 30)),
load_health_models(path), as_of=T).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.health.definitions import HealthModels
from quarterdeck.health.reasons import TOP_REASONS, points_column, top_reasons
from quarterdeck.health.scoring import band, component_points, model_name, model_score, pick
from quarterdeck.warehouse.shared_results import engine_of, staged

CHANGE_DAYS = (7, 30)


def score_features(features: ir.Table, models: HealthModels) -> ir.Table:
    """Every row of a feature table scored: account_id, as_of, segment, model, score (0–100,
    one decimal), band, weight_covered, then each used feature's raw value and its points.

    Computed in steps, each reading the columns of the one before (a component's points, then
    each model's score, then the account's own): written as one expression, every use of a
    score would repeat the rules of all its components.

    Example: score_features(feature_table_at(tables, points, base_currency="USD"), models).
    """
    t = features.mutate(model=model_name(models, features.segment))
    points = {(j, k): f"_points_{j}_{k}" for j, m in enumerate(models.models)
              for k in range(len(m.components))}
    t = t.mutate(**{points[j, k]: component_points(c, t[c.feature])
                    for j, m in enumerate(models.models) for k, c in enumerate(m.components)})
    per_model = {}
    for j, m in enumerate(models.models):
        score, covered = model_score(m, t, [t[points[j, k]] for k in range(len(m.components))])
        per_model |= {f"_score_{j}": score, f"_covered_{j}": covered}
    t = t.mutate(**per_model)
    scores = {m.name: t[f"_score_{j}"] for j, m in enumerate(models.models)}
    covered = {m.name: t[f"_covered_{j}"] for j, m in enumerate(models.models)}
    bands = {m.name: band(m, t[f"_score_{j}"]) for j, m in enumerate(models.models)}
    components = {}
    for name in models.features:
        per = {m.name: t[points[j, k]] for j, m in enumerate(models.models)
               for k, c in enumerate(m.components) if c.feature == name}
        components[name] = t[name]
        components[points_column(name)] = pick(models, t.model, per, dt.float64).round(1)
    return t.select(
        "account_id", "as_of", "segment", "model",
        score=pick(models, t.model, scores, dt.float64).round(1),
        band=pick(models, t.model, bands, dt.string),
        weight_covered=pick(models, t.model, covered, dt.float64).fill_null(0.0).round(3),
        **components,
    )


def health_scores(features: ir.Table, models: HealthModels, *, as_of: date,
                  previous: ir.Table | None = None) -> ir.Table:
    """The health snapshot on `as_of`, one row per account of `features` at that date.

    Columns: account_id, as_of, segment, model, score, band, weight_covered, score_7d_ago,
    score_30d_ago, change_7d, change_30d, reason_1 … reason_3, reasons (joined with "; "), then
    each component's raw value (named after its feature) and points (`<feature>_points`).
    Example: health_scores(features, models, as_of=date(2026, 6, 30)).
    """
    # Read four times below (today, the history of 7 and 30 days, the reasons).
    scored = staged(score_features(features, models), engine_of({"features": features}))
    history = scored.select("account_id", "as_of", "score")
    if previous is not None:
        history = history.union(previous.select(
            "account_id", as_of=previous.as_of.cast(dt.date),
            score=previous.score.cast(dt.float64)))
    history = history.filter(history.score.notnull())
    history = history.group_by(["account_id", "as_of"]).agg(score=history.score.max())
    today = scored.filter(scored.as_of == ibis.literal(as_of, dt.date))
    out = today
    for days in CHANGE_DAYS:
        then = history.filter(history.as_of == ibis.literal(as_of - timedelta(days=days)))
        then = then.select("account_id", **{f"score_{days}d_ago": then.score})
        out = out.left_join(then, "account_id").drop("account_id_right")
    reasons = top_reasons(today, models)
    out = out.left_join(reasons, ["account_id", "as_of"]).drop("account_id_right",
                                                                "as_of_right")
    components = [c for c in scored.columns if c not in today.columns[:7]]
    return out.select(
        *today.columns[:7],
        *(f"score_{d}d_ago" for d in CHANGE_DAYS),
        **{f"change_{d}d": (out.score - out[f"score_{d}d_ago"]).round(1) for d in CHANGE_DAYS},
        **{f"reason_{i}": out[f"reason_{i}"] for i in range(1, TOP_REASONS + 1)},
        reasons=out.reasons,
        **{c: out[c] for c in components},
    )


def health_coverage(features: ir.Table, models: HealthModels, *, as_of: date) -> ir.Table:
    """Per account of `features` on `as_of`: whether it has a score and, if not, why.

    Columns: account_id, segment, model, scored, weight_covered, missing (the model's features
    with no value, comma-separated), reason (`scored`, `no model for segment X`, or
    `too little data: …`). Example: health_coverage(features, models, as_of=T).
    """
    scored = score_features(features.filter(features.as_of == ibis.literal(as_of, dt.date)),
                            models)
    per: dict[str, ir.StringValue] = {}
    for m in models.models:
        text: ir.StringValue = ibis.literal("")
        for c in m.components:
            if c.if_missing is None:
                text = text + ibis.ifelse(scored[c.feature].isnull(), c.feature + ", ", "")
        per[m.name] = text
    missing = pick(models, scored.model, per, dt.string)
    missing = ibis.ifelse(missing.length() > 0, missing.re_replace(r",\s*$", ""),
                          ibis.null(dt.string))
    has = scored.score.notnull()
    reason = ibis.cases(
        (has, "scored"),
        (scored.model.isnull(), "no model for segment " + scored.segment.fill_null("(none)")),
        else_="too little data: " + missing.fill_null("") + " missing",
    )
    return scored.select("account_id", "segment", "model", scored=has,
                         weight_covered=scored.weight_covered, missing=missing, reason=reason)


def coverage_summary(coverage: ir.Table) -> ir.Table:
    """`health_coverage` grouped by reason: reason, accounts, share (of all accounts listed).

    Example: the row with reason `scored` gives the share of paying accounts with a score.
    """
    total = coverage.count()
    g = coverage.group_by("reason").agg(accounts=coverage.count())
    return g.mutate(share=(g.accounts / total.as_scalar()).round(4)).order_by(
        ibis.desc("accounts"))
