"""A small book whose stages and signals can be checked with pencil and paper, as of
2026-06-30 (`BOOK_DAY`), with the shipped lifecycle, signals and playbooks.

Each account lives one situation (stage; signals that fire):

- new-co: paying since 2026-06-01, kickoff held, not live yet (onboarding; none).
- renewing: annual contract ending 2026-08-01, onboarded, green (renewal; none).
- red-renewal: annual contract ending 2026-09-01, red health (at_risk; renewal_at_risk, owned
  by the CSM's manager).
- gone: paid 2025-01-01 … 2026-03-01 (churned; none).
- lead: never paid (prospect; none).
- trying: a trial running since 2026-06-15 (trial; none).
- steady: monthly since 2023-01-01, an invoice due 2026-06-01 unpaid, 6 tickets in June,
  weekly active users 5 → 2 (mature; invoice_overdue at 29 days, ticket_surge, usage_drop at
  −60%).
- enterprise: Enterprise, 3-year contract 2024-01-01 … 2027-01-01, last QBR 2026-01-15, a
  champion left 2026-06-20 (mature; qbr_missing at 166 days, champion_left).
- young: monthly since 2025-11-01, 2 seats, 2 users active (adoption; seats_full).

Health is given, not computed (`book_health`): red for red-renewal, green for the others.
Everyone is owned by ana@example.com, whose manager is mo@example.com.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from quarterdeck.lifecycle.book import BookDay, BookDefinitions, default_book, evaluate_book
from quarterdeck.testing.worlds import World, load_world, world
from quarterdeck.warehouse.account_daily import account_daily
from quarterdeck.warehouse.connection import connect

BOOK_DAY = date(2026, 6, 30)
CSM, MANAGER = "ana@example.com", "mo@example.com"


def _account(account_id: str, segment: str = "Mid-Market") -> dict[str, Any]:
    return {"account_id": account_id, "name": account_id.replace("-", " ").title(),
            "segment": segment, "owner_email": CSM, "created_at": "2022-06-01"}


def _sub(sub_id: str, account_id: str, start: str, *, end: str | None = None, months: int = 1,
         seats: int = 10, price: str = "100", trial: bool = False) -> dict[str, Any]:
    return {"subscription_id": sub_id, "account_id": account_id, "plan": "team",
            "quantity": seats, "unit_price": price, "currency": "USD", "interval_months": months,
            "start_date": start, "end_date": end, "trial": trial}


def _milestones(account_id: str, kickoff: str, go_live: str | None) -> list[dict[str, Any]]:
    rows = [{"activity_id": f"{account_id}-kickoff", "account_id": account_id,
             "kind": "milestone", "subject": "Kickoff", "occurred_at": f"{kickoff}T10:00:00"}]
    if go_live:
        rows.append({"activity_id": f"{account_id}-live", "account_id": account_id,
                     "kind": "milestone", "subject": "Go-live",
                     "occurred_at": f"{go_live}T10:00:00"})
    return rows


def _logins(account_id: str, users: int, first: date, days: int) -> list[dict[str, Any]]:
    return [{"event_id": f"{account_id}-{u}-{first}-{d}", "account_id": account_id,
             "user_id": f"{account_id}-u{u}", "event": "login",
             "timestamp": f"{first + timedelta(days=d)}T09:00:00"}
            for u in range(users) for d in range(days)]


def book_world() -> World:
    """The accounts of the module's table, in the data contract."""
    accounts = [_account(a) for a in ("new-co", "renewing", "red-renewal", "gone", "lead",
                                      "trying", "steady", "young")]
    accounts.append(_account("enterprise", "Enterprise"))
    subscriptions = [
        _sub("s-new", "new-co", "2026-06-01"),
        _sub("s-ren", "renewing", "2025-08-01", end="2026-08-01", months=12, price="1200"),
        _sub("s-red", "red-renewal", "2025-09-01", end="2026-09-01", months=12, price="1200"),
        _sub("s-gone", "gone", "2025-01-01", end="2026-03-01"),
        _sub("s-try", "trying", "2026-06-15", end="2026-07-15", trial=True),
        _sub("s-steady", "steady", "2023-01-01"),
        _sub("s-ent", "enterprise", "2024-01-01", end="2027-01-01", months=36, price="36000"),
        _sub("s-young", "young", "2025-11-01", seats=2),
    ]
    activities = [
        *_milestones("new-co", "2026-06-03", None),
        *_milestones("renewing", "2025-08-05", "2025-09-10"),
        *_milestones("red-renewal", "2025-09-05", "2025-10-01"),
        *_milestones("steady", "2023-01-04", "2023-02-20"),
        *_milestones("enterprise", "2024-01-08", "2024-03-01"),
        *_milestones("young", "2025-11-03", "2025-12-01"),
        {"activity_id": "ent-qbr", "account_id": "enterprise", "kind": "qbr",
         "subject": "Q4 review", "occurred_at": "2026-01-15T15:00:00"},
    ]
    tickets = [{"ticket_id": f"t{i}", "account_id": "steady", "created_at": f"2026-06-{10 + i}",
                "priority": "normal"} for i in range(6)]
    invoices = [{"invoice_id": "inv-1", "account_id": "steady", "issued_at": "2026-05-15",
                 "due_at": "2026-06-01", "amount": "1000", "currency": "USD", "status": "open"}]
    contacts = [{"contact_id": "c-champ", "account_id": "enterprise", "name": "Cleo",
                 "persona": "champion", "created_at": "2024-01-01", "left_at": "2026-06-20"}]
    events = [*_logins("steady", 5, date(2026, 5, 25), 7), *_logins("steady", 2,
                                                                      date(2026, 6, 24), 7),
              *_logins("young", 2, date(2026, 6, 20), 10)]
    team = [{"email": CSM, "name": "Ana", "role": "csm", "manager_email": MANAGER,
             "capacity_accounts": 8, "capacity_arr": 100000},
            {"email": MANAGER, "name": "Mo", "role": "manager"}]
    return world(accounts=accounts, subscriptions=subscriptions, activities=activities,
                 tickets=tickets, invoices=invoices, contacts=contacts, events=events, team=team)


def book_health(as_of: date = BOOK_DAY) -> pa.Table:
    """Health of the paying accounts: red for red-renewal, green (80) for the others."""
    paying = ["new-co", "renewing", "red-renewal", "steady", "enterprise", "young"]
    return pa.table({
        "account_id": paying, "as_of": [as_of] * len(paying),
        "score": [30.0 if a == "red-renewal" else 80.0 for a in paying],
        "band": ["red" if a == "red-renewal" else "green" for a in paying],
        "change_7d": [None] * len(paying), "change_30d": [None] * len(paying)},
        schema=pa.schema([("account_id", pa.string()), ("as_of", pa.date32()),
                          ("score", pa.float64()), ("band", pa.string()),
                          ("change_7d", pa.float64()), ("change_30d", pa.float64())]))


def evaluate_world(data: World, as_of: date = BOOK_DAY,
                   book: BookDefinitions | None = None) -> tuple[BaseBackend, BookDay]:
    """The book of `data` as of `as_of` on a DuckDB in memory, with `book_health` as the
    day's health (the shipped definitions unless `book` is given)."""
    con = connect("duckdb://")
    tables = load_world(con, data)
    daily = account_daily(tables, as_of=as_of, base_currency="USD")
    day = evaluate_book(tables, book or default_book(), as_of=as_of, base_currency="USD",
                        tiers=[("Tier 1", 100000), ("Tier 2", 0)],
                        health=ibis.memtable(book_health(as_of)), daily=daily)
    return con, day
