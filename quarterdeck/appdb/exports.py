"""Published tables as Arrow, for `quarterdeck export` (every published number is checkable)."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
from sqlalchemy import Engine, select

from quarterdeck.appdb.arr_series import unpacked
from quarterdeck.appdb.models import AccountArrSeries, AccountSnapshot, Base, PipelineRun
from quarterdeck.appdb.publish import latest_as_of
from quarterdeck.errors import UnknownTableError

# the published tables that hold one set of rows per as-of date (the ARR history is stored
# packed, a row per account, and given back a row per month)
DATED = {"account_snapshots": AccountSnapshot, "account_arr_history": AccountArrSeries}
ALL = {**DATED, "pipeline_runs": PipelineRun}


def published_table(engine: Engine, name: str, as_of: date | None) -> pa.Table:
    """Rows of published table `name`; dated tables give the rows published for `as_of`."""
    model: type[Base] = ALL.get(name)  # type: ignore[assignment]
    if model is None:
        raise UnknownTableError(f"no published table called {name!r}")
    table = model.__table__
    query = select(table)
    if name in DATED:
        with engine.connect() as conn:
            has_day = as_of is not None and conn.execute(
                select(table.c.as_of).where(table.c.as_of == as_of).limit(1)).first()
        if not has_day:
            latest = latest_as_of(engine)
            hint = f"the latest is {latest} (--as-of {latest})" if latest else (
                "nothing has been published yet: run `quarterdeck run`")
            raise UnknownTableError(f"no {name} published as of {as_of}; {hint}")
        query = query.where(table.c.as_of == as_of)
    order = [c for c in table.primary_key.columns]
    with engine.connect() as conn:
        result = conn.execute(query.order_by(*order))
        columns = list(result.keys())
        rows = result.fetchall()
    table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
    return unpacked(table) if model is AccountArrSeries else table
