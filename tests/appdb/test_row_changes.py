"""Row changes between a published table and the new rows: published − removed + added equals
the new rows, ids of rows that stay are kept, and equal rows pair one to one."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quarterdeck.appdb.row_changes import row_changes


def _values(table: pa.Table, columns: list[str]) -> Counter:
    return Counter(tuple(r[c] for c in columns) for r in table.to_pylist())


def _apply(published: pa.Table, changes, key: list[str]) -> pa.Table:
    gone = {tuple(r[k] for k in key) for r in changes.removed.to_pylist()}
    kept = [r for r in published.to_pylist() if tuple(r[k] for k in key) not in gone]
    return pa.Table.from_pylist(kept + changes.added.to_pylist(), schema=changes.rows.schema)


def test_nothing_published_adds_every_row_numbered_from_one():
    new = pa.table({"account_id": ["a", "b"], "value": [1.0, None]})
    changes = row_changes(None, new)
    assert changes.added.column("id").to_pylist() == [1, 2]
    assert changes.removed.num_rows == 0 and changes.rows.equals(changes.added)


def test_rows_that_stay_keep_their_ids_and_new_ones_follow_the_largest():
    published = pa.table({"id": [7, 3, 9], "account_id": ["a", "b", "c"],
                          "value": [1.0, None, 2.0]})
    new = pa.table({"account_id": ["b", "c", "d"], "value": [None, 2.5, 4.0]})
    changes = row_changes(published, new)
    assert changes.removed.column("id").to_pylist() == [7, 9]
    assert changes.added.to_pylist() == [{"id": 10, "account_id": "c", "value": 2.5},
                                         {"id": 11, "account_id": "d", "value": 4.0}]
    assert changes.rows.to_pylist()[0] == {"id": 3, "account_id": "b", "value": None}


def test_equal_rows_pair_one_to_one():
    published = pa.table({"id": [1, 2], "account_id": ["a", "a"]})
    new = pa.table({"account_id": ["a", "a", "a"]})
    changes = row_changes(published, new)
    assert changes.removed.num_rows == 0
    assert changes.added.column("id").to_pylist() == [3]
    fewer = row_changes(published, pa.table({"account_id": ["a"]}))
    assert fewer.removed.column("id").to_pylist() == [2] and fewer.added.num_rows == 0


def test_null_and_nan_values_are_equal_to_themselves():
    published = pa.table({"id": [1, 2, 3], "account_id": ["a", "b", None],
                          "value": [float("nan"), None, 1.0]})
    new = pa.table({"account_id": ["a", "b", None], "value": [float("nan"), None, 1.0]})
    changes = row_changes(published, new)
    assert changes.removed.num_rows == 0 and changes.added.num_rows == 0
    assert changes.rows.column("id").to_pylist() == [1, 2, 3]


def test_a_natural_key_deletes_and_adds_the_changed_row():
    published = pa.table({"account_id": ["a", "a"], "week_start": [date(2024, 1, 1),
                                                                  date(2024, 1, 8)],
                          "events": [5, 6]})
    new = pa.table({"account_id": ["a", "a"], "week_start": [date(2024, 1, 8),
                                                           date(2024, 1, 15)],
                    "events": [7, 1]})
    changes = row_changes(published, new, key=("account_id", "week_start"))
    assert changes.removed.to_pylist() == [
        {"account_id": "a", "week_start": date(2024, 1, 1)},
        {"account_id": "a", "week_start": date(2024, 1, 8)}]
    assert changes.added.equals(new)


def test_a_key_missing_from_the_rows_is_refused():
    with pytest.raises(ValueError, match="week_start"):
        row_changes(None, pa.table({"account_id": ["a"]}), key=("account_id", "week_start"))


_rows = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]),
                           st.one_of(st.none(), st.integers(0, 2))), max_size=12)


@settings(max_examples=150, deadline=None)
@given(_rows, _rows, st.integers(0, 5))
def test_published_minus_removed_plus_added_is_the_new_rows(before, after, shift):
    schema = pa.schema([("account_id", pa.string()), ("value", pa.int64())])
    first = row_changes(None, pa.Table.from_pylist(
        [{"account_id": a, "value": v} for a, v in before], schema=schema))
    published = first.rows.set_column(0, "id", pa.array(
        [i * 2 + shift for i in first.rows.column("id").to_pylist()], pa.int64()))
    new = pa.Table.from_pylist([{"account_id": a, "value": v} for a, v in after], schema=schema)
    changes = row_changes(published, new)
    result = _apply(published, changes, ["id"])
    assert _values(result, ["account_id", "value"]) == _values(new, ["account_id", "value"])
    assert _values(changes.rows, ["id", "account_id", "value"]) == _values(
        result, ["id", "account_id", "value"])
    assert len(set(changes.rows.column("id").to_pylist())) == changes.rows.num_rows
    # Nothing is removed and added again unchanged.
    assert not (_values(changes.added, ["account_id", "value"])
                & _values(published.filter(pa.compute.is_in(
                    published.column("id"), changes.removed.column("id"))),
                    ["account_id", "value"]))
