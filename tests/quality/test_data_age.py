"""How current each entity's data is as of a day, counted by hand."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import pyarrow as pa
import pytest

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.quality.data_age import data_ages, newest_facts, stale_data
from quarterdeck.warehouse.canonical import empty_table


def _tables(**given):
    tables = {name: empty_table(name) for name in ENTITIES}
    for name, rows in given.items():
        schema = tables[name].schema()
        tables[name] = ibis.memtable(pa.Table.from_pylist(
            [{c: r.get(c) for c in schema.names} for r in rows], schema=schema.to_pyarrow()))
    return tables


def _ages(tables, as_of):
    con = ibis.duckdb.connect()
    return data_ages(con.to_pyarrow(newest_facts(tables, as_of)).to_pylist(), as_of)


SUBS = [
    {"subscription_id": "s1", "account_id": "a1", "start_date": date(2026, 1, 1),
     "end_date": date(2026, 10, 1)},  # an end date is known from the signing: not a fact
    {"subscription_id": "s2", "account_id": "a2", "start_date": date(2026, 9, 12),
     "canceled_at": datetime(2026, 9, 30, 16, 0)},
    {"subscription_id": "s3", "account_id": "a3", "start_date": date(2027, 1, 1)},  # future
]


def test_newest_subscription_fact_is_its_latest_start_or_cancellation_up_to_the_day():
    (age,) = _ages(_tables(subscriptions=SUBS), date(2026, 12, 4))
    assert (age.entity, age.newest, age.days_behind) == ("subscriptions", date(2026, 9, 30), 65)
    assert age.sentence == (
        "the newest subscription data is from 2026-09-30, 65 days before 2026-12-04: "
        "contracts ending since then show as churn until renewals are loaded")


def test_facts_after_the_as_of_day_do_not_exist_yet():
    (age,) = _ages(_tables(subscriptions=SUBS), date(2026, 9, 20))
    assert age.newest == date(2026, 9, 12)  # the cancellation of 30 September is not known


def test_data_a_day_behind_is_current_and_more_is_stale():
    ages = _ages(_tables(subscriptions=SUBS, tickets=[
        {"ticket_id": "t1", "account_id": "a1", "created_at": datetime(2026, 9, 1, 9),
         "solved_at": datetime(2026, 10, 2, 9)}]), date(2026, 10, 3))
    assert [(a.entity, a.days_behind) for a in ages] == [("subscriptions", 3), ("tickets", 1)]
    assert [a.entity for a in stale_data(ages)] == ["subscriptions"]
    assert stale_data(ages, entities=["tickets"]) == []
    assert [a.entity for a in stale_data(ages, grace_days=0)] == ["subscriptions", "tickets"]


def test_an_entity_without_facts_has_no_age():
    assert _ages(_tables(), date(2026, 12, 4)) == []


@pytest.mark.parametrize("n", [1, 2])
def test_sentence_says_day_or_days(n):
    (age,) = _ages(_tables(subscriptions=SUBS[:1]), date(2026, 1, 1 + n))
    assert f"{n} day{'s' if n > 1 else ''} before" in age.sentence
