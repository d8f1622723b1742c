"""Which source a warehouse row came from, and which rows exist as of a date.

Every id a configured source emits carries its name as a prefix (`stripe:cus_N1`); a row
whose id has no registered prefix came from files or the tracking API, the source `files`.
The data-quality checks read the tables as loaded (not resolved to customers), so each row
keeps the id its source gave it.

Example: row_source(tickets, "tickets", ["zendesk"]) is "zendesk" for ticket "zendesk:361"
and "files" for ticket "T-100".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.warehouse.schema import empty_table

FILES_SOURCE = "files"


def source_column(entity: str) -> str | None:
    """The column whose prefix names a row's source: the entity's own id when it has one,
    else its account's id; None for entities only files carry (team, fx_rates)."""
    ent = ENTITIES[entity]
    for name in ent.key:
        if name.endswith("_id") and ent.column(name).type == "string":
            return name
    return "account_id" if "account_id" in ent.column_names else None


def row_id(table: ir.Table, entity: str) -> ir.StringValue:
    """Each row's key as one string (key columns joined with "/"), to name it in examples."""
    parts = [table[k].cast(dt.string).fill_null("") for k in ENTITIES[entity].key]
    out = parts[0]
    for part in parts[1:]:
        out = out + "/" + part
    return out


def row_source(table: ir.Table, entity: str, sources: Collection[str]) -> ir.StringValue:
    """Each row's source name: its id's prefix when that is a configured source, else
    `files`."""
    column = source_column(entity)
    if column is None or not sources:
        return ibis.literal(FILES_SOURCE)
    prefix = table[column].re_extract(r"^([^:]+):", 1)
    return ibis.ifelse(prefix.isin(sorted(sources)), prefix, ibis.literal(FILES_SOURCE))


def day_end(as_of: date) -> ir.TimestampScalar:
    """Midnight after `as_of`: a timestamp is known as of that day iff it is earlier."""
    return ibis.timestamp(as_of + timedelta(days=1))


def known_rows(table: ir.Table, entity: str, as_of: date) -> ir.Table:
    """The rows that exist as of `as_of`: dated (by the entity's point-in-time column) on or
    before it, or not dated at all."""
    column = ENTITIES[entity].point_in_time
    if column is None:
        return table
    value = table[column]
    if ENTITIES[entity].column(column).type == "date":
        return table.filter(value.isnull() | (value <= ibis.literal(as_of, dt.date)))
    return table.filter(value.isnull() | (value < day_end(as_of)))


def loaded_tables(con: BaseBackend) -> dict[str, ir.Table]:
    """Every entity's table as loaded, not resolved to customers (empty when never loaded)."""
    present = set(con.list_tables())
    return {name: con.table(name) if name in present else empty_table(name)
            for name in ENTITIES}
