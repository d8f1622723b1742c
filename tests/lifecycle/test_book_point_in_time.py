"""Stages, signals and playbook triggers as of T are the same on today's data and on the data
as it stood at T: facts dated after T (a go-live, a paid invoice, a ticket, a cancellation, a
champion leaving, a login) change nothing."""

from __future__ import annotations

from quarterdeck.testing.book_world import BOOK_DAY, book_world, evaluate_world
from quarterdeck.testing.point_in_time import as_it_stood
from quarterdeck.testing.worlds import merge, world


def later_facts():
    """Facts of the book world's accounts dated after BOOK_DAY."""
    return world(
        activities=[{"activity_id": "late-live", "account_id": "new-co", "kind": "milestone",
                     "subject": "Go-live", "occurred_at": "2026-07-15T10:00:00"},
                    {"activity_id": "late-qbr", "account_id": "enterprise", "kind": "qbr",
                     "subject": "Q2 review", "occurred_at": "2026-07-02T10:00:00"}],
        tickets=[{"ticket_id": "late-t", "account_id": "young", "created_at": "2026-07-01",
                  "priority": "urgent"}],
        contacts=[{"contact_id": "late-c", "account_id": "renewing", "persona": "champion",
                   "created_at": "2024-01-01", "left_at": "2026-07-03"}],
        events=[{"event_id": "late-e", "account_id": "steady", "user_id": "x",
                 "event": "login", "timestamp": "2026-07-01T08:00:00"}],
        subscriptions=[{"subscription_id": "s-young-2", "account_id": "young", "plan": "team",
                        "quantity": 5, "unit_price": "100", "currency": "USD",
                        "interval_months": 1, "start_date": "2026-07-01"}],
    )


def _rows(con, table, key):
    return sorted(con.to_pyarrow(table).to_pylist(), key=lambda r: tuple(r[k] for k in key))


def test_the_book_as_of_t_ignores_what_happened_after_t() -> None:
    full = merge(book_world(), later_facts())
    full_con, full_day = evaluate_world(full)
    cut = {name: as_it_stood(name, table, BOOK_DAY) for name, table in full.items()}
    cut_con, cut_day = evaluate_world(cut)
    assert _rows(full_con, full_day.stages, ["account_id"]) == _rows(
        cut_con, cut_day.stages, ["account_id"])
    fired_key = ["signal", "account_id"]
    full_fired = _rows(full_con, full_day.fired, fired_key)
    cut_fired = _rows(cut_con, cut_day.fired, fired_key)
    assert full_fired == cut_fired
    assert _rows(full_con, full_day.triggers, ["playbook", "account_id"]) == _rows(
        cut_con, cut_day.triggers, ["playbook", "account_id"])


def test_the_later_facts_do_change_the_book_after_t() -> None:
    """The test above would pass vacuously if the later facts changed nothing at all."""
    from datetime import date

    con, day = evaluate_world(merge(book_world(), later_facts()), as_of=date(2026, 7, 20))
    stages = {r["account_id"]: r for r in con.to_pyarrow(day.stages).to_pylist()}
    assert stages["new-co"]["go_live_on"] == date(2026, 7, 15)
    assert stages["young"]["mrr"] == 700
