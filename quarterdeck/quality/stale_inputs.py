"""Which health scores read a stale input, and the warning they carry.

A health model's components are features, and each feature reads some entities
(`quarterdeck.health.features.feature_entities`: tickets feed the support features, events
the usage ones, surveys the sentiment ones …). When the data-quality report finds an entity
stale in some source, every score of a model reading that entity carries the warning, so
nobody trusts a green support component built on a help desk that stopped exporting.

Example: with tickets from files 21 days old, the default model's scores carry
"tickets from files are 21 days old (expected every 1d): feeds urgent_tickets_30d, csat_90d".
"""

from __future__ import annotations

import pyarrow as pa

from quarterdeck.health.definitions import HealthModel, HealthModels
from quarterdeck.health.features import feature_entities
from quarterdeck.quality.report import QualityReport


def model_warnings(model: HealthModel, report: QualityReport) -> list[str]:
    """One sentence per stale input of `model`'s components, naming the features it feeds."""
    out = []
    for stale in report.stale:
        fed = [c.feature for c in model.components if stale.entity in feature_entities(c.feature)]
        if fed:
            out.append(f"{stale.detail}: feeds {', '.join(fed)}")
    return out


def health_data_warnings(models: HealthModels, report: QualityReport) -> dict[str, str]:
    """Per health model with a stale input, its warnings (one per line)."""
    out = {}
    for model in models.models:
        warnings = model_warnings(model, report)
        if warnings:
            out[model.name] = "\n".join(warnings)
    return out


def with_data_warnings(scores: pa.Table, models: HealthModels,
                       report: QualityReport) -> pa.Table:
    """A health snapshot (`health_scores`, executed) with a `data_warnings` column: each
    score's model's warnings, null when its inputs are fresh."""
    warnings = health_data_warnings(models, report)
    column = pa.array([warnings.get(m) if m else None for m in scores["model"].to_pylist()],
                      pa.string())
    return scores.append_column("data_warnings", column)
