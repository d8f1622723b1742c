"""Orphans: rows naming an account, contact or user that does not exist.

The loader refuses a file row whose account is unknown, but some links it cannot check (a
survey's contact, an event's user) and a warehouse can gain rows by other roads. The links:

- every column the data contract marks as a reference (tickets.account_id → accounts,
  accounts.parent_account_id → accounts, …);
- surveys.contact_id → contacts;
- events without an account_id whose user_id names no user of a known account: the event
  belongs to nobody.

Example: a ticket filed under account `acme-old`, which no accounts row holds, is an orphan
of the `unknown_account` test on tickets.account_id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ibis.expr.types as ir

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.quality.definitions import QualityDefinitions
from quarterdeck.quality.row_tests import RowTest


@dataclass(frozen=True)
class Link:
    """`entity.column` must name a row of `target` (values from `values`)."""

    entity: str
    column: str
    target: str  # what is named, in words: account, contact, user
    values: Callable[[Mapping[str, ir.Table]], ir.Table]
    only_when_empty: str | None = None  # judge only rows where this column is empty


def _column(entity: str, column: str) -> Callable[[Mapping[str, ir.Table]], ir.Table]:
    return lambda tables: tables[entity].select(column)


def _users_of_known_accounts(tables: Mapping[str, ir.Table]) -> ir.Table:
    users, accounts = tables["users"], tables["accounts"]
    known = accounts.select(_account=accounts.account_id)
    return users.join(known, users.account_id == known._account).select("user_id")


def links() -> list[Link]:
    """Every link checked, the data contract's references first."""
    out = []
    for entity in ENTITIES.values():
        for column in entity.columns:
            if column.references:
                target, target_column = column.references.split(".")
                out.append(Link(entity.name, column.name, target.removesuffix("s"),
                                _column(target, target_column)))
    out.append(Link("surveys", "contact_id", "contact", _column("contacts", "contact_id")))
    out.append(Link("events", "user_id", "user", _users_of_known_accounts,
                    only_when_empty="account_id"))
    return out


def _test(link: Link, severity: str, threshold: float) -> RowTest:
    def applies(t: ir.Table) -> ir.BooleanValue:
        has = t[link.column].notnull()
        return has & t[link.only_when_empty].isnull() if link.only_when_empty else has

    what = ("the event's user belongs to a known account" if link.target == "user"
            else f"{link.column} names a known {link.target}")
    return RowTest(link.entity, "orphans", f"unknown_{link.target}", link.column, severity,
                   threshold, what, lambda t, found: ~found, applies, link.values)


def orphan_tests(definitions: QualityDefinitions) -> list[RowTest]:
    """A row test per link."""
    settings = definitions.orphans
    return [_test(link, settings.severity, settings.threshold) for link in links()]
