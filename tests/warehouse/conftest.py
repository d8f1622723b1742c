"""Fixtures: a world loaded on DuckDB and, when a server is configured, on PostgreSQL.

Set QUARTERDECK_TEST_POSTGRES_URL (e.g. `postgresql://postgres@127.0.0.1:5432/test`) and the
tests using `on_backend` run on both; each PostgreSQL test works in a schema of its own,
dropped afterwards. Without the variable the PostgreSQL run is skipped and says why.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from quarterdeck.testing.worlds import load_world
from quarterdeck.warehouse.account_daily import account_daily
from quarterdeck.warehouse.connection import connect

POSTGRES_URL_VARIABLE = "QUARTERDECK_TEST_POSTGRES_URL"


class Backend:
    """A connection plus the schema the test's tables live in."""

    def __init__(self, con: BaseBackend, database: str | None = None) -> None:
        self.con = con
        self.database = database

    def load(self, world: dict[str, pa.Table]) -> dict[str, ir.Table]:
        return load_world(self.con, world, database=self.database)

    def rows(self, expr: ir.Table, *keys: str) -> list[dict[str, Any]]:
        return sorted(self.con.to_pyarrow(expr).to_pylist(), key=lambda r: [r[k] for k in keys])

    def daily(self, world: dict[str, pa.Table], as_of: date, **kw: Any
              ) -> dict[tuple[str, date], dict[str, Any]]:
        """account_daily of `world` as of `as_of`, by (account_id, date)."""
        expr = account_daily(self.load(world), as_of=as_of, base_currency="USD", **kw)
        return {(r["account_id"], r["date"]): r for r in self.con.to_pyarrow(expr).to_pylist()}


@pytest.fixture
def duckdb_backend() -> Backend:
    return Backend(connect("duckdb://"))


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def on_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The test's backend: DuckDB in memory, or a throwaway schema on PostgreSQL."""
    if request.param == "duckdb":
        yield Backend(connect("duckdb://"))
        return
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"PostgreSQL run needs {POSTGRES_URL_VARIABLE} set to a server URL")
    con = ibis.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    schema = f"qd_test_{secrets.token_hex(6)}"
    con.raw_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield Backend(con, schema)
    finally:
        con.raw_sql(f'DROP SCHEMA "{schema}" CASCADE')
        con.disconnect()


DailyOf = Callable[..., dict[tuple[str, date], dict[str, Any]]]
