"""Scoring rules as Ibis expressions: a component's points, a model's score and its band.

- thresholds: the first step whose `below` the value is under gives its points; the last step
  (no `below`) takes every higher value. [{below: 2, score: 0}, {below: 5, score: 50},
  {score: 100}] gives 1.9 → 0, 2 → 50, 5 → 100.
- linear {from: x0, to: x1}: 0 points at x0, 100 at x1, a straight line between, clamped
  outside (x0 > x1 when lower is better). {from: 0.1, to: 0.6}: 0.35 → 50.
- A missing value scores `if_missing` when given, else the component is skipped: the score is
  the weighted mean over the components with points (weights renormalised over them), and no
  score at all when they carry less than `min_weight_covered` of the model's weight.
- band: red below `bands.red`, yellow below `bands.yellow`, else green.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.health.definitions import Component, HealthModel, HealthModels


def component_points(component: Component, value: ir.NumericValue) -> ir.FloatingValue:
    """Points (0–100, NULL when missing and skipped) of `value` under `component`'s rule.

    Example: linear {from: 0, to: 10} scores 2.5 → 25.
    """
    v = value.cast(dt.float64)
    if component.linear is not None:
        x0, x1 = component.linear.from_, component.linear.to
        raw = (v - x0) / (x1 - x0) * 100
        points = ibis.cases((raw < 0, 0.0), (raw > 100, 100.0), else_=raw)
    else:
        steps = component.thresholds or []
        points = ibis.cases(*[(v < s.below, float(s.score)) for s in steps[:-1]],
                            else_=float(steps[-1].score)) if len(steps) > 1 else \
            ibis.literal(float(steps[-1].score))
    missing = ibis.null(dt.float64) if component.if_missing is None \
        else ibis.literal(float(component.if_missing))
    return ibis.ifelse(v.isnull(), missing, points).cast(dt.float64)


def model_score(model: HealthModel, t: ir.Table,
                points: Sequence[ir.FloatingValue] | None = None
                ) -> tuple[ir.FloatingValue, ir.FloatingValue]:
    """(score, weight_covered) of `model` over the feature columns of `t`, or over `points`
    (each component's points, in the model's order, computed already).

    weight_covered is the share of the model's weight whose components have points.
    """
    total = sum(c.weight for c in model.components)
    num: ir.FloatingValue = ibis.literal(0.0)
    den: ir.FloatingValue = ibis.literal(0.0)
    for i, c in enumerate(model.components):
        p = component_points(c, t[c.feature]) if points is None else points[i]
        num = num + p.fill_null(0.0) * c.weight
        den = den + ibis.ifelse(p.isnull(), 0.0, c.weight)
    covered = den / total
    ok = covered >= model.min_weight_covered - 1e-9
    score = ibis.ifelse(ok & (den > 0), num / den, ibis.null(dt.float64))
    return score.cast(dt.float64), covered.cast(dt.float64)


def band(model: HealthModel, score: ir.FloatingValue) -> ir.StringValue:
    """red / yellow / green of `score` under `model`'s bands (NULL without a score)."""
    bands = model.bands
    assert bands is not None  # filled in by HealthModels
    return ibis.cases((score.isnull(), ibis.null(dt.string)), (score < bands.red, "red"),
                      (score < bands.yellow, "yellow"), else_="green")


def model_name(models: HealthModels, segment: ir.StringValue) -> ir.StringValue:
    """The name of the model that scores an account of `segment` (NULL when none does)."""
    cases = [(segment.isin(m.segments), m.name) for m in models.models if m.segments]
    default = models.default
    fallback = ibis.literal(default.name) if default else ibis.null(dt.string)
    if not cases:
        return fallback.cast(dt.string)
    return ibis.cases(*cases, else_=fallback).cast(dt.string)


def pick(models: HealthModels, chosen: ir.StringValue,
         per_model: dict[str, ir.Value], typ: dt.DataType) -> ir.Value:
    """The value of the account's own model out of `per_model` (NULL for other models)."""
    if not per_model:
        return ibis.null(typ)
    return ibis.cases(*[(chosen == name, v) for name, v in per_model.items()],
                      else_=ibis.null(typ)).cast(typ)
