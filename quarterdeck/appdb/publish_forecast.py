"""Publishing the renewal forecast of a day, and the calls CSMs make on renewals.

`publish_forecast` replaces the day's forecast decisions and periods (by month and quarter) in
one transaction, so re-running a day changes nothing. `set_category` records a CSM's call on a
renewal (commit, best_case, at_risk, churn_expected, or none to clear it) with who, when,
before, after and a note, in the renewal's history and the audit log; a CSM may only call the
renewals of accounts they own.

Example: set_category(engine, "acct-7@2026-11-15", "commit", actor="ana@example.com",
note="signed order form expected 1 Nov").
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, delete, func, select

from quarterdeck.appdb.audit import record
from quarterdeck.appdb.data_versions import FORECAST, bump
from quarterdeck.appdb.database import session
from quarterdeck.appdb.forecast_models import (
    ForecastDecision,
    ForecastPeriod,
    RenewalCategory,
    RenewalCategoryChange,
)
from quarterdeck.appdb.models import User, utcnow
from quarterdeck.appdb.publish import insert_arrow
from quarterdeck.errors import QuarterdeckError
from quarterdeck.forecast.renewal_forecast import CATEGORIES

PUBLISHED_GRAINS = ("month", "quarter")
_DECISION_COLUMNS = ("renewal_id", "account_id", "segment", "owner_email", "term",
                     "term_months", "renewal_date", "arr_at_stake", "cancellation_known",
                     "p_renew", "p_reached", "expected_arr", "model_days_before", "category")
_PERIOD_COLUMNS = ("period", "period_start", "period_end", "renewals", "arr_at_stake",
                   "expected_arr_at_stake", "expected_arr", "low_arr", "high_arr",
                   "interval_method", "committed_arr", "best_case_arr",
                   "expected_gross_renewal_rate", "expected_net_renewal_rate", "period_sd")
_MONEY = ("arr_at_stake", "expected_arr_at_stake", "expected_arr", "low_arr", "high_arr",
          "committed_arr", "best_case_arr")


class CategoryError(QuarterdeckError):
    """A call on a renewal that cannot be made (unknown category or renewal, not the owner)."""


def _money(row: dict[str, Any]) -> dict[str, Any]:
    return {k: Decimal(f"{v:.2f}") if k in _MONEY and isinstance(v, float) else v
            for k, v in row.items()}


def publish_forecast(engine: Engine, *, as_of: date, forecast: pa.Table,
                     periods: dict[str, pa.Table]) -> int:
    """Replace the forecast of `as_of`: its decisions and its periods per grain."""
    decisions = forecast.select(list(_DECISION_COLUMNS))
    with session(engine) as db:
        db.execute(delete(ForecastDecision).where(ForecastDecision.as_of == as_of))
        db.execute(delete(ForecastPeriod).where(ForecastPeriod.as_of == as_of))
        # Tens of thousands of decisions a day: the bulk path, not one ORM object each.
        insert_arrow(db.connection(), ForecastDecision.__table__, decisions, as_of)
        for grain, table in periods.items():
            # period_sd is optional: a table rolled up without a period error has none.
            columns = [c for c in _PERIOD_COLUMNS if c != "period_sd" or c in table.column_names]
            db.add_all(ForecastPeriod(as_of=as_of, grain=grain, **_money(r))
                       for r in table.select(columns).to_pylist())
        db.flush()
        bump(db, FORECAST)
    return decisions.num_rows


def _owner(db: Any, renewal_id: str) -> tuple[str, date, str | None]:
    """account_id, renewal_date and owner of a renewal, from the newest forecast holding it."""
    latest = db.scalar(select(func.max(ForecastDecision.as_of)).where(
        ForecastDecision.renewal_id == renewal_id))
    if latest is None:
        raise CategoryError(f"no renewal {renewal_id!r} in any published forecast: run "
                            "`quarterdeck run` first, or check the id with `quarterdeck "
                            "forecast list`")
    row = db.get(ForecastDecision, (latest, renewal_id))
    return row.account_id, row.renewal_date, row.owner_email


def set_category(engine: Engine, renewal_id: str, category: str | None, *, actor: str,
                 note: str | None = None) -> dict[str, Any]:
    """Set (or, with None, clear) the call on a renewal; returns before and after."""
    if category is not None and category not in CATEGORIES:
        raise CategoryError(f"unknown category {category!r}; use {', '.join(CATEGORIES)}")
    with session(engine) as db:
        account_id, renewal_date, owner = _owner(db, renewal_id)
        user = db.scalar(select(User).where(User.email == actor))
        # Emails compare without case, as everywhere else in the app.
        if user is not None and user.role == "csm" and (owner or "").lower() != actor.lower():
            raise CategoryError(f"{actor} does not own {account_id} (its CSM is {owner}); only "
                                "its owner, a manager or ops can call this renewal")
        current = db.get(RenewalCategory, renewal_id)
        before = current.category if current else None
        if category is None:
            if current is not None:
                db.delete(current)
        elif current is None:
            db.add(RenewalCategory(renewal_id=renewal_id, account_id=account_id,
                                   renewal_date=renewal_date, category=category, note=note,
                                   set_by=actor, set_at=utcnow()))
        else:
            current.category, current.note = category, note
            current.set_by, current.set_at = actor, utcnow()
        db.add(RenewalCategoryChange(renewal_id=renewal_id, account_id=account_id,
                                     before=before, after=category, note=note,
                                     changed_by=actor, changed_at=utcnow()))
        record(db, actor, "renewal.category", renewal_id,
               {"before": before, "after": category, "note": note, "account_id": account_id})
        db.flush()
        bump(db, FORECAST)
    return {"renewal_id": renewal_id, "account_id": account_id, "before": before,
            "after": category}


def categories(engine: Engine) -> pa.Table:
    """Every renewal's current call: renewal_id, account_id, renewal_date, category, note,
    set_by, set_at."""
    with session(engine) as db:
        rows = db.scalars(select(RenewalCategory).order_by(RenewalCategory.renewal_id)).all()
        return pa.Table.from_pylist(
            [{c: getattr(r, c) for c in ("renewal_id", "account_id", "renewal_date",
                                          "category", "note", "set_by", "set_at")}
             for r in rows],
            schema=pa.schema([("renewal_id", pa.string()), ("account_id", pa.string()),
                              ("renewal_date", pa.date32()), ("category", pa.string()),
                              ("note", pa.string()), ("set_by", pa.string()),
                              ("set_at", pa.timestamp("us", tz="UTC"))]))


def category_changes(engine: Engine) -> pa.Table:
    """Every change of a call, oldest first: renewal_id, account_id, before, after, note,
    changed_by, changed_at."""
    cols = ("renewal_id", "account_id", "before", "after", "note", "changed_by")
    with session(engine) as db:
        rows = db.scalars(select(RenewalCategoryChange).order_by(
            RenewalCategoryChange.changed_at, RenewalCategoryChange.id)).all()
        return pa.Table.from_pylist(
            [{**{c: getattr(r, c) for c in cols}, "changed_at": r.changed_at} for r in rows],
            schema=pa.schema([*[(c, pa.string()) for c in cols],
                              ("changed_at", pa.timestamp("us", tz="UTC"))]))
