"""Cut a data set back to what was known on a date: the oracle for point-in-time tests.

As of day T: a row dated after T (its entity's `point_in_time` column) did not exist yet; a
ticket solved after T was open; a contact who left after T had not left; an invoice paid
after T was unpaid; a subscription cancelled after T had no known end yet.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from quarterdeck.contract.entities import ENTITIES

# column that becomes empty when it is dated after T → the columns that empty with it
LATER_FACTS: dict[str, dict[str, tuple[str, ...]]] = {
    "tickets": {"solved_at": ("solved_at", "csat")},
    "contacts": {"left_at": ("left_at",)},
    "invoices": {"paid_at": ("paid_at",)},
    "subscriptions": {"canceled_at": ("canceled_at", "end_date")},
}


def _after(column: pa.ChunkedArray, as_of: date) -> pa.ChunkedArray:
    """True where the value is dated after `as_of` (a timestamp counts by its UTC day)."""
    if pa.types.is_timestamp(column.type):
        limit = pa.scalar(datetime.combine(as_of, time.max), type=column.type)
    else:
        limit = pa.scalar(as_of, type=column.type)
    return pc.fill_null(pc.greater(column, limit), False)


def as_it_stood(entity: str, table: pa.Table, as_of: date) -> pa.Table:
    """`table` of `entity` cut back to what was known at the end of `as_of`."""
    ent = ENTITIES[entity]
    if ent.point_in_time and ent.point_in_time in table.column_names:
        table = table.filter(pc.invert(_after(table[ent.point_in_time], as_of)))
    for dating, columns in LATER_FACTS.get(entity, {}).items():
        if dating not in table.column_names:
            continue
        later = _after(table[dating], as_of)
        for name in columns:
            if name in table.column_names:
                i = table.column_names.index(name)
                col = table[name]
                table = table.set_column(i, name, pc.if_else(later, pa.nulls(len(col), col.type),
                                                             col))
    return table


def write_as_it_stood(source: Path, target: Path, as_of: date) -> list[Path]:
    """Copy every Parquet contract file in `source` to `target`, cut back to `as_of`."""
    from quarterdeck.landing.input_files import entity_from_name

    target.mkdir(parents=True, exist_ok=True)
    files = {entity_from_name(p): p for p in sorted(source.glob("*.parquet"))}
    files.pop(None, None)
    cut = {name: as_it_stood(name, pq.read_table(path), as_of) for name, path in files.items()}
    # A row of an account that did not exist yet (e.g. an undated opportunity) did not either.
    if "accounts" in cut:
        known = cut["accounts"]["account_id"]
        for name, table in cut.items():
            if name != "accounts" and "account_id" in table.column_names:
                keep = pc.or_(pc.is_null(table["account_id"]),
                              pc.is_in(table["account_id"], value_set=known.combine_chunks()))
                cut[name] = table.filter(keep)
    written = []
    for name, table in cut.items():
        out = target / files[name].name
        pq.write_table(table, out)
        written.append(out)
    return written
