"""Publishing one day's health scores and churn risk (and data-quality report) into the app
database.

`publish_health` replaces both tables' rows of its `as_of` date (and, when given, the day's
data-quality report, whose stale sources the scores' `data_warnings` name) in one transaction:
the web app sees the previous day's results or the new ones, never a mix, and a failure leaves
the previous rows as they were. Without a churn risk (too little history to train a model) the
day's churn rows are cleared, so nothing stale stays published.

Example: publish_health(engine, as_of=date(2026, 9, 30), health_scores=scores,
churn_risk=risk) → (1312, 1312).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, delete

from quarterdeck.appdb.data_versions import HEALTH, bump
from quarterdeck.appdb.models import ChurnRisk, HealthScore
from quarterdeck.appdb.publish import PublishError, insert_rows
from quarterdeck.appdb.publish_quality import replace_quality
from quarterdeck.quality.report import QualityReport

POINTS_SUFFIX = "_points"
REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")
HEALTH_NEEDS = ("account_id", "as_of", "model", "score", "band", "change_7d", "change_30d")
RISK_NEEDS = ("account_id", "as_of", "churn_probability", "horizon", "model", "model_version")


def _check(what: str, table: pa.Table, needs: tuple[str, ...], as_of: date) -> None:
    missing = [c for c in needs if c not in table.column_names]
    if missing:
        raise PublishError(f"{what} to publish: missing columns {missing}")
    other = {d for d in table["as_of"].to_pylist() if d != as_of}
    if other:
        raise PublishError(f"{what} to publish as of {as_of} holds rows as of "
                           f"{', '.join(sorted(str(d) for d in other))}")


def _number(value: Any) -> Any:
    """A JSON-safe value: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _reasons(row: dict[str, Any]) -> list[str] | None:
    found = [row[c] for c in REASON_COLUMNS if row.get(c)]
    return found or None


def health_score_rows(scores: pa.Table) -> Iterator[dict[str, Any]]:
    """`health_scores` rows as app database rows: reasons as a list, components as
    {feature: {"value": raw value, "points": 0–100}} for every `<feature>_points` column, and
    the optional `data_warnings` column (stale inputs, one per line) as it is."""
    features = [c[: -len(POINTS_SUFFIX)] for c in scores.column_names
                if c.endswith(POINTS_SUFFIX) and c[: -len(POINTS_SUFFIX)] in scores.column_names]
    for row in scores.to_pylist():
        components = {f: {"value": _number(row[f]), "points": _number(row[f + POINTS_SUFFIX])}
                      for f in features
                      if row[f] is not None or row[f + POINTS_SUFFIX] is not None}
        yield {"account_id": row["account_id"], "model": row["model"],
               "score": _number(row["score"]), "band": row["band"],
               "change_7d": _number(row["change_7d"]), "change_30d": _number(row["change_30d"]),
               "reasons": _reasons(row), "components": components or None,
               "data_warnings": row.get("data_warnings") or None}


def churn_risk_rows(risk: pa.Table) -> Iterator[dict[str, Any]]:
    """`churn_risk` rows as app database rows, reasons as a list; the window probability,
    its window and the reasons' direction when the table has them."""
    for row in risk.to_pylist():
        window = row.get("churn_probability_window")
        yield {"account_id": row["account_id"],
               "churn_probability": float(row["churn_probability"]),
               "horizon": row["horizon"],
               "churn_probability_window": None if window is None else float(window),
               "window_days": row.get("window_days"),
               "reasons_direction": row.get("reasons_direction"),
               "reasons": _reasons(row), "model": row["model"],
               "model_version": row["model_version"]}


def publish_health(engine: Engine, *, as_of: date, health_scores: pa.Table,
                   churn_risk: pa.Table | None,
                   quality: QualityReport | None = None) -> tuple[int, int]:
    """Replace the published health scores and churn risk of `as_of` (see the module); returns
    the rows published in each. `health_scores` is the output of
    `quarterdeck.health.health_scores`, `churn_risk` of `quarterdeck.health.churn_risk.churn_risk`.
    With `quality`, the day's data-quality report is replaced in the same transaction, so the
    warnings the scores carry and the report they come from are published together.
    """
    _check("health_scores", health_scores, HEALTH_NEEDS, as_of)
    if churn_risk is not None:
        _check("churn_risk", churn_risk, RISK_NEEDS, as_of)
    if quality is not None and quality.as_of != as_of:
        raise PublishError(f"data-quality report as of {quality.as_of} published as of {as_of}")
    with engine.begin() as connection:
        if quality is not None:
            replace_quality(connection, quality)
        connection.execute(delete(HealthScore).where(HealthScore.as_of == as_of))
        connection.execute(delete(ChurnRisk).where(ChurnRisk.as_of == as_of))
        insert_rows(connection, HealthScore.__table__, health_score_rows(health_scores), as_of)
        if churn_risk is not None:
            insert_rows(connection, ChurnRisk.__table__, churn_risk_rows(churn_risk), as_of)
        bump(connection, HEALTH)
    return health_scores.num_rows, 0 if churn_risk is None else churn_risk.num_rows
