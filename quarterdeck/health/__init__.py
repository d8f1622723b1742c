"""Health scores: candidate features, health models as data, scores, outcomes and validation.

Public API: `load_health_models`, `feature_table` (and `feature_table_at` for a snapshot grid),
`health_scores`, `health_coverage`, `renewal_outcomes`, `validate_model` and its renderers.
"""

from quarterdeck.health.definitions import (
    DEFAULT_HEALTH_MODELS_PATH,
    HealthModels,
    load_health_models,
)
from quarterdeck.health.feature_table import feature_table, feature_table_at, paying_accounts
from quarterdeck.health.features import FEATURES, Feature
from quarterdeck.health.health_scores import (
    coverage_summary,
    health_coverage,
    health_scores,
    score_features,
)
from quarterdeck.health.renewal_outcomes import renewal_outcomes
from quarterdeck.health.validation import ValidationResult, validate_model
from quarterdeck.health.validation_report import render_validation_html, render_validation_rich

__all__ = [
    "DEFAULT_HEALTH_MODELS_PATH", "FEATURES", "Feature", "HealthModels", "ValidationResult",
    "coverage_summary", "feature_table", "feature_table_at", "health_coverage",
    "health_scores", "load_health_models", "paying_accounts", "render_validation_html",
    "render_validation_rich", "renewal_outcomes", "score_features", "validate_model",
]
