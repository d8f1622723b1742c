"""A workspace-sized publish (20,000 accounts × 36 months of ARR) republishes whole.

Its time is printed (`-s`), not asserted: timings belong to the benchmarks.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from sqlalchemy import Engine, func, select

from quarterdeck.appdb import publish_snapshot, session
from quarterdeck.appdb.models import AccountArrSeries
from quarterdeck.appdb.publish import ACCOUNT_COLUMNS

ACCOUNTS, MONTHS = 20_000, 36


def _large_tables() -> tuple[pa.Table, pa.Table]:
    ids = pa.array([f"acc_{i:05d}" for i in range(ACCOUNTS)])
    n = ACCOUNTS
    money = pa.array([1206.0] * n)
    accounts = pa.table(
        {
            "account_id": ids,
            "name": pa.array([f"Company {i}" for i in range(n)]),
            **{c: pa.array(["x"] * n) for c in ("domain", "segment", "tier", "region")},
            **{c: pa.array(["x"] * n)
               for c in ("country", "industry", "owner_email", "owner_name")},
            "parent_account_id": pa.nulls(n, pa.string()),
            "status": pa.array(["active"] * n),
            "mrr": pa.array([100.5] * n),
            "arr": money,
            "currency": pa.array(["USD"] * n),
            "customer_since": pa.array([date(2020, 1, 1)] * n, pa.date32()),
            "renewal_date": pa.array([date(2025, 1, 1)] * n, pa.date32()),
            **{c: pa.array([3] * n) for c in ("events_30d", "active_users_30d")},
            **{c: pa.array([1] * n) for c in ("open_tickets", "tickets_30d")},
            "last_activity_at": pa.array([datetime(2024, 6, 1)] * n, pa.timestamp("us")),
        }
    ).select(list(ACCOUNT_COLUMNS))
    months = [date(2021 + m // 12, m % 12 + 1, 1) for m in range(MONTHS)]
    history = pa.table(
        {
            "account_id": pa.array([a for a in ids.to_pylist() for _ in months]),
            "month": pa.array(months * n, pa.date32()),
            "arr": pa.array([1206.0] * (n * MONTHS)),
        }
    )
    return accounts, history


@pytest.mark.slow
def test_republishing_a_large_day_replaces_every_row(engine: Engine) -> None:
    accounts, history = _large_tables()
    started = datetime.now(UTC)
    publish_snapshot(
        engine,
        as_of=date(2024, 6, 30),
        accounts=accounts,
        arr_history=history,
        run_started_at=started,
    )
    clock = time.perf_counter()
    publish_snapshot(
        engine,
        as_of=date(2024, 6, 30),
        accounts=accounts,
        arr_history=history,
        run_started_at=started,
    )
    elapsed = time.perf_counter() - clock
    with session(engine) as db:
        assert db.scalar(select(func.count()).select_from(AccountArrSeries)) == ACCOUNTS
    print(f"republishing {ACCOUNTS:,} accounts × {MONTHS} months took {elapsed:.1f} s")
