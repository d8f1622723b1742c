"""The period error the published forecast's intervals carry, kept in the workspace.

`quarterdeck forecast accuracy` measures τ (see `quarterdeck.forecast.accuracy`) and keeps it in
`data/models/forecast-period-error.json` with the day it was measured as of; the forecasts of
a later day (`quarterdeck run`, `quarterdeck forecast`, `export forecast_periods`) widen their
intervals by it. Before any backtest, or for a day before it was measured (no look-ahead), τ
is 0 and the interval carries outcome randomness alone.

Example: keep_period_error(ws.data_dir, date(2026, 9, 30), 0.21, days_before=30);
period_sd_for(ws.data_dir, date(2026, 10, 1)) → 0.21
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from pathlib import Path

FILE = "forecast-period-error.json"


def _path(data_dir: Path) -> Path:
    return Path(data_dir) / "models" / FILE


def keep_period_error(data_dir: Path, as_of: date, period_sd: float, *,
                      days_before: int, periods: int) -> Path:
    """Write τ measured as of `as_of` (atomically: a temporary file renamed into place)."""
    path = _path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"as_of": as_of.isoformat(), "period_sd": round(period_sd, 6),
                       "days_before": days_before, "periods": periods}, indent=2)
    fd, tmp = tempfile.mkstemp(prefix=".period-error-", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        fh.write(body + "\n")
    os.replace(tmp, path)
    return path


def period_sd_for(data_dir: Path, as_of: date) -> float:
    """τ for a forecast as of `as_of`: the one kept, if measured on or before that day."""
    path = _path(data_dir)
    try:
        kept = json.loads(path.read_text())
        measured = date.fromisoformat(kept["as_of"])
        value = float(kept["period_sd"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0
    return value if measured <= as_of and value > 0 else 0.0
