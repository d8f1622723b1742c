"""No look-ahead: features and scores as of T on today's data equal those on the data as it
stood at T."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
from health_worlds import account, events, sub

from quarterdeck.health.definitions import DEFAULT_HEALTH_MODELS_PATH, load_health_models
from quarterdeck.health.feature_table import feature_table
from quarterdeck.health.health_scores import health_scores
from quarterdeck.testing.point_in_time import as_it_stood
from quarterdeck.testing.worlds import merge, reference_world, world

T = date(2024, 6, 30)


def _crossing_t() -> dict[str, pa.Table]:
    """Facts on both sides of T: each would change a feature if seen early."""
    return world(
        accounts=[account("x")],
        users=[{"user_id": "late", "account_id": "x", "created_at": "2024-07-03"}],
        subscriptions=[sub("x-1", "x", "2024-01-01", end_date="2024-08-01",
                           canceled_at="2024-07-10T00:00:00")],
        events=events("x", ["2024-06-20", "2024-06-30", "2024-07-01"], "e")
        + [{"event_id": "u1", "timestamp": "2024-07-04T08:00:00", "event": "export",
            "user_id": "late"}],
        tickets=[{"ticket_id": "t", "account_id": "x", "created_at": "2024-06-29",
                  "priority": "urgent", "solved_at": "2024-07-02", "csat": 1}],
        contacts=[{"contact_id": "c", "account_id": "x", "persona": "champion",
                   "left_at": "2024-07-01T09:00:00"}],
        invoices=[{"invoice_id": "i", "account_id": "x", "issued_at": "2024-05-01",
                   "due_at": "2024-06-01", "paid_at": "2024-07-01", "amount": 5,
                   "currency": "USD"}],
        surveys=[{"response_id": "r", "account_id": "x", "kind": "nps", "score": 2,
                  "responded_at": "2024-07-01"}],
        activities=[{"activity_id": "a", "account_id": "x", "kind": "qbr",
                     "occurred_at": "2024-07-01T10:00:00"}],
    )


def _snapshot(duck, data: dict[str, pa.Table]) -> tuple[list[dict], list[dict]]:
    tables = duck.load(data)
    f = feature_table(tables, as_of=T, base_currency="USD", lookback=(7, 30))
    scores = health_scores(f, load_health_models(DEFAULT_HEALTH_MODELS_PATH), as_of=T)
    key = ["account_id", "as_of"]
    return (duck.con.to_pyarrow(f.order_by(key)).to_pylist(),
            duck.con.to_pyarrow(scores.order_by(key)).to_pylist())


def test_features_and_scores_as_of_t_ignore_everything_after_t(duck):
    full = merge(reference_world(), _crossing_t())
    cut = {name: as_it_stood(name, table, T) for name, table in full.items()}
    now, then = _snapshot(duck, full), _snapshot(duck, cut)
    assert now == then
    x = next(r for r in now[0] if r["account_id"] == "x" and r["as_of"] == T)
    assert (x["open_tickets"], x["champion_left_90d"], x["overdue_invoices"]) == (1, 0, 1)
    assert x["latest_nps"] is None and x["days_to_renewal"] == 1  # next monthly boundary
