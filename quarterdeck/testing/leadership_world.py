"""A small company whose revenue series can be checked with pencil and paper, as of
2025-06-30 (`AS_OF`), for the leadership page and the revenue series `quarterdeck run`
publishes. Base currency USD; amounts are MRR.

Five accounts in two segments:

- steady (Enterprise): 1,000.00 since 2024-01-01.
- grower (Enterprise): 500.00 since 2024-03-01, 800.00 from 2025-06-10 (expansion +300.00).
- shrinker (SMB): 300.00 since 2024-05-01, 150.00 from 2025-03-01 (contraction −150.00).
- leaver (SMB): 200.00 from 2024-02-01 to 2025-06-15 (churn −200.00 on 2025-06-15).
- newbie (SMB): 100.00 from 2025-06-05 (new).

June 2025 bridge, all: 1,850.00 → 2,050.00 MRR (ARR 22,200.00 → 24,600.00) = new 100.00 +
expansion 300.00 − churn 200.00; customers 4 + 1 new − 1 churned = 4. Enterprise
1,500 → 1,800; SMB 350 → 250. March 2025: SMB contraction −150.00, nothing else moves.

Trailing-12-month retention ending 2025-06-30: the cohort is the four accounts paying on
2024-06-30 (2,000.00); they pay 1,950.00 now, so NRR 0.975; GRR (1,000 + 500 + 0 + 150) /
2,000 = 0.825; logo churn 1/4. Enterprise: NRR 1,800 / 1,500 = 1.2, GRR 1.0. SMB: NRR = GRR
= 150 / 500 = 0.3, logo churn 1/2.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from quarterdeck.testing.worlds import World, world

AS_OF = date(2025, 6, 30)


def _account(account_id: str, segment: str) -> dict[str, Any]:
    return {"account_id": account_id, "name": account_id.title(), "segment": segment,
            "owner_email": "ana@example.com", "created_at": "2023-12-01"}


def _sub(sub_id: str, account_id: str, start: str, price: str,
         end: str | None = None) -> dict[str, Any]:
    return {"subscription_id": sub_id, "account_id": account_id, "plan": "team",
            "quantity": 1, "unit_price": price, "currency": "USD", "interval_months": 1,
            "start_date": start, "end_date": end}


def leadership_world() -> World:
    """The five accounts of the module."""
    return world(
        accounts=[_account("steady", "Enterprise"), _account("grower", "Enterprise"),
                  _account("shrinker", "SMB"), _account("leaver", "SMB"),
                  _account("newbie", "SMB")],
        subscriptions=[
            _sub("st-1", "steady", "2024-01-01", "1000"),
            _sub("gr-1", "grower", "2024-03-01", "500", "2025-06-10"),
            _sub("gr-2", "grower", "2025-06-10", "800"),
            _sub("sh-1", "shrinker", "2024-05-01", "300", "2025-03-01"),
            _sub("sh-2", "shrinker", "2025-03-01", "150"),
            _sub("lv-1", "leaver", "2024-02-01", "200", "2025-06-15"),
            _sub("nb-1", "newbie", "2025-06-05", "100"),
        ])


def write_world(data: World, folder: Path) -> Path:
    """Write each table of `data` as `<entity>.parquet` in `folder`, ready for
    `quarterdeck load`; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in data.items():
        pq.write_table(table, folder / f"{name}.parquet")
    return folder
