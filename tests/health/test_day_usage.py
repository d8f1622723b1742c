"""The day's usage facts, computed once for every account and read by health, scoring and the
book, give exactly what each computes from the events for its own points."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
from health_worlds import account, events, sub

from quarterdeck.health.churn_risk import scoring_rows
from quarterdeck.health.feature_table import day_usage, feature_table, reads_usage
from quarterdeck.health.features import FEATURES
from quarterdeck.rules.account_facts import account_facts
from quarterdeck.testing.worlds import merge, reference_world, world
from quarterdeck.warehouse.account_daily import account_usage_daily

T = date(2024, 6, 30)
DATES = [T, T - timedelta(days=7), T - timedelta(days=30)]
USAGE_FEATURES = sorted(n for n, f in FEATURES.items() if "usage" in f.sources)
KEY = [("account_id", "ascending"), ("as_of", "ascending")]


def _usage_world() -> dict[str, pa.Table]:
    """Paying `p` with its own events and a user's; `q`, known but not paying, whose events
    all come through a user created after the lookback's first day; `r`, paying, no usage."""
    return world(
        accounts=[account("p"), account("q"), account("r")],
        users=[{"user_id": "pu", "account_id": "p", "created_at": "2024-01-01"},
               {"user_id": "qu", "account_id": "q", "created_at": "2024-06-10"}],
        subscriptions=[sub("p-1", "p", "2024-01-01"), sub("r-1", "r", "2024-01-01")],
        events=events("p", ["2024-04-20", "2024-05-30", "2024-06-22", "2024-06-30"], "p")
        + [{"event_id": f"pu{i}", "timestamp": f"{d}T09:00:00", "event": kind,
            "user_id": "pu"} for i, (d, kind) in enumerate(
                [("2024-05-25", "export"), ("2024-06-24", "report"), ("2024-06-29", "login")])]
        + [{"event_id": f"qu{i}", "timestamp": f"{d}T09:00:00", "event": "login",
            "user_id": "qu"} for i, d in enumerate(
                ["2024-05-20", "2024-06-01", "2024-06-12", "2024-06-28"])],
    )


def _loaded(duck):
    tables = duck.load(merge(reference_world(), _usage_world()))
    usage = duck.con.create_table(
        "account_usage_daily", account_usage_daily(tables["events"], tables["users"], as_of=T))
    return tables, usage


def _rows(duck, expr) -> list[dict]:
    return duck.con.to_pyarrow(expr).sort_by(KEY).to_pylist()


def test_health_features_from_the_day_usage_equal_those_from_the_events(duck):
    tables, usage = _loaded(duck)
    known = day_usage(tables, dates=DATES, usage=usage, engine=duck.con)
    assert known is not None and known.dates == frozenset(DATES)
    alone = feature_table(tables, as_of=T, base_currency="USD", lookback=(7, 30), usage=usage)
    shared = feature_table(tables, as_of=T, base_currency="USD", lookback=(7, 30), usage=usage,
                           known=known)
    rows = _rows(duck, shared)
    assert rows == _rows(duck, alone)
    assert {r["account_id"] for r in rows} >= {"p", "r"}
    p = next(r for r in rows if r["account_id"] == "p" and r["as_of"] == T)
    assert p["active_days_30d"] == 4 and p["days_since_last_event"] == 0
    # The facts hold accounts the health points leave out (q pays nothing): the join drops them.
    facts = duck.con.to_pyarrow(known.facts).to_pylist()
    assert {r["account_id"] for r in facts} >= {"p", "q"}
    assert "q" not in {r["account_id"] for r in rows}


def test_scoring_rows_and_account_facts_read_the_day_usage_alike(duck):
    tables, usage = _loaded(duck)
    known = day_usage(tables, dates=DATES, usage=usage, engine=duck.con)
    alone = scoring_rows(tables, as_of=T, base_currency="USD", features=USAGE_FEATURES,
                         usage=usage)
    shared = scoring_rows(tables, as_of=T, base_currency="USD", features=USAGE_FEATURES,
                          usage=usage, known=known)
    assert shared.equals(alone) and shared.num_rows >= 2
    tiers = [("Tier 1", 100000.0), ("Tier 2", 0.0)]

    def facts(known_usage):
        f = account_facts(tables, as_of=T, base_currency="USD", tiers=tiers,
                          facts=USAGE_FEATURES, usage=usage, known=known_usage)
        return duck.con.to_pyarrow(f).sort_by("account_id").to_pylist()

    with_known = facts(known)
    assert with_known == facts(None)
    q = next(r for r in with_known if r["account_id"] == "q")
    # q's user, known since 2024-06-10, maps its events of the last 30 days to q.
    assert q["active_days_30d"] == 3 and q["features_used_30d"] == 1


def test_days_the_facts_do_not_hold_are_computed_from_the_events(duck):
    tables, usage = _loaded(duck)
    known = day_usage(tables, dates=[T], usage=usage, engine=duck.con)
    assert known.facts_for([T]) is not None and known.facts_for(DATES) is None
    alone = feature_table(tables, as_of=T, base_currency="USD", lookback=(7, 30), usage=usage)
    shared = feature_table(tables, as_of=T, base_currency="USD", lookback=(7, 30), usage=usage,
                           known=known)
    assert _rows(duck, shared) == _rows(duck, alone)


def test_no_day_usage_where_the_engine_does_not_hold_results(duck):
    tables, usage = _loaded(duck)
    assert day_usage(tables, dates=DATES, usage=usage, engine=None) is None


def test_whether_features_read_usage():
    assert reads_usage(["open_tickets", "usage_trend_30d"])
    assert not reads_usage(["open_tickets", "attribute_industry", "health_score"])
