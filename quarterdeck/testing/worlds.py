"""Small hand-built worlds whose numbers can be checked with pencil and paper.

A world is a dict from entity name to a pyarrow table with the canonical schema. Each world
below is one account living one situation (the account id says which); `reference_world`
puts them all together. Base currency USD. Expected values are in each docstring and in
`tests/warehouse/`.

Example: load_world(con, reference_world())["subscriptions"] is an Ibis table on `con`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot as sg
from ibis.backends import BaseBackend

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.warehouse.schema import canonical_schema

World = dict[str, pa.Table]


def _value(value: Any, typ: pa.DataType) -> Any:
    """A Python value in the form pyarrow expects for `typ` (ISO strings accepted)."""
    if value is None:
        return None
    if pa.types.is_decimal(typ):
        return Decimal(str(value))
    if pa.types.is_date(typ) and isinstance(value, str):
        return date.fromisoformat(value)
    if pa.types.is_timestamp(typ):
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if value.tzinfo is not None:  # stored as naive UTC
            value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def table_from_rows(entity: str, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """A canonical table of `entity` from dict rows; missing columns are null.

    Keys that are not contract columns become string custom-attribute columns at the end.
    Example: table_from_rows("accounts", [{"account_id": "a1", "name": "Acme"}]).
    """
    rows = list(rows)
    schema = canonical_schema(entity).to_pyarrow()
    extra = sorted({k for r in rows for k in r} - set(schema.names))
    for name in extra:
        schema = schema.append(pa.field(name, pa.string()))
    columns = {
        f.name: pa.array([_value(r.get(f.name), f.type) for r in rows], type=f.type)
        for f in schema
    }
    return pa.table(columns, schema=schema)


def world(**rows: Iterable[Mapping[str, Any]]) -> World:
    """A world from rows per entity. Example: world(accounts=[{...}], subscriptions=[...])."""
    return {name: table_from_rows(name, r) for name, r in rows.items()}


def merge(*worlds: World) -> World:
    """One world holding every row of `worlds`."""
    out: dict[str, list[pa.Table]] = {}
    for w in worlds:
        for name, table in w.items():
            out.setdefault(name, []).append(table)
    return {name: pa.concat_tables(tables, promote_options="default")
            for name, tables in out.items()}


def load_world(con: BaseBackend, world: Mapping[str, pa.Table], *,
               database: str | None = None) -> dict[str, ir.Table]:
    """Create one table per contract entity on `con` (empty for entities the world lacks),
    replacing any table of that name, and return them by entity name.

    On Spark the tables are views of the connection's own session (as mirrored canonical
    tables are), typed as the canonical schema with naive timestamps as TIMESTAMP_NTZ.
    """
    tables = {}
    for name in ENTITIES:
        data = world.get(name)
        if data is None:
            data = canonical_schema(name).to_pyarrow().empty_table()
        if con.name == "pyspark":
            tables[name] = _spark_view(con, name, data)
            continue
        qualified = sg.table(name, db=database, quoted=True).sql(con.dialect)
        # A plain DROP: Ibis's own overwrite path is broken with recent sqlglot releases.
        con.raw_sql(f"DROP TABLE IF EXISTS {qualified}")
        tables[name] = con.create_table(name, ibis.memtable(data), database=database)
    return tables


def _spark_view(con: BaseBackend, name: str, data: pa.Table) -> ir.Table:
    from quarterdeck.warehouse.mirror import spark_types

    schema = ibis.Schema.from_pyarrow(data.schema)
    session = con._session  # type: ignore[attr-defined]
    session.createDataFrame(data, schema=spark_types(schema)).createOrReplaceTempView(name)
    return con.table(name)


def _account(account_id: str, created_at: str | None = "2024-01-01") -> dict[str, Any]:
    return {"account_id": account_id, "name": account_id.replace("_", " ").title(),
            "created_at": created_at}


def _sub(sub_id: str, account_id: str, start: str, quantity: Any, unit_price: Any, *,
         interval_months: int = 1, currency: str = "USD", **more: Any) -> dict[str, Any]:
    return {"subscription_id": sub_id, "account_id": account_id, "plan": "team",
            "quantity": quantity, "unit_price": unit_price, "currency": currency,
            "interval_months": interval_months, "start_date": start, **more}


def monthly_plan() -> World:
    """10 seats × 50.00 USD a month from 2024-01-15 → MRR 500.00 from that day, 0 before."""
    return world(accounts=[_account("monthly")],
                 subscriptions=[_sub("monthly-1", "monthly", "2024-01-15", 10, "50")])


def annual_prepaid() -> World:
    """1,200.00 USD a year from 2024-02-01 → MRR 100.00, ARR 1,200.00."""
    return world(accounts=[_account("annual")],
                 subscriptions=[_sub("annual-1", "annual", "2024-02-01", 1, "1200",
                                     interval_months=12)])


def three_year_contract() -> World:
    """36,000.00 USD for 36 months from 2024-01-01 to 2027-01-01 → MRR 1,000.00."""
    return world(accounts=[_account("three_year")],
                 subscriptions=[_sub("three-year-1", "three_year", "2024-01-01", 1, "36000",
                                     interval_months=36, end_date="2027-01-01")])


def discounts() -> World:
    """10 × 100.00 a month at 15% off → 850.00; 7 × 99.99 a year at 10% off → 629.937 / 12 =
    52.49475 → 52.49. Account MRR 902.49 from 2024-03-01."""
    return world(accounts=[_account("discounted")], subscriptions=[
        _sub("discounted-1", "discounted", "2024-03-01", 10, "100", discount="0.15"),
        _sub("discounted-2", "discounted", "2024-03-01", 7, "99.99", discount="0.1",
             interval_months=12),
    ])


def trial_then_paid() -> World:
    """A trial 2024-01-01 → 2024-01-15 (no MRR, on_trial), then 5 × 20.00 a month → 100.00."""
    return world(accounts=[_account("trial")], subscriptions=[
        _sub("trial-1", "trial", "2024-01-01", 5, "20", end_date="2024-01-15", trial=True),
        _sub("trial-2", "trial", "2024-01-15", 5, "20"),
    ])


def euro_rate_change() -> World:
    """EUR at 1.10 from 2024-01-01, 1.20 from 2024-04-01. 100 EUR a month from 2024-02-01 →
    110.00 for good (a rate change alone never re-prices); 50 EUR a month from 2024-04-10 →
    60.00. Account MRR 110.00 from 2024-02-01, 170.00 from 2024-04-10."""
    return world(
        accounts=[_account("euro")],
        fx_rates=[{"date": "2024-01-01", "currency": "EUR", "rate_to_base": "1.10"},
                  {"date": "2024-04-01", "currency": "EUR", "rate_to_base": "1.20"}],
        subscriptions=[
            _sub("euro-1", "euro", "2024-02-01", 1, "100", currency="EUR"),
            _sub("euro-2", "euro", "2024-04-10", 1, "50", currency="EUR"),
        ],
    )


def cancellation_known_later() -> World:
    """600.00 a month from 2024-01-01, ending 2024-05-01, canceled on 2024-07-15. As of
    2024-06-30 the end is unknown: 600.00 through June. As of 2024-07-31: 0 from May 1."""
    return world(accounts=[_account("canceled")], subscriptions=[
        _sub("canceled-1", "canceled", "2024-01-01", 1, "600", end_date="2024-05-01",
             canceled_at="2024-07-15T09:30:00"),
    ])


def churn_then_reactivation() -> World:
    """100.00 a month 2024-01-01 → 2024-03-01, nothing in March and April, then 150.00 a month
    from 2024-05-01."""
    return world(accounts=[_account("reactivated")], subscriptions=[
        _sub("reactivated-1", "reactivated", "2024-01-01", 1, "100", end_date="2024-03-01"),
        _sub("reactivated-2", "reactivated", "2024-05-01", 1, "150"),
    ])


def two_on_one_day() -> World:
    """Two line items starting 2024-03-01 on one account: 10.00 + 20.00 → MRR 30.00."""
    return world(accounts=[_account("twin")], subscriptions=[
        _sub("twin-1", "twin", "2024-03-01", 1, "10"),
        _sub("twin-2", "twin", "2024-03-01", 2, "10"),
    ])


def leap_day() -> World:
    """Created 2024-02-01; 1 × 29.00 a month from 2024-02-29 to 2024-03-31 (exclusive): MRR
    29.00 from Feb 29 through Mar 30, 0 on Mar 31. As of 2024-03-31: 60 rows (Feb has 29 days)."""
    return world(accounts=[_account("leap", "2024-02-01T00:00:00")], subscriptions=[
        _sub("leap-1", "leap", "2024-02-29", 1, "29", end_date="2024-03-31"),
    ])


def usage_through_users() -> World:
    """Users u1, u2 belong to account `usage`. On 2024-06-01: 2 events by u1 with no account id
    (one at 23:59:59), 1 by u2 of value 5, 1 with the account id and no user → events 4,
    event_value 8, active_users 2. On 2024-06-02 (midnight): 1 event by u1. An event dated
    2024-07-01 and one by an unknown user are never counted as of 2024-06-30. One NPS response
    and one meeting on 2024-06-03."""
    return world(
        accounts=[_account("usage")],
        users=[{"user_id": "u1", "account_id": "usage"},
               {"user_id": "u2", "account_id": "usage"}],
        events=[
            {"event_id": "e1", "timestamp": "2024-06-01T08:00:00", "event": "login",
             "user_id": "u1"},
            {"event_id": "e2", "timestamp": "2024-06-01T23:59:59", "event": "report",
             "user_id": "u1"},
            {"event_id": "e3", "timestamp": "2024-06-01T12:00:00", "event": "export",
             "user_id": "u2", "value": 5},
            {"event_id": "e4", "timestamp": "2024-06-01T13:00:00", "event": "sync",
             "account_id": "usage"},
            {"event_id": "e5", "timestamp": "2024-06-02T00:00:00", "event": "login",
             "user_id": "u1"},
            {"event_id": "e6", "timestamp": "2024-07-01T10:00:00", "event": "login",
             "user_id": "u1"},
            {"event_id": "e7", "timestamp": "2024-06-01T10:00:00", "event": "login",
             "user_id": "stranger"},
        ],
        surveys=[{"response_id": "r1", "account_id": "usage", "kind": "nps", "score": 9,
                  "responded_at": "2024-06-03T10:00:00"}],
        activities=[{"activity_id": "m1", "account_id": "usage", "kind": "meeting",
                     "occurred_at": "2024-06-03T15:00:00"}],
    )


def open_tickets() -> World:
    """Tickets of account `support`: t1 opened 2024-06-10, solved 2024-07-05 (after the as-of
    date 2024-06-30, so open); t2 urgent, opened 2024-06-10 and solved 2024-06-12; t3 urgent,
    opened 2024-06-20, never solved. Open at day end: Jun 10–11 two (one urgent), Jun 12–19 one
    (none urgent), from Jun 20 two (one urgent)."""
    return world(accounts=[_account("support")], tickets=[
        {"ticket_id": "t1", "account_id": "support", "created_at": "2024-06-10T09:00:00",
         "solved_at": "2024-07-05T10:00:00", "priority": "normal"},
        {"ticket_id": "t2", "account_id": "support", "created_at": "2024-06-10T11:00:00",
         "solved_at": "2024-06-12T16:00:00", "priority": "urgent"},
        {"ticket_id": "t3", "account_id": "support", "created_at": "2024-06-20T08:00:00",
         "priority": "urgent"},
    ])


def missing_rate() -> World:
    """A GBP subscription from 2024-03-01 with no GBP rate at all."""
    return world(accounts=[_account("pounds")],
                 subscriptions=[_sub("pounds-1", "pounds", "2024-03-01", 1, "80",
                                     currency="GBP")])


def reference_world() -> World:
    """Every world above except `missing_rate`, side by side."""
    return merge(monthly_plan(), annual_prepaid(), three_year_contract(), discounts(),
                 trial_then_paid(), euro_rate_change(), cancellation_known_later(),
                 churn_then_reactivation(), two_on_one_day(), leap_day(),
                 usage_through_users(), open_tickets())
