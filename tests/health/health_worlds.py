"""Tiny worlds for the health tests, on DuckDB in memory; expected values in each test."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from quarterdeck.health.feature_table import feature_table
from quarterdeck.testing.worlds import load_world
from quarterdeck.warehouse.connection import connect

T = date(2024, 6, 30)


class Duck:
    def __init__(self) -> None:
        self.con = connect("duckdb://")

    def load(self, world: dict[str, pa.Table]) -> dict[str, ir.Table]:
        return load_world(self.con, world)

    def rows(self, expr: ir.Table) -> dict[Any, dict[str, Any]]:
        rows = self.con.to_pyarrow(expr).to_pylist()
        return {r["account_id"]: r for r in rows}

    def features(self, world: dict[str, pa.Table], as_of: date = T,
                 **kw: Any) -> dict[str, dict[str, Any]]:
        return self.rows(feature_table(self.load(world), as_of=as_of, base_currency="USD", **kw))


def account(account_id: str, segment: str | None = None) -> dict[str, Any]:
    return {"account_id": account_id, "name": account_id, "segment": segment,
            "created_at": "2023-01-01"}


def sub(sub_id: str, account_id: str, start: str, *, seats: int = 10, price: str = "50",
        months: int = 1, **more: Any) -> dict[str, Any]:
    return {"subscription_id": sub_id, "account_id": account_id, "plan": "team",
            "quantity": seats, "unit_price": price, "currency": "USD",
            "interval_months": months, "start_date": start, **more}


def events(account_id: str, days: list[str], prefix: str, **more: Any) -> list[dict[str, Any]]:
    return [{"event_id": f"{prefix}{i}", "timestamp": f"{d}T12:00:00", "event": "login",
             "account_id": account_id, **more} for i, d in enumerate(days)]
