"""Downstream sees customers: canonical_tables maps every account id to its customer's."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from quarterdeck.identity import IdentityDefinitions, resolve_identities
from quarterdeck.identity.tables import RESOLUTION_TABLES
from quarterdeck.testing.identity_world import (
    EXPECTED_CUSTOMERS,
    IDENTITY_YML,
    SOURCE_KINDS,
    identity_world,
)
from quarterdeck.testing.worlds import load_world, merge, world
from quarterdeck.warehouse.canonical import canonical_tables, loaded_tables
from quarterdeck.warehouse.connection import connect
from quarterdeck.warehouse.schema import canonical_schema

DEFINITIONS = IdentityDefinitions.model_validate(yaml.safe_load(IDENTITY_YML))
EVENTS = world(
    users=[{"user_id": "u1", "account_id": "zendesk:9"}],
    events=[{"event_id": "e1", "timestamp": "2024-03-01T10:00:00", "event": "login",
             "account_id": "zendesk:55"},
            {"event_id": "e2", "timestamp": "2024-03-01T11:00:00", "event": "login",
             "user_id": "u1"}])


@pytest.fixture
def con():
    con = connect("duckdb://")
    load_world(con, merge(identity_world(), EVENTS))
    resolve_identities(con, DEFINITIONS, SOURCE_KINDS)
    yield con
    con.disconnect()


def rows(con, table) -> list[dict[str, Any]]:
    return con.to_pyarrow(table).to_pylist()


def test_accounts_are_one_row_per_customer_with_the_contract_columns(con):
    accounts = canonical_tables(con)["accounts"]
    assert {r["account_id"] for r in rows(con, accounts)} == set(EXPECTED_CUSTOMERS)
    assert accounts.schema() == loaded_tables(con)["accounts"].schema()


def test_a_ticket_filed_under_the_duplicate_counts_for_the_customer(con):
    tickets = canonical_tables(con)["tickets"]
    by_account = rows(con, tickets.group_by("account_id").agg(n=tickets.count()))
    assert {r["account_id"]: r["n"] for r in by_account} == {"acme": 2, "crm:77": 1}
    assert tickets.schema() == loaded_tables(con)["tickets"].schema()


def test_events_users_and_subscriptions_follow_their_accounts(con):
    t = canonical_tables(con)
    assert {r["event_id"]: r["account_id"] for r in rows(con, t["events"])} == {
        "e1": "umbrella", "e2": None}
    assert rows(con, t["users"])[0]["account_id"] == "acme"
    subs = {r["subscription_id"]: r["account_id"] for r in rows(con, t["subscriptions"])}
    assert subs["s-initech"] == "crm:77"


def test_the_loaded_tables_stay_as_they_were(con):
    loaded = loaded_tables(con)
    assert con.to_pyarrow(loaded["accounts"].count()).as_py() == 16
    assert {r["account_id"] for r in rows(con, loaded["tickets"])} == {
        "zendesk:9", "acme", "stripe:cus_7"}


def test_an_account_loaded_after_the_last_resolution_still_shows(con):
    con.raw_sql("INSERT INTO accounts (account_id, name, parent_account_id) "
                "VALUES ('late', 'Late Co', 'zendesk:9')")
    late = [r for r in rows(con, canonical_tables(con)["accounts"]) if r["account_id"] == "late"]
    assert late == [{**late[0], "name": "Late Co", "parent_account_id": "acme"}]


def test_resolving_again_writes_the_same_tables(con):
    before = {n: con.to_pyarrow(con.table(n)) for n in RESOLUTION_TABLES}
    resolve_identities(con, DEFINITIONS, SOURCE_KINDS)
    after = {n: con.to_pyarrow(con.table(n)) for n in RESOLUTION_TABLES}
    assert all(before[n].equals(after[n]) for n in RESOLUTION_TABLES)


def test_nothing_merged_leaves_the_tables_untouched():
    con = connect("duckdb://")
    load_world(con, world(accounts=[{"account_id": "a", "name": "Alpha"},
                                    {"account_id": "b", "name": "Beta Robotics"}]))
    resolve_identities(con, IdentityDefinitions(), {})
    assert canonical_tables(con)["accounts"].equals(loaded_tables(con)["accounts"])
    con.disconnect()


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_maps_account_ids_as_duckdb_does(con):
    import ibis

    from quarterdeck.warehouse.connection import stop_spark
    from quarterdeck.warehouse.mirror import spark_types

    spark = connect("pyspark://local[2]?spark.sql.adaptive.enabled=false")
    try:
        load_world(spark, merge(identity_world(), EVENTS))
        session = spark._session  # type: ignore[attr-defined]
        for name in RESOLUTION_TABLES:
            data = con.to_pyarrow(con.table(name))
            frame = session.createDataFrame(
                data, schema=spark_types(ibis.Schema.from_pyarrow(data.schema)))
            frame.createOrReplaceTempView(name)
        for entity in ("accounts", "tickets", "events", "users", "subscriptions"):
            key = canonical_schema(entity).names[0]
            a = sorted(rows(spark, canonical_tables(spark)[entity]), key=lambda r: r[key])
            b = sorted(rows(con, canonical_tables(con)[entity]), key=lambda r: r[key])
            assert a == b, entity
    finally:
        spark.disconnect()
        stop_spark()
