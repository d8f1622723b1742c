"""The renewal forecast's tables for the CLI, the exports and the web app.

Computed from the warehouse as of a date, with the CSMs' calls from the app database:
`renewal_forecast` (one row per upcoming decision), `forecast_periods` (rolled up with its
interval) and `forecast_accuracy` (the backtest). Read from what `quarterdeck run` published:
`published_forecast` and `published_periods` (the forecast as it stood on a day),
`renewal_history` (the calls on a renewal, oldest first).

Example: forecast_tables(ws, con, engine, as_of=date(2026, 9, 30), horizon_days=90).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import Engine, func, select

from quarterdeck.appdb.database import session
from quarterdeck.appdb.forecast_models import ForecastDecision, ForecastPeriod
from quarterdeck.appdb.publish_forecast import categories, category_changes
from quarterdeck.forecast.accuracy import DAYS_BEFORE, PERIODS, ForecastAccuracy
from quarterdeck.workspace.workspace import Workspace

FORECAST_TABLES = ("renewal_forecast", "forecast_periods", "forecast_accuracy")
DEFAULT_HORIZON_DAYS = 90


def _tables(ws: Workspace, con: BaseBackend) -> dict[str, Any]:
    from quarterdeck.landing.account_versions import with_account_versions
    from quarterdeck.warehouse.canonical import canonical_tables

    return with_account_versions(canonical_tables(con), con, ws.landing_dir)


def renewal_forecast_table(ws: Workspace, con: BaseBackend, engine: Engine, *, as_of: date,
                           horizon_days: int = DEFAULT_HORIZON_DAYS) -> pa.Table:
    """Every renewal decision in the horizon with p_renew, expected ARR and its call."""
    from quarterdeck.forecast.horizon_store import models_for
    from quarterdeck.forecast.renewal_forecast import model_horizon, renewal_forecast

    tables = _tables(ws, con)
    base = ws.settings.base_currency
    needed = sorted({model_horizon(d) for d in range(1, horizon_days + 1)})
    models = models_for(tables, ws.data_dir, as_of=as_of, base_currency=base, horizons=needed,
                        attributes=ws.settings.churn.attributes)
    return renewal_forecast(tables, as_of=as_of, base_currency=base, horizon_days=horizon_days,
                            models=models, categories=categories(engine))


def forecast_periods_table(ws: Workspace, con: BaseBackend, engine: Engine, *, as_of: date,
                           horizon_days: int = DEFAULT_HORIZON_DAYS, grain: str = "quarter",
                           by: Sequence[str] = ()) -> pa.Table:
    """The forecast rolled up by period of `grain` and `by`, with its 90% interval."""
    from quarterdeck.forecast.forecast_periods import check_dimensions, forecast_periods
    from quarterdeck.forecast.period_error import period_sd_for

    check_dimensions(by)
    forecast = renewal_forecast_table(ws, con, engine, as_of=as_of, horizon_days=horizon_days)
    return forecast_periods(forecast, grain=grain, by=by,
                            fiscal_start_month=ws.settings.fiscal_year_start_month,
                            period_sd=period_sd_for(ws.data_dir, as_of))


def forecast_accuracy_result(ws: Workspace, con: BaseBackend, engine: Engine, *, as_of: date,
                             grain: str = "quarter", periods: int = PERIODS,
                             days_before: Sequence[int] = DAYS_BEFORE) -> ForecastAccuracy:
    """The backtest of the last `periods` complete periods (see docs/forecast.md); the period
    error it measures at the fewest days before (30 by default) is kept for the forecasts of
    later days."""
    from quarterdeck.forecast.accuracy import forecast_accuracy
    from quarterdeck.forecast.period_error import keep_period_error

    result = forecast_accuracy(_tables(ws, con), as_of=as_of,
                               base_currency=ws.settings.base_currency, grain=grain,
                               periods=periods, days_before=days_before,
                               fiscal_start_month=ws.settings.fiscal_year_start_month,
                               category_changes=category_changes(engine),
                               attributes=ws.settings.churn.attributes)
    summary = result.summary.to_pylist()
    if summary and grain == "quarter":
        nearest = min(summary, key=lambda r: r["days_before"])
        keep_period_error(ws.data_dir, as_of, nearest["period_sd"] or 0.0,
                          days_before=nearest["days_before"], periods=nearest["periods"])
    return result


def _latest(db: Any, model: Any, as_of: date) -> date | None:
    return db.scalar(select(func.max(model.as_of)).where(model.as_of <= as_of))


def published_forecast(engine: Engine, as_of: date, *, owner: str | None = None) -> pa.Table:
    """The decisions of the newest forecast published on or before `as_of` (only `owner`'s
    when given), with each renewal's current call and note, by renewal date."""
    calls = {r["renewal_id"]: r for r in categories(engine).to_pylist()}
    with session(engine) as db:
        day = _latest(db, ForecastDecision, as_of)
        q = select(ForecastDecision).where(ForecastDecision.as_of == day)
        if owner is not None:
            q = q.where(ForecastDecision.owner_email == owner)
        rows = db.scalars(q.order_by(ForecastDecision.renewal_date,
                                     ForecastDecision.account_id)).all()
        cols = [c.name for c in ForecastDecision.__table__.columns if c.name != "category"]
        out = [{**{c: getattr(r, c) for c in cols},
                "category": calls.get(r.renewal_id, {}).get("category"),
                "note": calls.get(r.renewal_id, {}).get("note")} for r in rows]
    return pa.Table.from_pylist(out) if out else pa.table({c: [] for c in [*cols, "category",
                                                                           "note"]})


def published_periods(engine: Engine, as_of: date, grain: str = "quarter") -> pa.Table:
    """The periods of the newest forecast published on or before `as_of`, with intervals."""
    with session(engine) as db:
        day = _latest(db, ForecastPeriod, as_of)
        rows = db.scalars(select(ForecastPeriod).where(
            (ForecastPeriod.as_of == day) & (ForecastPeriod.grain == grain)).order_by(
            ForecastPeriod.period_start)).all()
        cols = [c.name for c in ForecastPeriod.__table__.columns]
        return pa.Table.from_pylist([{c: getattr(r, c) for c in cols} for r in rows])


def renewal_history(engine: Engine, renewal_id: str | None = None) -> pa.Table:
    """The calls made on one renewal (or on all), oldest first: who, when, before, after."""
    changes = category_changes(engine)
    if renewal_id is None:
        return changes
    import pyarrow.compute as pc

    return changes.filter(pc.equal(changes["renewal_id"], renewal_id))


def published_period_sd(engine: Engine, as_of: date) -> float:
    """The period error the forecast published for `as_of` (or the latest day before it)
    carries in its intervals; 0 when none."""
    with session(engine) as db:
        day = _latest(db, ForecastPeriod, as_of)
        if day is None:
            return 0.0
        value = db.scalar(select(func.max(ForecastPeriod.period_sd))
                          .where(ForecastPeriod.as_of == day))
    return float(value or 0.0)
