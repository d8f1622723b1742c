"""Churn models per forecast horizon, kept beside the churn model so a day is trained once.

The forecast's models learn only from decisions still open on their score date
(`train_churn_model(open_at_score=True)`), so they are not the account churn-risk model
`quarterdeck run` keeps in `data/models/churn/`: the model for horizon `h` lives in
`data/models/forecast-<h>d/<as_of>/`, written the same way (`quarterdeck.health.model_store`).
A model is reused when it was trained on the day asked for or, with `max_age_days` (the
pipeline passes `churn.retrain_days`), fewer days before it; never one trained after T, so a
forecast as of T reads nothing that was not known then.

Example: models_for(tables, data_dir, as_of=date(2026, 9, 30), base_currency="USD").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import ibis.expr.types as ir

from quarterdeck.forecast.renewal_forecast import HORIZONS
from quarterdeck.health.churn_model import ChurnModel, PastDecisions, train_churn_model
from quarterdeck.health.model_store import churn_models_dir, recent_model, save_model


def horizon_dir(data_dir: Path, days_before: int) -> Path:
    """Where the forecast's models trained `days_before` days ahead of their decisions are
    kept."""
    return churn_models_dir(data_dir).parent / f"forecast-{days_before}d"


def models_for(tables: Mapping[str, ir.Table], data_dir: Path, *, as_of: date,
               base_currency: str, horizons: Sequence[int] = HORIZONS,
               usage: ir.Table | None = None,
               attributes: Sequence[str] | None = None,
               max_age_days: int = 1,
               past: PastDecisions | None = None) -> dict[int, ChurnModel]:
    """A model per horizon for `as_of`: one kept for a day fewer than `max_age_days` days
    before it (1: that very day) with the same attribute setting, else trained now and kept.
    `past` shares the day's training rows with the run's other models.
    Raises NotEnoughHistory when the history is too short to learn from."""
    out = {}
    for h in horizons:
        root = horizon_dir(data_dir, h)
        kept = recent_model(root, as_of, max_age_days=max_age_days, attributes=attributes,
                            days_before=h, open_at_score=True)
        if kept is not None:
            out[h] = kept
            continue
        out[h] = train_churn_model(tables, as_of=as_of, base_currency=base_currency,
                                   days_before=h, usage=usage, attributes=attributes,
                                   open_at_score=True, past=past)
        save_model(out[h], root)
    return out
