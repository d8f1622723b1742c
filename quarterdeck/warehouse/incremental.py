"""What the incremental builds of the daily tables (and the events' kept quality checks)
share: DuckDB's own connection beneath Ibis, whether a table exists, the landed event
versions and their rows, the rows that differ between two versions of a table, and replacing
some rows of a table in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.landing.landing_views import SUPERSEDED, table_exists
from quarterdeck.landing.manifest import TABLE as LOADS


def raw_connection(con: BaseBackend):  # noqa: ANN202 - DuckDB's own connection
    return getattr(con, "con", None)


def event_loads(raw) -> tuple[list[str], int]:  # noqa: ANN001
    """The landed event versions in load order, and how many event rows later loads
    superseded: what a build kept from the events must be checked against."""
    versions = ([r[0] for r in raw.execute(
        f"SELECT version FROM {LOADS} WHERE entity = 'events' ORDER BY load_id").fetchall()]
        if table_exists(raw, LOADS) else [])
    superseded = (raw.execute(f"SELECT count(*) FROM {SUPERSEDED} WHERE entity = 'events'")
                  .fetchall()[0][0] if table_exists(raw, SUPERSEDED) else 0)
    return versions, int(superseded)


def landed_rows(con: BaseBackend, landing_dir: Path, versions: list[str]) -> ir.Table:
    """Every row of the landed versions `versions` (paths in the landing area), columns
    matched by name across them."""
    paths = ", ".join("'" + str(landing_dir / v).replace("'", "''") + "'" for v in versions)
    return con.sql(f"SELECT * FROM read_parquet([{paths}], union_by_name = true)")


def either_way(now: ir.Table, kept: ir.Table, *, distinct: bool) -> ir.Table:
    """The rows of `now` not in `kept` and of `kept` not in `now` (both versions of an edit);
    with `distinct=False` a row counts as often as it appears."""
    return now.difference(kept, distinct=distinct).union(
        kept.difference(now, distinct=distinct), distinct=distinct)


@contextmanager
def transaction(raw) -> Iterator[None]:  # noqa: ANN001
    """The statements run inside on DuckDB's connection `raw` commit together, or not at all."""
    raw.execute("BEGIN TRANSACTION")
    try:
        yield
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise


def replace_rows(raw, table: str, *, delete: str, params: list[object],  # noqa: ANN001
                 delta: str | None) -> None:
    """Delete rows of `table` by the statement `delete` (with `params`) and insert the rows of
    the table `delta` (when there is one) in one transaction, then drop `delta` (also when it
    fails)."""
    try:
        with transaction(raw):
            raw.execute(delete, params)
            if delta is not None:
                raw.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {delta}")
    finally:
        if delta is not None:
            raw.execute(f"DROP TABLE IF EXISTS {delta}")
