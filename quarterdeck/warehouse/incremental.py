"""What the incremental builds of the daily tables share: DuckDB's own connection beneath
Ibis, whether a table exists, the rows that differ between two versions of a table, and
replacing some rows of a table in one transaction."""

from __future__ import annotations

import ibis.expr.types as ir
from ibis.backends import BaseBackend


def raw_connection(con: BaseBackend):  # noqa: ANN202 - DuckDB's own connection
    return getattr(con, "con", None)


def table_exists(raw, name: str) -> bool:  # noqa: ANN001
    return bool(raw.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name = ?", [name]).fetchall()[0][0])


def either_way(now: ir.Table, kept: ir.Table, *, distinct: bool) -> ir.Table:
    """The rows of `now` not in `kept` and of `kept` not in `now` (both versions of an edit);
    with `distinct=False` a row counts as often as it appears."""
    return now.difference(kept, distinct=distinct).union(
        kept.difference(now, distinct=distinct), distinct=distinct)


def replace_rows(raw, table: str, *, delete: str, params: list[object],  # noqa: ANN001
                 delta: str | None) -> None:
    """Delete rows of `table` by the statement `delete` (with `params`) and insert the rows of
    the table `delta` (when there is one) in one transaction, then drop `delta` (also when it
    fails)."""
    raw.execute("BEGIN TRANSACTION")
    try:
        raw.execute(delete, params)
        if delta is not None:
            raw.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {delta}")
        raw.execute("COMMIT")
    except Exception:
        raw.execute("ROLLBACK")
        raise
    finally:
        if delta is not None:
            raw.execute(f"DROP TABLE IF EXISTS {delta}")
