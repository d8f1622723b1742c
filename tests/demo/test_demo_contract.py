"""Every demo file meets the data contract, checked directly against the registry."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from quarterdeck.contract import ENTITIES, Entity

EXPECTED_TYPES = {
    "string": pa.string(), "email": pa.string(), "currency": pa.string(), "json": pa.string(),
    "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"),
    "decimal": pa.decimal128(18, 6), "rate": pa.decimal128(24, 12), "integer": pa.int64(),
    "number": pa.float64(), "boolean": pa.bool_(),
}
ENTITY_NAMES = sorted(ENTITIES)


def as_instant(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dates and timestamps on one scale (microseconds since the epoch) for comparing."""
    if pa.types.is_date(column.type):
        return pc.multiply(column.cast(pa.int32()).cast(pa.int64()), 86_400_000_000)
    return column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())


def entity_of(name: str) -> Entity:
    return ENTITIES[name]


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_columns_and_types_are_the_contracts(tables, name):
    entity = entity_of(name)
    table = tables[name]
    assert table.column_names == entity.column_names
    for column in entity.columns:
        assert table.schema.field(column.name).type == EXPECTED_TYPES[column.type], column.name


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_required_columns_are_filled_and_values_allowed(tables, name):
    entity = entity_of(name)
    table = tables[name]
    assert table.num_rows > 0
    for column in entity.columns:
        values = table[column.name]
        if column.required:
            assert values.null_count == 0, column.name
        if column.allowed:
            present = set(pc.unique(values.drop_null()).to_pylist())
            assert present <= set(column.allowed), column.name
        if column.minimum is not None and len(values.drop_null()):
            assert float(pc.min(values).as_py()) >= column.minimum, column.name
        if column.maximum is not None and len(values.drop_null()):
            assert float(pc.max(values).as_py()) <= column.maximum, column.name
        if column.type == "decimal" and values.null_count < len(values):
            assert pc.max(values).as_py().as_tuple().exponent >= -6


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_keys_are_unique(tables, name):
    entity = entity_of(name)
    table = tables[name]
    grouped = table.group_by(list(entity.key)).aggregate([([], "count_all")])
    assert grouped.num_rows == table.num_rows


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_references_hold(tables, name):
    for column in entity_of(name).columns:
        if column.references:
            target_entity, target_column = column.references.split(".")
            known = tables[target_entity][target_column]
            values = tables[name][column.name].drop_null()
            assert pc.all(pc.is_in(values, value_set=known.combine_chunks())).as_py() in (
                True, None), column.name


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_dates_are_in_order(tables, name):
    table = tables[name]
    for order in entity_of(name).date_orders:
        earlier, later = as_instant(table[order.earlier]), as_instant(table[order.later])
        compare = pc.less if order.strict else pc.less_equal
        ok = compare(earlier, later)
        assert pc.all(ok).as_py() in (True, None), f"{order.earlier} vs {order.later}"


def test_scores_are_in_range_for_their_kind(tables):
    surveys = tables["surveys"]
    for rule in entity_of("surveys").ranges_by_kind:
        for kind, (low, high) in rule.ranges.items():
            scores = surveys.filter(pc.equal(surveys[rule.kind_column], kind))[rule.column]
            assert len(scores) > 0
            assert low <= pc.min(scores).as_py() and pc.max(scores).as_py() <= high


def test_every_event_names_an_account_or_a_user(tables):
    events = tables["events"]
    for group in entity_of("events").one_of_required:
        present = pc.or_(*[pc.is_valid(events[c]) for c in group])
        assert pc.all(present).as_py()


def test_events_users_are_known_users(tables):
    users = tables["users"]["user_id"].combine_chunks()
    event_users = tables["events"]["user_id"].drop_null()
    assert pc.all(pc.is_in(event_users, value_set=users)).as_py()


def test_canceled_at_is_not_after_end_date(tables):
    subs = tables["subscriptions"]
    ended = subs.filter(pc.is_valid(subs["canceled_at"]))
    assert pc.all(pc.less_equal(as_instant(ended["canceled_at"]),
                                as_instant(ended["end_date"]))).as_py()
