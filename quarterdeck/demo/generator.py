"""The demo company: a realistic B2B SaaS customer base written as contract files plus the truth.

`generate_demo` simulates one hidden health process per account and draws everything observable
from it (usage, tickets, surveys, meetings, payments, renewals), then writes `out/data/*.parquet`
(what Quarterdeck loads), `out/truth/*.parquet` (what it must never read: latent health, true
churn probabilities, injected duplicates) and `out/demo.json`. Same seed, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from quarterdeck.demo import billing, quality_problems, support
from quarterdeck.demo.attributes import account_attributes
from quarterdeck.demo.company import account_columns, build_company, build_team
from quarterdeck.demo.engagement import build_activities
from quarterdeck.demo.health import simulate_health
from quarterdeck.demo.people import build_contacts, build_users
from quarterdeck.demo.subscriptions import Ledger, simulate_subscriptions
from quarterdeck.demo.timeline import Timeline
from quarterdeck.demo.truth import truth_tables
from quarterdeck.demo.usage import event_chunks, storage_usage
from quarterdeck.demo.writer import ChunkedEntityWriter, write_entity, write_truth

Progress = Callable[[str, float], None]
SOURCES = ("all", "billing-crm")


@dataclass(frozen=True)
class DemoSummary:
    """Where the demo was written and how many rows each file holds (keyed by relative path)."""

    out: Path
    data_dir: Path
    truth_dir: Path
    today: date
    rows: dict[str, int] = field(default_factory=dict)


def generate_demo(out: Path, *, accounts: int = 2000, years: int = 3, seed: int = 7,
                  today: date = date(2026, 9, 30), progress: Progress | None = None,
                  sources: str = "all") -> DemoSummary:
    """Write a demo company of `accounts` customers with `years` of history up to `today`.

    `sources`: `all` (every entity of the data contract), or `billing-crm`: a company with
    billing and a CRM only, no product events, usage, tickets or surveys, whose accounts
    carry custom columns (`lead_source`, `payment_method`) that, with the industry, hold part
    of what drives churn (`quarterdeck.demo.attributes`).
    Example: `generate_demo(Path("demo"), accounts=200)` writes demo/data/accounts.parquet, …
    """
    if accounts < 10 or years < 1:
        raise ValueError("the demo needs at least 10 accounts and 1 year of history")
    if sources not in SOURCES:
        raise ValueError(f"unknown demo sources {sources!r}; choose one of {', '.join(SOURCES)}")
    full = sources == "all"
    report = progress or (lambda stage, fraction: None)
    out = Path(out)
    data_dir, truth_dir = out / "data", out / "truth"
    data_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    timeline = Timeline(today, years)
    rows: dict[str, int] = {}

    def write(entity: str, columns: dict[str, object]) -> None:
        rows[f"data/{entity}.parquet"] = write_entity(data_dir, entity, columns)

    report("customers", 0.0)
    team = build_team(accounts, seed)
    company = build_company(accounts, timeline, team, seed)
    contacts = build_contacts(company, timeline, seed)
    users = build_users(company, seed)
    report("customers", 1.0)

    report("health and renewals", 0.0)
    custom, shift = ({}, None) if full else account_attributes(company, seed)
    health = simulate_health(company, contacts.champion_left_day, timeline, seed, shift)
    ledger = simulate_subscriptions(company, health, contacts.champion_left_day, timeline, seed)
    report("health and renewals", 1.0)

    if full:
        report("usage events", 0.0)
        events = ChunkedEntityWriter(data_dir, "events")
        for chunk in event_chunks(company, users, health, ledger.activity, timeline, seed,
                                  lambda f: report("usage events", f)):
            events.write(chunk)
        rows["data/events.parquet"] = events.close()

    report("support, surveys and meetings", 0.0)
    cutoff = quality_problems.stale_ticket_cutoff(timeline)
    tickets = quality_problems.drop_after(
        support.build_tickets(company, health, ledger.activity, timeline, seed), cutoff)
    accounts_cols = account_columns(company)
    # The help desk's duplicate accounts come with the help desk.
    duplicates = (quality_problems.add_duplicates(accounts_cols, company, tickets, seed)
                  if full else [])
    quality_problems.blank_optional_fields(accounts_cols, seed)
    ticket_accounts = quality_problems.split_tickets(tickets["account"], duplicates,
                                                     company.account_id, seed)
    surveys = support.build_surveys(company, contacts, health, ledger.activity, timeline, seed)
    activities = build_activities(company, health, ledger.activity, timeline, seed)
    report("support, surveys and meetings", 1.0)

    report("writing files", 0.0)
    write("team", team.columns())
    write("accounts", {**accounts_cols, **custom})
    if full:
        write("users", users.invited_by(timeline.today_day))
    write("contacts", contacts.columns)
    write("fx_rates", billing.build_fx_rates(timeline, seed))
    write("subscriptions", ledger_subscriptions(ledger, company.account_id))
    write("opportunities", ledger_opportunities(ledger, company.account_id))
    write("invoices", billing.build_invoices(ledger, company, health, timeline, seed))
    if full:
        write("tickets", support.ticket_columns(tickets, ticket_accounts, cutoff))
        write("surveys", surveys)
    write("activities", activities)
    if full:
        write("usage_daily", storage_usage(company, ledger.activity, health, timeline, seed))
    report("writing files", 0.8)
    for name, table in truth_tables(company, health, ledger, duplicates, timeline).items():
        rows[f"truth/{name}.parquet"] = write_truth(truth_dir, name, table)

    manifest = {"seed": seed, "accounts": accounts, "years": years,
                "today": today.isoformat(), **({} if full else {"sources": sources}),
                "rows": dict(sorted(rows.items()))}
    (out / "demo.json").write_text(json.dumps(manifest, indent=2) + "\n")
    report("writing files", 1.0)
    return DemoSummary(out, data_dir, truth_dir, today, dict(sorted(rows.items())))


def ledger_subscriptions(ledger: Ledger, account_ids: list[str]) -> dict[str, object]:
    """The subscriptions file's columns from the lifecycle's ledger."""
    s = ledger.subs
    n = len(s["account"])
    return {
        "subscription_id": [f"sub-{i + 1:07d}" for i in range(n)],
        "account_id": [account_ids[a] for a in s["account"]],
        "plan": s["plan"],
        "quantity": s["quantity"],
        "unit_price": s["unit_price"],
        "discount": s["discount"],
        "currency": s["currency"],
        "interval_months": s["interval_months"],
        "start_date": s["start"],
        "end_date": s["end"],
        "canceled_at": s["canceled"],
        "contract_id": s["contract"],
        "auto_renew": s["auto_renew"],
        "trial": s["trial"],
    }


def ledger_opportunities(ledger: Ledger, account_ids: list[str]) -> dict[str, object]:
    """The opportunities file's columns; an open renewal's close_date is its renewal date."""
    o = ledger.opps
    return {
        "opportunity_id": [f"opp-{i + 1:07d}" for i in range(len(o["account"]))],
        "account_id": [account_ids[a] for a in o["account"]],
        "kind": o["kind"],
        "amount_arr": o["amount_arr"],
        "currency": o["currency"],
        "stage": o["stage"],
        "close_date": o["close"],
        "outcome": o["outcome"],
    }

