"""Publishing the pipeline's results for one day into the app database.

A publish replaces everything known for its `as_of` date in one transaction: the web app sees
either the previous results or the new ones, never half of each. Every attempt, failed or not,
leaves a `pipeline_runs` row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import JSON, Connection, Dialect, Engine, Table, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine

from quarterdeck.appdb.arr_series import packed
from quarterdeck.appdb.data_versions import SNAPSHOT, bump
from quarterdeck.appdb.models import AccountArrSeries, AccountSnapshot, PipelineRun, utcnow
from quarterdeck.errors import QuarterdeckError

#: The columns of the `accounts` table given to `publish_snapshot`, in table order.
ACCOUNT_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in AccountSnapshot.__table__.columns if c.name != "as_of"
)
#: The columns of the `arr_history` table given to `publish_snapshot`.
ARR_HISTORY_COLUMNS: tuple[str, ...] = ("account_id", "month", "arr")

#: Amounts the app database's money columns (`Numeric(18, 2)`) cannot hold start here.
MONEY_LIMIT = Decimal("1E16")
# Rows per INSERT round trip: large enough to amortise the driver, small enough that one batch
# of Python values stays a few megabytes.
BATCH_ROWS = 5_000


class PublishError(QuarterdeckError):
    """The tables handed to `publish_snapshot` do not have the columns the app database needs."""


def publish_snapshot(
    engine: Engine,
    *,
    as_of: date,
    accounts: pa.Table,
    arr_history: pa.Table,
    run_started_at: datetime,
) -> int:
    """Replace the published accounts and ARR history of `as_of`; return the accounts published.

    `accounts` has exactly the `account_snapshots` columns but `as_of` (see `ACCOUNT_COLUMNS`),
    `arr_history` has `account_id`, `month`, `arr` (stored packed, a row per account:
    `quarterdeck.appdb.arr_series`). If anything fails, the previous results
    of that day stay as they were and a failed run is recorded before the error is re-raised.

    >>> publish_snapshot(engine, as_of=date(2024, 6, 30), accounts=t, arr_history=h,
    ...                  run_started_at=started)  # doctest: +SKIP
    1250
    """
    try:
        _check_columns("accounts", accounts, ACCOUNT_COLUMNS)
        _check_columns("arr_history", arr_history, ARR_HISTORY_COLUMNS)
        _check_history(accounts, arr_history)
        with engine.begin() as connection:
            connection.execute(delete(AccountArrSeries).where(AccountArrSeries.as_of == as_of))
            connection.execute(delete(AccountSnapshot).where(AccountSnapshot.as_of == as_of))
            insert_arrow(connection, AccountSnapshot.__table__, accounts, as_of)
            insert_arrow(connection, AccountArrSeries.__table__, packed(arr_history), as_of)
            connection.execute(
                insert(PipelineRun).values(
                    as_of=as_of,
                    started_at=run_started_at,
                    finished_at=utcnow(),
                    status="succeeded",
                    account_count=accounts.num_rows,
                    message=f"published {accounts.num_rows} accounts",
                )
            )
            bump(connection, SNAPSHOT)
    except Exception as exc:
        _record_failure(engine, as_of, run_started_at, exc)
        raise
    return accounts.num_rows


def latest_as_of(engine: Engine) -> date | None:
    """The most recent `as_of` date successfully published, or None if nothing is yet."""
    with engine.connect() as connection:
        return connection.execute(
            select(func.max(PipelineRun.as_of)).where(PipelineRun.status == "succeeded")
        ).scalar()


def _check_columns(what: str, table: pa.Table, expected: tuple[str, ...]) -> None:
    missing = [c for c in expected if c not in table.column_names]
    extra = [c for c in table.column_names if c not in expected]
    if missing or extra:
        raise PublishError(
            f"{what} to publish: missing columns {missing}, unexpected columns {extra}; "
            f"expected exactly {list(expected)}"
        )


def _check_history(accounts: pa.Table, arr_history: pa.Table) -> None:
    # Ids are strings in the data contract; casting also copes with an empty, untyped column.
    history_ids = arr_history.column("account_id").cast(pa.string())
    known = pc.is_in(history_ids, value_set=accounts.column("account_id").cast(pa.string()))
    unknown = pc.filter(history_ids, pc.invert(known))
    if len(unknown):
        raise PublishError(
            f"arr_history to publish: {len(unknown)} rows for accounts not in accounts, "
            f"e.g. account_id {unknown[0].as_py()!r}"
        )
    arr = arr_history.column("arr")
    unpriced = pc.filter(history_ids, pc.is_null(arr))
    if len(unpriced):
        raise PublishError(
            f"arr_history to publish: {len(unpriced)} rows without ARR, "
            f"e.g. account_id {unpriced[0].as_py()!r}"
        )
    if arr_history.num_rows and not pa.types.is_null(arr.type):
        # The app database's money columns hold 16 digits before the point.
        too_large = pc.filter(history_ids, pc.greater_equal(pc.abs(arr),
                                                            pa.scalar(MONEY_LIMIT)))
        if len(too_large):
            raise PublishError(
                f"arr_history to publish: {len(too_large)} rows with an ARR of 10^16 or more, "
                f"more than the app database holds, e.g. account_id {too_large[0].as_py()!r}"
            )


def insert_arrow(connection: Connection, table: Table, data: pa.Table, as_of: date) -> None:
    """Insert an Arrow table in batches, by the fastest bulk path each database offers.

    Values go through each column type's own bind processor (so SQLite gets the same encoding
    as an ORM insert), then straight to the driver: per-row statement building would dominate
    the time for the hundreds of thousands of ARR history rows of a large workspace.
    """
    iso_dates = _dates_as_text(connection.dialect)
    insert_columns(connection, table, data.column_names, as_of, (
        [driver_values(batch.column(i), iso_dates=iso_dates) for i in range(batch.num_columns)]
        for batch in data.to_batches(max_chunksize=BATCH_ROWS) if batch.num_rows))


def driver_values(array: pa.Array, *, iso_dates: bool) -> list[Any]:
    """The Python values of an Arrow column for the database driver; with `iso_dates` (SQLite)
    a date column as the ISO text the sqlite3 driver would store for each date, made by Arrow
    for the whole column at once instead of a `date` object per value turned into text again
    by the driver (about a tenth of the time)."""
    if iso_dates and pa.types.is_date(array.type):
        return array.cast(pa.string()).to_pylist()
    return _as_utc(array).to_pylist()


def insert_columns(connection: Connection, table: Table, names: Sequence[str], as_of: date,
                   batches: Iterable[list[list[Any]]]) -> None:
    """Insert batches of Python values, one list per column of `names` in each, with `as_of`
    in every row, by `insert_arrow`'s bulk path: each value through its column type's bind
    processor (a JSON column takes the Python object, None as NULL where the column says so),
    then to the driver as it is."""
    dialect = connection.dialect
    names = ["as_of", *names]
    day: date | str = as_of.isoformat() if _dates_as_text(dialect) else as_of
    processors = [_bind_processor(table.c[name].type, dialect) for name in names]
    quote = dialect.identifier_preparer.quote
    column_list = ", ".join(quote(name) for name in names)
    if dialect.name == "postgresql":
        copy_sql = f"COPY {quote(table.name)} ({column_list}) FROM STDIN"
        cursor = connection.connection.driver_connection.cursor()  # same transaction
        with cursor.copy(copy_sql) as copy:
            for rows in _driver_rows(batches, day, processors):
                for row in rows:
                    copy.write_row(row)
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({column_list}) "
        f"VALUES ({', '.join(marker for _ in names)})"
    )
    for rows in _driver_rows(batches, day, processors):
        connection.exec_driver_sql(sql, rows)


def insert_rows(connection: Connection, table: Table, rows: Iterable[dict[str, Any]],
                as_of: date) -> None:
    """Insert row dicts (every row the same keys) with `as_of`, `BATCH_ROWS` at a time, by
    `insert_columns`: the values a per-row insert writes, without its per-row statement work."""
    rows = iter(rows)
    batch = list(islice(rows, BATCH_ROWS))
    if not batch:
        return
    names = list(batch[0])

    def batches() -> Iterator[list[list[Any]]]:
        current = batch
        while current:
            yield [[row[name] for row in current] for name in names]
            current = list(islice(rows, BATCH_ROWS))

    insert_columns(connection, table, names, as_of, batches())


def _dates_as_text(dialect: Dialect) -> bool:
    """Whether the database keeps a date as its ISO text (SQLite, by the sqlite3 driver's
    adapter), which the bulk path then hands it directly instead of a `date` per value."""
    return dialect.name == "sqlite"


def _bind_processor(column_type: TypeEngine[Any], dialect: Dialect
                    ) -> Callable[[Any], Any] | None:
    """What a value of `column_type` goes through on its way to the driver: the type's own
    processor, and for JSON the dialect's (psycopg takes a JSON value wrapped, not as a dict)."""
    if isinstance(column_type, JSON):
        return column_type.dialect_impl(dialect).bind_processor(dialect)
    return column_type.bind_processor(dialect)


def _driver_rows(
    batches: Iterable[list[list[Any]]], as_of: date | str,
    processors: list[Callable[[Any], Any] | None]
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of row tuples, `as_of` first, each value ready for the DB-API driver."""
    for values in batches:
        rows = len(values[0]) if values else 0
        if rows == 0:
            continue
        columns: list[list[Any]] = [[as_of] * rows, *values]
        for i, process in enumerate(processors):
            if process is not None:
                columns[i] = [process(value) for value in columns[i]]
        yield list(zip(*columns, strict=True))


def _as_utc(array: pa.Array) -> pa.Array:
    # Warehouse timestamps without a zone are UTC by the data contract; label them so.
    if pa.types.is_timestamp(array.type) and array.type.tz is None:
        return array.cast(pa.timestamp(array.type.unit, tz="UTC"))
    return array


def _record_failure(engine: Engine, as_of: date, started_at: datetime, exc: Exception) -> None:
    # Its own transaction: the failed publish has been rolled back, the record of it must stay.
    # Only the exception type and first line are kept: a driver message can quote row values.
    first_line = (str(exc).splitlines() or [""])[0][:500]
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(PipelineRun).values(
                    as_of=as_of,
                    started_at=started_at,
                    finished_at=utcnow(),
                    status="failed",
                    account_count=0,
                    message=f"{type(exc).__name__}: {first_line}",
                )
            )
    except SQLAlchemyError:
        pass  # the database itself is failing; the original error is the one to report
