"""Upcoming renewal decisions of the hand-made forecast world as of 2026-09-30."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from quarterdeck.forecast.renewal_decisions import upcoming_decisions
from quarterdeck.testing.forecast_world import AS_OF, HORIZON_DAYS, forecast_world
from quarterdeck.testing.worlds import load_world


def _decisions(con, as_of=AS_OF, horizon=HORIZON_DAYS):
    tables = load_world(con, forecast_world())
    rows = con.to_pyarrow(upcoming_decisions(tables, as_of=as_of, base_currency="USD",
                                             horizon_days=horizon)).to_pylist()
    return {r["renewal_id"]: r for r in rows}


def test_each_contract_and_each_monthly_term_end_in_the_horizon_is_a_decision(con):
    d = _decisions(con)
    assert sorted(d) == ["alpha@2026-11-15", "bravo@2026-12-01", "charlie@2026-10-20",
                         "delta@2026-10-10", "delta@2026-11-10", "delta@2026-12-10"]
    assert d["bravo@2026-12-01"]["arr_at_stake"] == Decimal("24000.00")
    assert d["bravo@2026-12-01"]["owner_email"] == "ben@example.com"
    assert [d[f"delta@2026-{m}-10"]["decision_number"] for m in (10, 11, 12)] == [1, 2, 3]
    assert {r["term"] for k, r in d.items() if k.startswith("delta")} == {"monthly"}
    assert d["delta@2026-10-10"]["arr_at_stake"] == Decimal("1200.00")
    assert d["alpha@2026-11-15"]["days_out"] == 46


def test_a_cancellation_known_on_the_day_is_marked_with_its_notice(con):
    d = _decisions(con)
    assert d["charlie@2026-10-20"]["cancellation_known"] is True
    assert d["charlie@2026-10-20"]["notice_date"] == date(2026, 9, 1)
    assert d["alpha@2026-11-15"]["cancellation_known"] is False


def test_a_cancellation_not_yet_made_is_unknown_and_the_contract_renews_on_its_term(con):
    d = _decisions(con, as_of=date(2026, 8, 31), horizon=60)
    assert d["charlie@2026-10-20"]["cancellation_known"] is False
    assert d["charlie@2026-10-20"]["notice_date"] is None


def test_decisions_outside_the_horizon_are_left_out(con):
    d = _decisions(con, horizon=31)
    assert sorted(d) == ["charlie@2026-10-20", "delta@2026-10-10"]
    assert all(r["renewal_date"] <= AS_OF + timedelta(days=31) for r in d.values())


def test_as_of_a_date_the_decisions_are_those_of_the_data_as_it_stood(con):
    from quarterdeck.testing.point_in_time import as_it_stood

    day = date(2026, 8, 31)
    full = forecast_world()
    cut = {name: as_it_stood(name, table, day) for name, table in full.items()}
    seen = []
    for w in (full, cut):
        tables = load_world(con, w)
        seen.append(con.to_pyarrow(upcoming_decisions(tables, as_of=day, base_currency="USD",
                                                      horizon_days=120)).to_pylist())
    assert seen[0] == seen[1]
    assert not any(r["cancellation_known"] for r in seen[0])  # charlie cancels on 09-01
