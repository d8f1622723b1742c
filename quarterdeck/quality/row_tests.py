"""Row tests: questions asked of every row of an entity, answered per source in one pass.

Completeness, accuracy rules, orphans and merged duplicates are all row tests: a test says
which rows it judges (`applies`, default every row) and which of those fail. All the tests
of one entity are answered by one aggregation over its table, grouped by the rows' source;
the failing rows' ids (a few per test and source, as examples) by one more query, only for
the tests that failed. A test may look values up in another table (`lookup`: e.g. the
account ids that exist), joined once.

Example::

    test = RowTest("tickets", "completeness", "recommended", "priority", "warning", 0.05,
                   "priority is filled", failing=lambda t, found: t.priority.isnull())
    judged = judged_rows(tables, "tickets", [test], as_of=date(2026, 9, 30), sources=[])
    con.to_pyarrow(row_test_counts(judged, 1))   # _source, rows, judged_0, failed_0
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from quarterdeck.quality.attribution import known_rows, row_id, row_source

Failing = Callable[[ir.Table, ir.BooleanValue | None], ir.BooleanValue]
EXAMPLES = 3


@dataclass(frozen=True)
class RowTest:
    """One question asked of every row of `entity`.

    `failing(rows, found)` says whether a row fails; `found` is whether the row's `field`
    value is among the `lookup` values (None without a lookup). `applies(rows)` says which
    rows are judged at all (e.g. only rows that have a value).
    """

    entity: str
    check: str  # completeness, accuracy, orphans, duplicates
    rule: str
    field: str
    severity: str
    threshold: float
    description: str  # what a passing row is, in words
    failing: Failing
    applies: Callable[[ir.Table], ir.BooleanValue] | None = None
    lookup: Callable[[Mapping[str, ir.Table]], ir.Table] | None = None  # one column


def judged_rows(tables: Mapping[str, ir.Table], entity: str, tests: Sequence[RowTest], *,
                as_of: date, sources: Collection[str]) -> ir.Table:
    """The rows of `entity` known as of `as_of`, each with its `_source`, its `_id`, and per
    test i whether the test judges it (`_judged_i`) and whether it fails (`_failed_i`)."""
    table = known_rows(tables[entity], entity, as_of)
    t = table.mutate(_source=row_source(table, entity, sources), _id=row_id(table, entity))
    found: dict[int, str] = {}
    for i, test in enumerate(tests):
        if test.lookup is None:
            continue
        values = test.lookup(tables)
        key, flag = f"_key_{i}", f"_found_{i}"
        known = values.select(**{key: values[values.columns[0]].cast(t[test.field].type())})
        known = known.filter(known[key].notnull()).distinct().mutate(
            **{flag: ibis.literal(True)})
        t = t.left_join(known, t[test.field] == known[key]).drop(key)
        found[i] = flag
    columns = {}
    for i, test in enumerate(tests):
        judged = test.applies(t).fill_null(False) if test.applies else ibis.literal(True)
        fails = test.failing(t, t[found[i]].notnull() if i in found else None)
        columns[f"_judged_{i}"] = judged
        columns[f"_failed_{i}"] = judged & fails.fill_null(False)
    return t.mutate(**columns)


def row_test_counts(judged: ir.Table, n_tests: int) -> ir.Table:
    """Per source: `rows` (known as of the date), and per test i the rows it judged
    (`judged_i`) and the rows that failed it (`failed_i`)."""
    counts = {}
    for i in range(n_tests):
        counts[f"judged_{i}"] = judged.count(where=judged[f"_judged_{i}"])
        counts[f"failed_{i}"] = judged.count(where=judged[f"_failed_{i}"])
    return judged.group_by("_source").agg(rows=judged.count(), **counts)


def failing_examples(judged: ir.Table, tests: Collection[int],
                     per_test: int = EXAMPLES) -> ir.Table:
    """The first `per_test` ids (in id order) failing each test of `tests`, per source:
    `_source`, `test`, `id`."""
    parts = [judged.filter(judged[f"_failed_{i}"]).select(
        "_source", test=ibis.literal(i), id=judged._id) for i in sorted(tests)]
    failing = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    rank = ibis.row_number().over(group_by=[failing._source, failing.test],
                                  order_by=failing.id)
    ranked = failing.mutate(_rank=rank)
    return ranked.filter(ranked._rank < per_test).drop("_rank")
