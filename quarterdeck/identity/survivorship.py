"""Survivorship: one accounts row per customer, each field from the source trusted for it.

- The customer id is the account id of the cluster's most trusted member: the account from
  the first source in `source_priority` order (by default files, warehouse tables, CRMs,
  billing, help desk), the oldest such account when there are several (the original record,
  so the id does not change when a later duplicate appears), then the smallest id.
- Each field takes the first non-empty value going through the members in that field's order:
  its `survivorship` sources first, then `source_priority`; between accounts of one source the
  oldest (`tie_break: oldest`, default) or the newest record first, then the smallest id.
- `created_at` is the earliest of the members' (the customer existed from its first record);
  `external_ids` holds the members' ids in other systems by source (a connector account's
  own id included), the more trusted member's first; `parent_account_id` names the
  parent's customer (empty if that is the customer itself).

Example: with files before stripe, customer_row([file_acct, stripe_acct], ...) keeps the
file's name and takes the domain from Stripe when the file has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
import pyarrow as pa

from quarterdeck.identity.definitions import IdentityDefinitions
from quarterdeck.identity.exact_keys import own_key, parse_external_ids
from quarterdeck.identity.source_priority import FILES_SOURCE, priority_order

Row = dict[str, object]
_NEVER = datetime.max


@dataclass(frozen=True)
class Trust:
    """Source orders: the workspace's, and each field's."""

    order: list[str]
    fields: dict[str, list[str]]
    tie_break: str

    @classmethod
    def of(cls, definitions: IdentityDefinitions, source_kinds: Mapping[str, str]) -> Trust:
        order = priority_order(definitions.source_priority, source_kinds)
        fields = {f: priority_order(s, source_kinds, fallback=order)
                  for f, s in definitions.survivorship.items()}
        return cls(order, fields, definitions.tie_break)

    def rank(self, source: str, field: str | None = None) -> int:
        order = self.fields.get(field, self.order) if field else self.order
        return order.index(source) if source in order else len(order)


def _created(row: Row) -> datetime:
    value = row.get("created_at")
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return _NEVER


def _oldest_first(row: Row) -> tuple:
    created = _created(row)
    return (created == _NEVER, created)


def _newest_first(row: Row) -> tuple:
    created = _created(row)
    return (created == _NEVER, -(created - datetime.min).total_seconds())


def customer_member(members: Sequence[Row], sources: Sequence[str], trust: Trust) -> int:
    """Index of the most trusted member: the customer's own record."""
    return min(range(len(members)),
               key=lambda i: (trust.rank(sources[i]), _oldest_first(members[i]),
                              str(members[i]["account_id"])))


def _merged_external_ids(members: Sequence[Row], order: Sequence[int],
                         source_names: Sequence[str]) -> str | None:
    ids: dict[str, str] = {}
    for i in order:
        row = members[i]
        source, own = own_key(str(row["account_id"]), source_names)
        held = parse_external_ids(row.get("external_ids")).items()
        for name, value in [(source, own), *held] if source != FILES_SOURCE else held:
            ids.setdefault(name, value)
    return orjson.dumps(dict(sorted(ids.items()))).decode() if ids else None


def customer_row(members: Sequence[Row], sources: Sequence[str], trust: Trust,
                 customer_of: Callable[[str], str], source_names: Sequence[str]) -> Row:
    """The accounts row of one customer from its members' rows (same columns)."""
    by_trust = sorted(range(len(members)), key=lambda i: (
        trust.rank(sources[i]), _oldest_first(members[i]), str(members[i]["account_id"])))
    customer = members[by_trust[0]]["account_id"]
    recency = _oldest_first if trust.tie_break == "oldest" else _newest_first
    out: Row = {}
    for column in members[0]:
        if column == "account_id":
            out[column] = customer
            continue
        if column == "created_at":
            dates = [m[column] for m in members if m[column] is not None]
            out[column] = min(dates, key=lambda d: d.replace(tzinfo=None)) if dates else None
            continue
        if column == "external_ids":
            out[column] = _merged_external_ids(members, by_trust, source_names)
            continue
        order = sorted(range(len(members)), key=lambda i: (
            trust.rank(sources[i], column), recency(members[i]),
            str(members[i]["account_id"])))
        out[column] = next((members[i][column] for i in order
                            if members[i][column] not in (None, "")), None)
    parent = out.get("parent_account_id")
    if parent is not None:
        mapped = customer_of(str(parent))
        out["parent_account_id"] = None if mapped == customer else mapped
    return out


def customer_accounts(accounts: pa.Table, clusters: Sequence[Sequence[int]],
                      sources: Sequence[str], trust: Trust, customer_ids: Mapping[str, str],
                      source_names: Sequence[str]) -> pa.Table:
    """One row per customer, in the schema of `accounts`, ordered by customer id.

    `clusters` holds row indices of `accounts`; `customer_ids` maps every account id to its
    customer id. A lone account keeps its row (with its parent mapped to a customer)."""
    def customer_of(account_id: str) -> str:
        return customer_ids.get(account_id, account_id)

    singles = [c[0] for c in clusters if len(c) == 1]
    rows: list[Row] = []
    if singles:
        rows = accounts.take(pa.array(singles, pa.int64())).to_pylist()
        for row in rows:
            parent = row.get("parent_account_id")
            if parent is not None:
                mapped = customer_of(str(parent))
                row["parent_account_id"] = None if mapped == row["account_id"] else mapped
    for members in (c for c in clusters if len(c) > 1):
        member_rows = accounts.take(pa.array(members, pa.int64())).to_pylist()
        rows.append(customer_row(member_rows, [sources[i] for i in members], trust,
                                 customer_of, source_names))
    rows.sort(key=lambda r: str(r["account_id"]))
    return pa.Table.from_pylist(rows, schema=accounts.schema)
