"""Saved churn models: one folder per training date, `<root>/<as_of>/`, holding `model.joblib`
(the fitted `ChurnModel`) and `card.json` (what it is and how well it validated, readable
without Python). The workspace keeps them under `data/models/churn/`.

A folder is written under a temporary name and renamed into place, so a crash never leaves a
half-written model; saving the same date again replaces it.

Example: save_model(model, churn_models_dir(ws.data_dir)); load_model(root, date(2026, 9, 30)).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from quarterdeck.errors import QuarterdeckError
from quarterdeck.health.churn_model import ChurnModel
from quarterdeck.health.window_model import WindowModel

MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"


class NoSavedModel(QuarterdeckError):
    """No churn model was saved on or before the date asked for."""


def churn_models_dir(data_dir: Path) -> Path:
    """Where a workspace keeps its churn models. Example: churn_models_dir(ws.data_dir)."""
    return Path(data_dir) / "models" / "churn"


def saved_dates(root: Path) -> list[date]:
    """The training dates of the saved models, oldest first."""
    out = []
    for folder in Path(root).glob("*/"):
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if (folder / MODEL_FILE).exists() and (folder / CARD_FILE).exists():
            out.append(day)
    return sorted(out)


def save_model(model: ChurnModel | WindowModel, root: Path) -> Path:
    """Write `model` and its card to `<root>/<model.as_of>/`; returns the folder."""
    import joblib

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    target = root / model.as_of.isoformat()
    staging = Path(tempfile.mkdtemp(prefix=f".{model.as_of.isoformat()}-", dir=root))
    try:
        kept = replace(model, training=None) if isinstance(model, ChurnModel) else model
        joblib.dump(kept, staging / MODEL_FILE)
        (staging / CARD_FILE).write_text(json.dumps(model.card, indent=2) + "\n")
        if target.exists():
            old = root / f".{target.name}-old"
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _folder(root: Path, as_of: date | None) -> Path:
    dates = [d for d in saved_dates(root) if as_of is None or d <= as_of]
    if not dates:
        when = f" on or before {as_of}" if as_of else ""
        raise NoSavedModel(f"no churn model saved in {root}{when}: run `quarterdeck health "
                           "train` (or `quarterdeck run`) first")
    return Path(root) / dates[-1].isoformat()


def load_model(root: Path, as_of: date | None = None) -> ChurnModel:
    """The newest model trained on or before `as_of` (the newest of all when None)."""
    import joblib

    model = joblib.load(_folder(root, as_of) / MODEL_FILE)
    if not isinstance(model, ChurnModel):
        raise NoSavedModel(f"{root}: {MODEL_FILE} does not hold a churn model")
    return model


def read_card(root: Path, as_of: date | None = None) -> dict[str, Any]:
    """The card of the newest model trained on or before `as_of`."""
    return json.loads((_folder(root, as_of) / CARD_FILE).read_text())


def recent_model(root: Path, as_of: date, *, max_age_days: int,
                 attributes: Sequence[str] | None, days_before: int,
                 open_at_score: bool = False) -> ChurnModel | None:
    """The newest model saved in `root` trained on or before `as_of` and fewer than
    `max_age_days` days before it, with the same attribute setting, horizon and training
    population (`open_at_score`), or None: a model young enough to score `as_of` without
    training again."""
    fresh = [d for d in saved_dates(root) if as_of - timedelta(days=max_age_days) < d <= as_of]
    if not fresh:
        return None
    try:
        model = load_model(root, fresh[-1])
    except Exception:  # an unreadable or foreign file: train again rather than fail the run
        return None
    setting = model.card.get("attribute_setting", "unknown")
    wanted = None if attributes is None else sorted(attributes)
    asked = bool(model.card.get("open_at_score")) or "open_at_score_refused" in model.card
    if model.days_before != days_before or setting != wanted or asked != open_at_score:
        return None
    return model


def window_models_dir(data_dir: Path, window_days: int) -> Path:
    """Where a workspace keeps its window models for a window of `window_days`."""
    return Path(data_dir) / "models" / f"churn-window-{window_days}d"


def recent_window_model(root: Path, as_of: date, *, max_age_days: int,
                        attributes: Sequence[str] | None) -> WindowModel | None:
    """As `recent_model`, for the window models kept in `root`."""
    import joblib

    fresh = [d for d in saved_dates(root) if as_of - timedelta(days=max_age_days) < d <= as_of]
    if not fresh:
        return None
    try:
        model = joblib.load(_folder(root, fresh[-1]) / MODEL_FILE)
    except Exception:  # an unreadable file: train again rather than fail the run
        return None
    wanted = None if attributes is None else sorted(attributes)
    if not isinstance(model, WindowModel) or model.card.get("attribute_setting") != wanted:
        return None
    return model
