"""What the incremental builds of the daily tables (and the events' kept quality checks)
share: DuckDB's own connection beneath Ibis, whether a table exists, the landed event
versions and their rows, the rows that differ between two versions of a table, and replacing
some rows of a table in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.landing.landing_views import SUPERSEDED, table_exists
from quarterdeck.landing.manifest import TABLE as LOADS

_COUNT = "_quarterdeck_rows"  # each distinct row's count in `either_way`


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
    """The rows that `now` and `kept` (the same columns) do not hold alike, each once: a row
    one of them holds and the other does not (both versions of an edit), and with
    `distinct=False` also a row they hold a different number of times. NULL is alike NULL.

    Each side's rows are counted and the counts compared, rather than by EXCEPT ALL both
    ways, which DuckDB runs as a numbering window over every row of each side: three times
    slower over the half million activities a 20,000-account company keeps.
    """
    columns = list(now.columns)
    ours = now.group_by(columns).agg(**{_COUNT: ibis._.count()})
    theirs = kept.select(*columns).group_by(columns).agg(**{_COUNT: ibis._.count()})
    both = ours.outer_join(theirs, [ours[c].identical_to(theirs[c]) for c in columns])
    here, there = ours[_COUNT], theirs[_COUNT]
    unlike = (here.isnull() | there.isnull()) if distinct else ~here.identical_to(there)
    return both.filter(unlike).select(
        **{c: ibis.coalesce(ours[c], theirs[c]) for c in columns})


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
