"""How current each entity's data is as of a date, and what a figure asked for a later day
gets wrong.

An entity's data is as new as the newest fact it records on or before the as-of day: a
subscription's start or cancellation (not its end date, which is known from the signing), a
ticket opened or solved, an event, an invoice issued or paid. Asked for a day later than that,
every figure still computes, but silently as if nothing happened since: a contract that ended
after the last export and was renewed shows as churn, usage shows as none. `stale_data` names
each entity more than `GRACE_DAYS` behind, with a sentence saying so.

Example: data exported on 2026-09-30, asked as of 2026-12-04::

    ages = data_ages(con.to_pyarrow(newest_facts(tables, as_of)).to_pylist(), as_of)
    [a.sentence for a in stale_data(ages)]
    # ['the newest subscription data is from 2026-09-30, 65 days before 2026-12-04: contracts
    #   ending since then show as churn until renewals are loaded', …]
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.warehouse.canonical import canonical_tables

# A nightly export is a day behind by the time it is read; more than this is worth a warning.
GRACE_DAYS = 1


@dataclass(frozen=True)
class Facts:
    """What dates an entity's facts, how to name it, and what goes wrong after its newest."""

    columns: tuple[str, ...]
    noun: str
    consequence: str


FACTS: dict[str, Facts] = {
    "subscriptions": Facts(("start_date", "canceled_at"), "subscription",
                           "contracts ending since then show as churn until renewals are loaded"),
    "events": Facts(("timestamp",), "product usage", "usage since then shows as none"),
    "usage_daily": Facts(("date",), "daily usage", "usage since then shows as none"),
    "tickets": Facts(("created_at", "solved_at"), "ticket",
                     "support since then shows as quiet and open tickets as still open"),
    "surveys": Facts(("responded_at",), "survey", "no survey answer since then counts"),
    "activities": Facts(("occurred_at",), "activity",
                        "meetings and calls since then show as missing"),
    "invoices": Facts(("issued_at", "paid_at"), "invoice",
                      "invoices paid since then show as unpaid"),
}


@dataclass(frozen=True)
class DataAge:
    """The newest fact of one entity's data as of a day."""

    entity: str
    newest: date
    as_of: date

    @property
    def days_behind(self) -> int:
        return (self.as_of - self.newest).days

    @property
    def sentence(self) -> str:
        """"the newest subscription data is from 2026-09-30, 65 days before 2026-12-04: …"."""
        facts = FACTS[self.entity]
        n = self.days_behind
        return (f"the newest {facts.noun} data is from {self.newest.isoformat()}, {n} "
                f"day{'s' if n != 1 else ''} before {self.as_of.isoformat()}: "
                f"{facts.consequence}")


def newest_facts(tables: Mapping[str, ir.Table], as_of: date,
                 skip: Collection[tuple[str, str]] = ()) -> ir.Table:
    """Per entity of `FACTS` in `tables` and fact column (but the (entity, column) pairs of
    `skip`): entity, column, newest (the latest value on or before `as_of`, as a date; NULL
    when none)."""
    day = ibis.literal(as_of, dt.date)
    parts = []
    for name, facts in FACTS.items():
        if name not in tables:
            continue
        t = tables[name]
        for column in facts.columns:
            if (name, column) in skip:
                continue
            value = t[column].cast(dt.date)
            parts.append(t.aggregate(newest=value.max(where=value <= day)).mutate(
                entity=ibis.literal(name), column=ibis.literal(column)))
    if not parts:
        raise ValueError("no table with dated facts was given")
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def data_ages(rows: Iterable[Mapping[str, object]], as_of: date) -> list[DataAge]:
    """The executed rows of `newest_facts`, one age per entity that holds any fact, in the
    order of `FACTS`."""
    newest: dict[str, date] = {}
    for row in rows:
        value = row["newest"]
        if isinstance(value, date):
            entity = str(row["entity"])
            newest[entity] = max(newest.get(entity, value), value)
    return [DataAge(e, newest[e], as_of) for e in FACTS if e in newest]


def stale_data(ages: Iterable[DataAge], *, entities: Iterable[str] | None = None,
               grace_days: int = GRACE_DAYS) -> list[DataAge]:
    """The ages more than `grace_days` behind their as-of day (of `entities` only, if given)."""
    wanted = None if entities is None else set(entities)
    return [a for a in ages if a.days_behind > grace_days
            and (wanted is None or a.entity in wanted)]


def data_warnings(con: BaseBackend, as_of: date, *, entities: Iterable[str] | None = None,
                  grace_days: int = GRACE_DAYS,
                  known: Mapping[tuple[str, str], date | None] | None = None) -> list[DataAge]:
    """`stale_data` of the warehouse behind `con` (its customer-resolved tables) as of a day.
    `known`: the newest value of an (entity, column) already found as of the day (e.g. the
    newest event, kept by the events' quality checks), not read again."""
    tables = canonical_tables(con)
    known = dict(known or {})
    rows = con.to_pyarrow(newest_facts(tables, as_of, skip=known)).to_pylist()
    rows += [{"entity": e, "column": c, "newest": d} for (e, c), d in known.items()
             if e in tables]
    return stale_data(data_ages(rows, as_of), entities=entities, grace_days=grace_days)
