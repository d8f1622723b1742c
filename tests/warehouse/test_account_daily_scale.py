"""account_daily on a 20,000-account, five-year company in DuckDB stays well under a minute.

Run with `pytest -m slow tests/warehouse/test_account_daily_scale.py -s`; the timing is printed.
"""

from __future__ import annotations

import time

import ibis
import pytest
from synthetic_company import AS_OF, build

from quarterdeck.warehouse.account_daily import account_daily
from quarterdeck.warehouse.connection import connect


@pytest.mark.slow
def test_twenty_thousand_accounts_over_five_years(tmp_path):
    con = connect(f"duckdb://{tmp_path / 'scale.duckdb'}")
    build(con, accounts=20_000, events=10_000_000)
    names = ["accounts", "users", "fx_rates", "subscriptions", "events", "tickets", "surveys",
             "activities"]
    expr = account_daily({n: con.table(n) for n in names}, as_of=AS_OF, base_currency="USD")
    started = time.perf_counter()
    con.raw_sql(f"CREATE TABLE account_daily AS {ibis.to_sql(expr, dialect='duckdb')}")
    seconds = time.perf_counter() - started
    print(f"account_daily: {seconds:.1f} s")
    check = con.sql("SELECT count(*) AS n, count(DISTINCT account_id) AS accounts, "
                    "sum(events) AS events FROM account_daily").to_pyarrow().to_pylist()[0]
    assert check["accounts"] == 20_000
    assert check["n"] == 38_431_600  # every account from its creation day through AS_OF
    assert seconds < 60
    con.disconnect()
