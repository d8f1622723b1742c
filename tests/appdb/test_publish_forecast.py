"""The forecast of a day published and replaced whole; CSM calls kept per renewal, audited,
owner-checked, and read back into the forecast and its history."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from quarterdeck.appdb.database import session
from quarterdeck.appdb.forecast_exports import (
    published_forecast,
    published_periods,
    renewal_history,
)
from quarterdeck.appdb.forecast_models import ForecastDecision
from quarterdeck.appdb.models import AuditLogEntry
from quarterdeck.appdb.publish_forecast import (
    CategoryError,
    categories,
    category_changes,
    publish_forecast,
    set_category,
)
from quarterdeck.appdb.users import add_user
from quarterdeck.forecast.forecast_periods import forecast_periods
from quarterdeck.testing.forecast_world import AS_OF, EXPECTED_Q4, hand_forecast


def _publish(engine, as_of=AS_OF, calls=None):
    f = hand_forecast(calls)
    periods = {g: forecast_periods(f, grain=g) for g in ("month", "quarter")}
    return publish_forecast(engine, as_of=as_of, forecast=f, periods=periods)


def test_a_day_is_published_once_and_a_rerun_replaces_it(engine):
    assert _publish(engine) == 6
    assert _publish(engine) == 6
    with session(engine) as db:
        assert db.scalar(select(func.count()).select_from(ForecastDecision)) == 6
    [q4] = published_periods(engine, AS_OF, "quarter").to_pylist()
    assert float(q4["expected_arr"]) == pytest.approx(EXPECTED_Q4, abs=0.01)
    assert float(q4["low_arr"]) <= float(q4["expected_arr"]) <= float(q4["high_arr"])


def test_a_call_is_kept_with_who_when_before_after_and_note(engine):
    _publish(engine)
    first = set_category(engine, "alpha@2026-11-15", "best_case", actor="ops@example.com")
    second = set_category(engine, "alpha@2026-11-15", "commit", actor="ops@example.com",
                          note="order form signed")
    assert (first["before"], first["after"]) == (None, "best_case")
    assert (second["before"], second["after"]) == ("best_case", "commit")
    [call] = categories(engine).to_pylist()
    assert (call["category"], call["note"], call["set_by"]) == (
        "commit", "order form signed", "ops@example.com")
    history = renewal_history(engine, "alpha@2026-11-15").to_pylist()
    assert [(h["before"], h["after"]) for h in history] == [(None, "best_case"),
                                                            ("best_case", "commit")]
    with session(engine) as db:
        actions = db.scalars(select(AuditLogEntry.action)).all()
    assert actions.count("renewal.category") == 2


def test_the_published_forecast_shows_the_current_call(engine):
    _publish(engine)
    set_category(engine, "bravo@2026-12-01", "at_risk", actor="ops@example.com", note="budget")
    rows = {r["renewal_id"]: r for r in published_forecast(engine, date(2026, 10, 5))
            .to_pylist()}
    assert (rows["bravo@2026-12-01"]["category"], rows["bravo@2026-12-01"]["note"]) == (
        "at_risk", "budget")
    assert rows["alpha@2026-11-15"]["category"] is None
    mine = published_forecast(engine, AS_OF, owner="ana@example.com").to_pylist()
    assert {r["account_id"] for r in mine} == {"alpha", "charlie"}


def test_a_cleared_call_leaves_its_history(engine):
    _publish(engine)
    set_category(engine, "alpha@2026-11-15", "commit", actor="ops@example.com")
    set_category(engine, "alpha@2026-11-15", None, actor="ops@example.com", note="slipped")
    assert categories(engine).num_rows == 0
    assert [c["after"] for c in category_changes(engine).to_pylist()] == ["commit", None]


def test_a_csm_cannot_call_another_csms_renewal(engine):
    _publish(engine)
    add_user(engine, "ana@example.com", "Ana", "csm", "correct-horse-9")
    with pytest.raises(CategoryError, match="does not own bravo"):
        set_category(engine, "bravo@2026-12-01", "commit", actor="ana@example.com")
    set_category(engine, "alpha@2026-11-15", "commit", actor="ana@example.com")


def test_unknown_categories_and_renewals_are_refused(engine):
    _publish(engine)
    with pytest.raises(CategoryError, match="commit, best_case, at_risk, churn_expected"):
        set_category(engine, "alpha@2026-11-15", "maybe", actor="ops@example.com")
    with pytest.raises(CategoryError, match="no renewal 'zulu@2026-11-15'"):
        set_category(engine, "zulu@2026-11-15", "commit", actor="ops@example.com")


def test_an_owner_written_with_capitals_still_owns_the_renewal(engine):
    from sqlalchemy import update

    from quarterdeck.appdb.forecast_models import ForecastDecision

    _publish(engine)
    with session(engine) as db:
        db.execute(update(ForecastDecision).where(ForecastDecision.account_id == "alpha")
                   .values(owner_email="Ana@Example.com"))
    add_user(engine, "ana@example.com", "Ana", "csm", "correct-horse-9")
    set_category(engine, "alpha@2026-11-15", "commit", actor="ana@example.com")
    assert categories(engine).to_pylist()[0]["category"] == "commit"


def test_every_decision_reads_back_as_it_was_forecast(engine):
    forecast = hand_forecast(None)
    _publish(engine)
    columns = [c for c in forecast.column_names if c in ForecastDecision.__table__.c]
    with session(engine) as db:
        rows = db.execute(select(*(ForecastDecision.__table__.c[c] for c in columns))
                          .where(ForecastDecision.as_of == AS_OF)
                          .order_by(ForecastDecision.renewal_id)).all()
    expected = sorted(forecast.select(columns).to_pylist(), key=lambda r: r["renewal_id"])
    assert [dict(r._mapping) for r in rows] == expected
