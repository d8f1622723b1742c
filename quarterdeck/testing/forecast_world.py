"""A renewal forecast small enough to check by hand, shared by the tests and docs/forecast.md.

As of 2026-09-30, base USD, four accounts renew in 2026-Q4:

| account | subscription | renewal | ARR at stake | p_renew |
|---|---|---|---|---|
| alpha | 1 × 12,000 per 12 months from 2025-11-15 | 2026-11-15 | 12,000 | 0.90 |
| bravo | 2 × 12,000 per 12 months from 2025-12-01 | 2026-12-01 | 24,000 | 0.60 |
| charlie | 6,000 per 12 months to 2026-10-20, canceled 09-01 | 2026-10-20 | 6,000 | 0 |
| delta | 100 per month from 2026-01-10 | 10-10, 11-10, 12-10 | 1,200 each | 0.95 each |

Expected renewed ARR in 2026-Q4 = 12,000 × 0.9 + 24,000 × 0.6 + 6,000 × 0 + 1,200 × (0.95 +
0.95² + 0.95³) = 10,800 + 14,400 + 0 + 3,251.85 = 28,451.85.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa

from quarterdeck.testing.worlds import World, world

AS_OF = date(2026, 9, 30)
HORIZON_DAYS = 92  # through 2026-12-31
P_RENEW = {"alpha": 0.9, "bravo": 0.6, "charlie": 0.0, "delta": 0.95}
EXPECTED_Q4 = 28_451.85


def _sub(sub_id: str, account_id: str, start: str, price: str, months: int, quantity: int = 1,
         **more: Any) -> dict[str, Any]:
    return {"subscription_id": sub_id, "account_id": account_id, "plan": "team",
            "quantity": quantity, "unit_price": price, "currency": "USD",
            "interval_months": months, "start_date": start, **more}


def forecast_world() -> World:
    """The four accounts of the module as data-contract tables."""
    accounts = [{"account_id": a, "name": a.title(), "segment": s, "owner_email": o,
                 "created_at": "2025-01-01"}
                for a, s, o in (("alpha", "Enterprise", "ana@example.com"),
                                ("bravo", "Enterprise", "ben@example.com"),
                                ("charlie", "SMB", "ana@example.com"),
                                ("delta", "SMB", "ben@example.com"))]
    subs = [
        _sub("a-1", "alpha", "2025-11-15", "12000", 12),
        _sub("b-1", "bravo", "2025-12-01", "12000", 12, quantity=2),
        _sub("c-1", "charlie", "2025-10-20", "6000", 12, end_date="2026-10-20",
             canceled_at="2026-09-01T10:00:00"),
        _sub("d-1", "delta", "2026-01-10", "100", 1),
    ]
    return world(accounts=accounts, subscriptions=subs)


def hand_forecast(categories: dict[str, str] | None = None) -> pa.Table:
    """The module's decisions as `renewal_forecast` rows, with the hand-set p_renew."""
    calls = categories or {}
    rows = [("alpha", "Enterprise", "ana@example.com", "contract", 12, date(2026, 11, 15), 1,
             12000, False), ("bravo", "Enterprise", "ben@example.com", "contract", 12,
                             date(2026, 12, 1), 1, 24000, False),
            ("charlie", "SMB", "ana@example.com", "contract", 12, date(2026, 10, 20), 1, 6000,
             True)]
    rows += [("delta", "SMB", "ben@example.com", "monthly", 1, date(2026, m, 10), m - 9, 1200,
              False) for m in (10, 11, 12)]
    p = [P_RENEW[r[0]] for r in rows]
    reached = [P_RENEW[r[0]] ** (r[6] - 1) for r in rows]
    ids = [f"{r[0]}@{r[5].isoformat()}" for r in rows]
    return pa.table({
        "renewal_id": ids, "account_id": [r[0] for r in rows],
        "segment": [r[1] for r in rows], "owner_email": [r[2] for r in rows],
        "term": [r[3] for r in rows], "term_months": pa.array([r[4] for r in rows], pa.int32()),
        "renewal_date": pa.array([r[5] for r in rows], pa.date32()),
        "days_out": pa.array([(r[5] - AS_OF).days for r in rows], pa.int32()),
        "decision_number": pa.array([r[6] for r in rows], pa.int32()),
        "arr_at_stake": pa.array([Decimal(r[7]) for r in rows], pa.decimal128(38, 2)),
        "cancellation_known": [r[8] for r in rows],
        "p_renew": p, "p_reached": reached,
        "expected_arr": pa.array([Decimal(f"{r[7] * q * w:.2f}")
                                  for r, q, w in zip(rows, p, reached, strict=True)],
                                 pa.decimal128(38, 2)),
        "gross_factor": [1.0] * len(rows), "net_factor": [1.0] * len(rows),
        "model": ["hand-set"] * len(rows),
        "model_days_before": pa.array([30] * len(rows), pa.int32()),
        "model_as_of": pa.array([AS_OF] * len(rows), pa.date32()),
        "category": [calls.get(i) for i in ids], "note": [None] * len(rows),
    })
