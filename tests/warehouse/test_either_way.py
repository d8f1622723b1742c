"""What changed between two versions of a table: the rows the two do not hold alike."""

from __future__ import annotations

from collections import Counter

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from quarterdeck.warehouse.incremental import either_way

row = st.tuples(st.sampled_from(["a", "b", None]), st.one_of(st.none(), st.integers(0, 2)))
rows = st.lists(row, max_size=12)


def _table(values: list[tuple]) -> ir.Table:
    return ibis.memtable(pa.table({"account_id": pa.array([v[0] for v in values], pa.string()),
                                   "n": pa.array([v[1] for v in values], pa.int64())}))


def _changed(now: list[tuple], kept: list[tuple], distinct: bool) -> list[tuple]:
    con = ibis.duckdb.connect()
    got = con.to_pyarrow(either_way(_table(now), _table(kept), distinct=distinct)).to_pylist()
    return [(r["account_id"], r["n"]) for r in got]


@settings(max_examples=80, deadline=None)
@given(now=rows, kept=rows)
def test_a_row_held_a_different_number_of_times_is_listed_once(now, kept) -> None:
    ours, theirs = Counter(now), Counter(kept)
    expected = {r for r in {*ours, *theirs} if ours[r] != theirs[r]}
    got = _changed(now, kept, distinct=False)
    assert sorted(got, key=repr) == sorted(expected, key=repr)


@settings(max_examples=80, deadline=None)
@given(now=rows, kept=rows)
def test_with_distinct_only_a_row_one_side_lacks_is_listed(now, kept) -> None:
    expected = set(now) ^ set(kept)
    got = _changed(now, kept, distinct=True)
    assert sorted(got, key=repr) == sorted(expected, key=repr)


def test_an_edit_lists_both_versions_and_a_second_copy_counts() -> None:
    kept = [("a", 1), ("b", 2), ("b", 2), (None, None)]
    now = [("a", 2), ("b", 2), (None, None)]
    assert sorted(_changed(now, kept, distinct=False), key=repr) == [("a", 1), ("a", 2),
                                                                     ("b", 2)]
    assert sorted(_changed(now, kept, distinct=True), key=repr) == [("a", 1), ("a", 2)]
