"""Which rows a publish removes and which it adds, given the rows published last time.

A table republished every day mostly holds what it held the day before: of the account page's
million rows at 20,000 accounts, a day changes a few tens of thousands (the current week's
usage, new timeline entries). Writing only those is what keeps a daily publish short.

Rows are compared on every value column, NULL equal to NULL and NaN to NaN, each row once
(two equal rows published pair with two equal new rows; a third new one is added). A table
keyed by a surrogate `id` keeps the ids of the rows that stay and numbers the new ones after
the largest id published; a table with a natural key has the key among its values. The result holds:
published − removed + added = the new rows, as a multiset of values.

Example::

    changes = row_changes(kept, new, key=("id",))
    changes.removed   # ids of published rows to delete
    changes.added     # rows to insert, with their new ids
    changes.rows      # every new row with its id: what is published once the changes apply
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SURROGATE = ("id",)


@dataclass(frozen=True)
class RowChanges:
    """`rows`: the new rows with their keys; `removed`: the key columns of the published rows
    that go; `added`: the rows (with keys) that come."""

    rows: pa.Table
    removed: pa.Table
    added: pa.Table


def row_changes(published: pa.Table | None, new: pa.Table, *,
                key: Sequence[str] = SURROGATE) -> RowChanges:
    """The changes that turn `published` (the rows with their key columns, or None when
    nothing is known to be published) into `new` (the value columns; a natural key among
    them). With `key` ("id",) the ids are assigned here; see the module."""
    surrogate = tuple(key) == SURROGATE
    values = [c for c in new.column_names if c not in SURROGATE] if surrogate else new.column_names
    missing = [k for k in key if not surrogate and k not in values]
    if missing:
        raise ValueError(f"row_changes: key columns {missing} are not among the new rows' columns")
    if published is None:
        rows = _with_ids(new, start=1) if surrogate else new
        return RowChanges(rows, rows.select(list(key)).slice(0, 0), rows)
    new_values = new.select(values)
    with duckdb.connect() as con:
        con.register("published_rows", published.select(list(dict.fromkeys([*key, *values]))))
        con.register("new_rows", new_values.append_column(
            "_row", pa.array(np.arange(new.num_rows, dtype=np.int64))))
        columns = ", ".join(_quote(c) for c in values)
        order = ", ".join(_quote(k) for k in key)
        same = " AND ".join([f"n.{_quote(c)} IS NOT DISTINCT FROM o.{_quote(c)}"
                             for c in values] + ["n._n = o._n"])
        # One join pairs each published row with an equal new one (the k-th of its values
        # with the k-th): only the published keys and the paired new rows' positions come
        # back; a new row paired with none is added.
        pairs = con.execute(
            f"WITH o AS (SELECT *, row_number() OVER (PARTITION BY {columns} ORDER BY {order})"
            f" AS _n FROM published_rows), n AS (SELECT *, row_number() OVER (PARTITION BY "
            f"{columns} ORDER BY _row) AS _n FROM new_rows) SELECT "
            f"{', '.join(f'o.{_quote(k)}' for k in key)}, n._row FROM o LEFT JOIN n ON {same}"
        ).to_arrow_table()
    gone = pc.is_null(pairs.column("_row"))
    removed = pairs.filter(gone).select(list(key)).sort_by([(k, "ascending") for k in key])
    paired = pairs.filter(pc.invert(gone))
    at = paired.column("_row").to_numpy()
    kept = np.zeros(new.num_rows, dtype=bool)
    kept[at] = True
    rows = new_values
    if surrogate:
        ids = np.zeros(new.num_rows, dtype=np.int64)
        ids[at] = paired.column("id").to_numpy()
        start = _largest_id(published) + 1
        ids[~kept] = np.arange(start, start + int((~kept).sum()), dtype=np.int64)
        rows = new_values.add_column(0, "id", pa.array(ids, pa.int64()))
    added = rows.filter(pa.array(~kept))
    return RowChanges(rows, removed, _cast_like(added, rows.schema))


def _with_ids(table: pa.Table, *, start: int) -> pa.Table:
    """`table` with an `id` column: its own where it has one, else numbered from `start`."""
    if "id" in table.column_names:
        ids = table.column("id").to_numpy(zero_copy_only=False)
        missing = pc.is_null(table.column("id")).to_numpy(zero_copy_only=False)
        ids = np.where(missing, 0, ids).astype(np.int64)
        ids[missing] = np.arange(start, start + int(missing.sum()), dtype=np.int64)
        table = table.drop_columns(["id"])
    else:
        ids = np.arange(start, start + table.num_rows, dtype=np.int64)
    return table.add_column(0, "id", pa.array(ids, pa.int64()))


def _largest_id(published: pa.Table) -> int:
    largest = pc.max(published.column("id")).as_py()
    return int(largest or 0)


def _cast_like(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return table.select(schema.names).cast(schema)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
