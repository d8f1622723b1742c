"""What the account page and the account API read beyond the snapshot: the timeline (the
warehouse's events merged with the book's alerts, tasks and notes), contacts, subscriptions,
opportunities, weekly usage and the health score over the published days.

Everything reads the app database. Timeline entries are written as sentences here, once, so the
page and the API say the same thing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, Row, bindparam, select

from quarterdeck.app.book_queries import AccountBook
from quarterdeck.app.formatting import money
from quarterdeck.appdb.account_detail_models import (
    AccountContact,
    AccountDetailPublished,
    AccountOpportunity,
    AccountSubscription,
    AccountUsageWeek,
    TimelineEntry,
)
from quarterdeck.appdb.models import HealthScore

#: The timeline's kinds, grouped as the page's filter offers them.
TIMELINE_GROUPS = {
    "revenue": ("subscription_started", "trial_started", "subscription_ended",
                "cancellation_recorded", "opportunity_won", "opportunity_lost"),
    "support": ("ticket_opened", "nps_response", "csat_response"),
    "engagement": ("meeting", "qbr", "call", "email", "note", "milestone", "contact_left"),
    "book": ("alert", "task", "logged_note"),
}
GROUP_OF = {kind: group for group, kinds in TIMELINE_GROUPS.items() for kind in kinds}
HEALTH_HISTORY_DAYS = 400


class TimelineItem(BaseModel):
    occurred_at: datetime
    kind: str
    group: str
    text: str
    detail: str | None = None


class Contact(BaseModel):
    contact_id: str
    name: str | None
    email: str | None
    title: str | None
    persona: str | None
    champion: bool
    created_on: date | None
    left_on: date | None


class Subscription(BaseModel):
    subscription_id: str
    plan: str
    quantity: Decimal
    currency: str
    interval_months: int
    start_date: date
    end_date: date | None
    contract_id: str | None
    auto_renew: bool | None
    trial: bool
    canceled_on: date | None
    mrr_local: Decimal
    mrr: Decimal | None
    status: str


class Opportunity(BaseModel):
    opportunity_id: str
    kind: str
    amount_arr: Decimal | None
    currency: str | None
    stage: str | None
    close_date: date | None
    outcome: str | None


class UsageWeek(BaseModel):
    week_start: date
    events: int
    avg_daily_active_users: float


class HealthPoint(BaseModel):
    as_of: date
    score: float | None
    band: str | None
    components: dict[str, float | None]


class AccountDetail360(BaseModel):
    as_of: date | None
    timeline: list[TimelineItem]
    contacts: list[Contact]
    subscriptions: list[Subscription]
    opportunities: list[Opportunity]
    usage: list[UsageWeek]
    health_history: list[HealthPoint]


def _when(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _sentence(e: Row[Any], base_currency: str | None) -> tuple[str, str | None]:
    """A warehouse timeline entry in words: (text, detail)."""
    subject, value = e.subject, e.value
    amount = money(value, e.currency or base_currency) if value is not None else None
    match e.kind:
        case "subscription_started":
            return f"Subscription started: {subject}", f"MRR {amount}" if amount else None
        case "trial_started":
            return f"Trial started: {subject}", None
        case "subscription_ended":
            return f"Subscription ended: {subject}", f"MRR {amount}" if amount else None
        case "cancellation_recorded":
            ends = f", service ends {e.related_on.isoformat()}" if e.related_on else ""
            return f"Cancellation recorded: {subject}{ends}", None
        case "ticket_opened":
            priority = (subject or "").capitalize() or "A"
            solved = (f"solved in {value:.1f} days" if value is not None
                      else "not solved by this day")
            return f"{priority} ticket opened", solved
        case "nps_response" | "csat_response":
            score = f"{value:.0f}" if value is not None else "?"
            scale = "/10" if e.kind == "nps_response" else "/5"
            label = "NPS" if e.kind == "nps_response" else "CSAT"
            return f"{label} response: {score}{scale}", subject
        case "opportunity_won" | "opportunity_lost":
            outcome = "won" if e.kind == "opportunity_won" else "lost"
            kind = (subject or "").capitalize()
            return f"{kind} opportunity {outcome}", f"{amount} ARR" if amount else None
        case "contact_left":
            return f"Contact left: {subject}", None
        case "qbr":
            return "QBR", subject
        case _:
            return e.kind.capitalize(), subject


def account_360(engine: Engine, account_id: str, *, book: AccountBook | None = None,
                base_currency: str | None = None, timeline_limit: int = 200) -> AccountDetail360:
    """The account's detail as published with the latest run, its book merged into the
    timeline (newest first, at most `timeline_limit` entries)."""
    given = {"account_id": account_id, "limit": timeline_limit,
             "days": HEALTH_HISTORY_DAYS}
    with engine.connect() as c:
        entries, contacts, subs, opps, usage, health = (
            c.execute(statement, given).all() for statement in _DETAIL)
        published = c.scalar(select(AccountDetailPublished.as_of))
    # The day of the detail kept, for an account that has any (rows that did not change keep
    # the day they were first written).
    as_of = published if any((entries, contacts, subs, opps, usage)) else None
    timeline = []
    for e in entries:
        text, detail = _sentence(e, base_currency)
        timeline.append(TimelineItem(occurred_at=e.occurred_at, kind=e.kind,
                                     group=GROUP_OF.get(e.kind, "engagement"), text=text,
                                     detail=detail))
    result = AccountDetail360(
        as_of=as_of, timeline=timeline,
        contacts=[Contact(**_fields(x, Contact), champion=x.persona == "champion")
                  for x in contacts],
        subscriptions=[Subscription(**_fields(x, Subscription)) for x in subs],
        opportunities=[Opportunity(**_fields(x, Opportunity)) for x in opps],
        usage=[UsageWeek(**_fields(x, UsageWeek)) for x in usage],
        health_history=[HealthPoint(as_of=h.as_of, score=h.score, band=h.band,
                                    components=_points(h)) for h in reversed(health)],
    )
    if book is not None:
        result.timeline = sorted([*result.timeline, *_book_items(book)],
                                 key=lambda i: i.occurred_at, reverse=True)[:timeline_limit]
    return result


def _of_account(model: Any, *order: Any) -> Any:
    return (select(*model.__table__.c).where(model.account_id == bindparam("account_id"))
            .order_by(*order))


# Built once: a page runs each with its account. Plain rows, not ORM objects: a page reads
# about a hundred of them and changes none.
_DETAIL = (
    _of_account(TimelineEntry, TimelineEntry.occurred_at.desc(), TimelineEntry.kind,
                TimelineEntry.ref_id).limit(bindparam("limit")),
    _of_account(AccountContact, AccountContact.left_on.is_not(None),
                AccountContact.persona != "champion", AccountContact.persona,
                AccountContact.name, AccountContact.contact_id),
    _of_account(AccountSubscription, AccountSubscription.start_date.desc(),
                AccountSubscription.subscription_id),
    _of_account(AccountOpportunity, AccountOpportunity.close_date.desc(),
                AccountOpportunity.opportunity_id),
    _of_account(AccountUsageWeek, AccountUsageWeek.week_start),
    select(HealthScore.as_of, HealthScore.score, HealthScore.band, HealthScore.components)
    .where(HealthScore.account_id == bindparam("account_id"))
    .order_by(HealthScore.as_of.desc()).limit(bindparam("days")),
)


def _fields(row: Row[Any], model: type[BaseModel]) -> dict[str, object]:
    values = row._mapping
    return {name: values[name] for name in model.model_fields if name in values}


def _points(h: Row[Any]) -> dict[str, float | None]:
    """A published score's component points by feature."""
    return {feature: parts.get("points") for feature, parts in (h.components or {}).items()
            if parts.get("points") is not None}


def _book_items(book: AccountBook) -> list[TimelineItem]:
    """The book's alerts, tasks and notes as timeline entries."""
    items = [TimelineItem(occurred_at=_when(a.fired_on), kind="alert", group="book",
                          text=f"Alert: {a.signal.replace('_', ' ')} ({a.severity})",
                          detail=f"{a.rule} · {a.state.replace('_', ' ')}")
             for a in book.alerts]
    items += [TimelineItem(occurred_at=_when(t.due_on), kind="task", group="book",
                           text=f"Task {t.status}: {t.title}",
                           detail=t.outcome_note or t.playbook.replace("_", " "))
              for t in book.tasks if t.status in ("done", "skipped", "overdue")]
    items += [TimelineItem(occurred_at=_when(n.occurred_on), kind="logged_note", group="book",
                           text=f"{n.kind.capitalize()} logged by {n.author}", detail=n.body)
              for n in book.notes]
    return items
