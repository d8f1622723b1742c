"""The events' row tests and freshness kept up to date from day to day, instead of reading
every event on every run.

Events are the one entity with hundreds of millions of rows, and every check asked of them is
a sum over rows: completeness counts rows with an empty field, the orphan tests count rows
whose account or user is unknown. What a row contributes depends on the row alone, except
whether its account or user is known, which changes as accounts and users arrive. So the
warehouse keeps, beside the landing area's event versions it has read (as the usage build
does, `quarterdeck.warehouse.incremental_usage`):

- per source: the rows known, and per test the rows judged and failed (orphan tests: judged
  only), the newest timestamp and the rows that have one (freshness);
- per orphan test, source and value (an account or user id): the rows judged that name it;
- per completeness test and source: the first ids failing it (the report's examples).

A run for day D after the kept day P adds the rows dated after P up to D, and the rows of event
versions loaded since (late events land on old days; a landed version never changes). The
orphans are then counted against today's accounts and users: the values no longer known.
Examples of orphans are read from the events naming those values, only when there are any.
The result equals the full computation (`row_tests.judged_rows` over every event); it is
recomputed from every event, with the reason, on the first run, for an earlier day, when an
event version was removed or rows were superseded by a later load, when the tests or the
sources change, or for a test that is not a sum over rows (an accuracy rule on events).

Example: event_quality(con, tables, tests, as_of=date(2026, 9, 30), sources=[],
landing_dir=ws.landing_dir) → EventQuality(mode="incremental", reason="1 new day, 0 late
versions", counts=[{"_source": "files", "rows": …, "judged_0": …}], …)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from quarterdeck.quality.attribution import known_rows, row_id, row_source
from quarterdeck.quality.row_tests import EXAMPLES, RowTest, failing_examples, judged_rows
from quarterdeck.warehouse.incremental import (
    event_loads,
    landed_rows,
    raw_connection,
    table_exists,
)
from quarterdeck.warehouse.subscription_mrr import day_after

ENTITY = "events"
STATE = "_quarterdeck_quality_events_state"
COUNTS = "_quarterdeck_quality_events_counts"
VALUES = "_quarterdeck_quality_events_values"
EXAMPLE_IDS = "_quarterdeck_quality_events_examples"
#: Bump when what is kept changes meaning: the next run recomputes from every event.
DEFINITION = 1
SUMMED_CHECKS = ("completeness", "orphans")


@dataclass(frozen=True)
class EventQuality:
    """The events' row-test counts per source (as `row_test_counts` gives them), examples by
    (source, test), the newest timestamp per source (as `newest_rows` gives them), and how
    they were computed."""

    mode: str
    reason: str
    counts: list[dict]
    examples: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    newest: list[dict] = field(default_factory=list)


def applies(con: BaseBackend, tables: Mapping[str, ir.Table], tests: Sequence[RowTest],
            landing_dir: Path | None) -> bool:
    """Whether the events' tests can be kept up to date here: a DuckDB warehouse reading
    events from a landing area, every test a sum over rows, every looked-up field a string."""
    if con.name != "duckdb" or landing_dir is None or raw_connection(con) is None:
        return False
    events = tables[ENTITY]
    return all(t.entity == ENTITY and t.check in SUMMED_CHECKS
               and (t.lookup is None or events[t.field].type().is_string()) for t in tests)


def kept_newest_day(con: BaseBackend, as_of: date) -> date | None:
    """The day of the newest event known as of `as_of`, as kept by the run that computed the
    events' quality for that day; None when the kept state is of another day, was kept
    before events were loaded or replaced since, or is absent."""
    raw = raw_connection(con) if con.name == "duckdb" else None
    previous = None if raw is None else _read_state(raw)
    if previous is None or previous[0] != as_of:
        return None
    versions, superseded = event_loads(raw)
    if previous[1].get("versions") != versions or previous[1].get("superseded") != superseded:
        return None
    newest = raw.execute(f"SELECT max(newest) FROM {COUNTS}").fetchall()[0][0]
    return None if newest is None else newest.date()


def event_quality(con: BaseBackend, tables: Mapping[str, ir.Table], tests: Sequence[RowTest],
                  *, as_of: date, sources: Sequence[str], landing_dir: Path) -> EventQuality:
    """The events' row tests and freshness as of `as_of` (see the module); call only where
    `applies`."""
    raw = raw_connection(con)
    events = tables[ENTITY]
    own = [i for i, t in enumerate(tests) if t.lookup is None]
    looked = [i for i, t in enumerate(tests) if t.lookup is not None]
    now = _fingerprint(raw, tests, sources)
    previous = _read_state(raw)
    reason = _why_full(previous, now, as_of)
    if reason is not None:
        raw.execute(f"DROP TABLE IF EXISTS {STATE}")
        delta, before = events, None
    else:
        before, then = previous
        new_versions = [v for v in now["versions"] if v not in set(then["versions"])]
        since = day_after(before)
        new_days = events.filter((events.timestamp >= since)
                                 & (events.timestamp < day_after(as_of)))
        delta = new_days
        if new_versions:
            late = _version_rows(con, landing_dir, new_versions, events.schema())
            delta = new_days.union(late.filter(late.timestamp.isnull()
                                               | (late.timestamp < since)))
        days = (as_of - before).days
        reason = (f"{days} new day{'s' if days != 1 else ''}, {len(new_versions)} late "
                  f"version{'s' if len(new_versions) != 1 else ''}")
    parts = _contributions(tables | {ENTITY: delta}, tests, own, looked, as_of=as_of,
                           sources=sources)
    if before is None:
        counts, values, examples = parts
    else:
        counts, values, examples = _merged(con, parts)
    # Computed in full before anything is replaced: the state changes in one transaction.
    staged = {COUNTS: con.to_pyarrow(counts), VALUES: con.to_pyarrow(values),
              EXAMPLE_IDS: con.to_pyarrow(examples)}
    _save(raw, staged, as_of, now)
    return _results(con, tables, tests, own, looked, as_of=as_of, sources=sources,
                    mode="full" if before is None else "incremental", reason=reason)


def _fingerprint(raw, tests: Sequence[RowTest], sources: Sequence[str]) -> dict:  # noqa: ANN001
    versions, superseded = event_loads(raw)
    return {"versions": versions, "superseded": superseded,
            "tests": [[t.check, t.rule, t.field, t.description] for t in tests],
            "sources": sorted(sources), "definition": DEFINITION}


def _read_state(raw) -> tuple[date, dict] | None:  # noqa: ANN001
    if not all(table_exists(raw, t) for t in (STATE, COUNTS, VALUES, EXAMPLE_IDS)):
        return None
    row = raw.execute(f"SELECT as_of, state FROM {STATE}").fetchall()
    return (row[0][0], json.loads(row[0][1])) if row else None


def _why_full(previous: tuple[date, dict] | None, now: dict, as_of: date) -> str | None:
    if previous is None:
        return "first run"
    before, then = previous
    if as_of < before:
        return f"an earlier day ({as_of}) than the last run ({before})"
    if then.get("definition") != now["definition"]:
        return "what is kept changed"
    if then["tests"] != now["tests"] or then["sources"] != now["sources"]:
        return "the quality tests or the sources changed"
    if not set(then["versions"]) <= set(now["versions"]):
        return "an event version was removed"
    if then["superseded"] != now["superseded"]:
        return "a later load replaced event rows"
    return None


def _version_rows(con: BaseBackend, landing_dir: Path, versions: list[str],
                  schema: ibis.Schema) -> ir.Table:
    """The rows of landed event versions, in the events table's columns (a column a version
    lacks is empty, as the events view reads it)."""
    rows = landed_rows(con, landing_dir, versions)
    return rows.select(**{name: (rows[name] if name in rows.columns
                                 else ibis.null()).cast(typ)
                          for name, typ in schema.items()})


def _contributions(tables: Mapping[str, ir.Table], tests: Sequence[RowTest], own: list[int],
                   looked: list[int], *, as_of: date, sources: Sequence[str]
                   ) -> tuple[ir.Table, ir.Table, ir.Table]:
    """What the events of `tables` add: counts per source, judged rows per looked-up value,
    and the first failing ids of each own test."""
    judged = judged_rows(tables, ENTITY, [tests[i] for i in own], as_of=as_of,
                         sources=sources)
    flags = {}
    for k, i in enumerate(own):
        flags[f"judged_{i}"] = judged[f"_judged_{k}"]
        flags[f"failed_{i}"] = judged[f"_failed_{k}"]
    for i in looked:
        test = tests[i]
        flags[f"judged_{i}"] = (test.applies(judged).fill_null(False) if test.applies
                                else ibis.literal(True))
    # Prefixed apart from judged_rows' own columns, which number the own tests alone.
    t = judged.mutate(**{f"_q_{name}": value for name, value in flags.items()})
    stamp = t.timestamp.cast(dt.timestamp)
    # One pass over the events, per source and looked-up value (an account, a user): the
    # counts per source and the rows judged per value are sums over these groups, rather
    # than a pass each (at 100M events, 6 s instead of 21 s with the examples' pass).
    fields = list(dict.fromkeys(tests[i].field for i in looked))
    grouped = t.group_by("_source", *fields).agg(
        rows=t.count(),
        **{name: t.count(where=t[f"_q_{name}"]) for name in flags},
        stamped=t.count(where=stamp.notnull()), newest=stamp.max())
    held = grouped.to_pyarrow()
    g = ibis.memtable(held)
    counts = g.group_by("_source").agg(
        rows=g.rows.sum().cast(dt.int64),
        **{name: g[name].sum().cast(dt.int64) for name in flags},
        stamped=g.stamped.sum().cast(dt.int64), newest=g.newest.max())
    values = []
    for i in looked:
        v = g.filter(g[f"judged_{i}"] > 0)
        values.append(v.group_by("_source", value=v[tests[i].field].cast(dt.string)).agg(
            n=v[f"judged_{i}"].sum().cast(dt.int64)).mutate(test=ibis.literal(i)))
    values_table = (values[0].union(*values[1:]) if values else _empty_values()).select(
        "test", "_source", "value", "n")
    # Examples only of the tests some row fails: most fail none, and each costs a pass.
    failing = [k for k, i in enumerate(own) if pc.sum(held[f"failed_{i}"]).as_py()]
    if not failing:
        return counts, values_table, _empty_examples()
    examples = failing_examples(judged, failing)
    # failing_examples numbers the tests as judged_rows was given them: back to `tests`.
    test = ibis.cases(*((examples.test == k, i) for k, i in enumerate(own)))
    return counts, values_table, examples.select(test=test.cast(dt.int64),
                                                 _source=examples._source, id=examples.id)


def _merged(con: BaseBackend, parts: tuple[ir.Table, ir.Table, ir.Table]
            ) -> tuple[ir.Table, ir.Table, ir.Table]:
    """The kept state plus what the new rows add."""
    counts, values, examples = parts
    kept_counts = con.table(COUNTS)
    both = kept_counts.union(counts.select(*kept_counts.columns).cast(kept_counts.schema()))
    summed = [c for c in kept_counts.columns if c not in ("_source", "newest")]
    counts = both.group_by("_source").agg(
        **{c: both[c].sum().cast(dt.int64) for c in summed}, newest=both.newest.max())
    kept_values = con.table(VALUES)
    v = kept_values.union(values.cast(kept_values.schema()))
    values = v.group_by("test", "_source", "value").agg(n=v.n.sum().cast(dt.int64))
    kept_examples = con.table(EXAMPLE_IDS)
    e = kept_examples.union(examples.cast(kept_examples.schema()))
    rank = ibis.row_number().over(group_by=[e.test, e._source], order_by=e.id)
    e = e.mutate(_rank=rank)
    examples = e.filter(e._rank < EXAMPLES).drop("_rank")
    return counts.select(*kept_counts.columns), values, examples


def _save(raw, staged: Mapping, as_of: date, now: dict) -> None:  # noqa: ANN001
    raw.execute("BEGIN TRANSACTION")
    try:
        for name, table in staged.items():
            raw.register("_quarterdeck_staged", table)
            raw.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _quarterdeck_staged")
            raw.unregister("_quarterdeck_staged")
        raw.execute(f"CREATE OR REPLACE TABLE {STATE} (as_of DATE, state VARCHAR)")
        raw.execute(f"INSERT INTO {STATE} VALUES (?, ?)", [as_of, json.dumps(now)])
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise


def _results(con: BaseBackend, tables: Mapping[str, ir.Table], tests: Sequence[RowTest],
             own: list[int], looked: list[int], *, as_of: date, sources: Sequence[str],
             mode: str, reason: str) -> EventQuality:
    """The report's counts, examples and newest rows from the kept state."""
    counts = con.table(COUNTS)
    values = con.table(VALUES)
    failed = {}
    unknown = {}
    for i in looked:
        known = tests[i].lookup(tables)
        known = known.select(key=known[known.columns[0]].cast(dt.string))
        mine = values.filter(values.test == i)
        unknown[i] = mine.anti_join(known, mine.value == known.key)
        failed[i] = unknown[i].group_by("_source").agg(**{f"failed_{i}": unknown[i].n.sum()})
    result = counts
    for i in looked:
        result = result.left_join(failed[i], "_source").drop("_source_right")
    rows = con.to_pyarrow(result).to_pylist()
    out = []
    for r in rows:
        row = {"_source": r["_source"], "rows": r["rows"]}
        for i in range(len(tests)):
            row[f"judged_{i}"] = r[f"judged_{i}"]
            row[f"failed_{i}"] = int(r.get(f"failed_{i}") or 0)
        out.append(row)
    examples: dict[tuple[str, int], list[str]] = {}
    for e in con.to_pyarrow(con.table(EXAMPLE_IDS)).to_pylist():
        examples.setdefault((e["_source"], e["test"]), []).append(e["id"])
    failing_lookups = [i for i in looked if any(r[f"failed_{i}"] for r in out)]
    if failing_lookups:
        examples |= _orphan_examples(con, tables, tests, failing_lookups, unknown,
                                     as_of=as_of, sources=sources)
    newest = [{"source": r["_source"], "rows": r["stamped"], "newest": r["newest"],
               "entity": ENTITY} for r in con.to_pyarrow(counts).to_pylist() if r["stamped"]]
    return EventQuality(mode, reason, out, {k: sorted(v) for k, v in examples.items()},
                        newest)


def _orphan_examples(con: BaseBackend, tables: Mapping[str, ir.Table],
                     tests: Sequence[RowTest], failing: list[int],
                     unknown: Mapping[int, ir.Table], *, as_of: date,
                     sources: Sequence[str]) -> dict[tuple[str, int], list[str]]:
    """The first ids of the events naming an unknown value, per failing orphan test."""
    events = known_rows(tables[ENTITY], ENTITY, as_of)
    out: dict[tuple[str, int], list[str]] = {}
    for i in failing:
        test = tests[i]
        bad = unknown[i].select(value=unknown[i].value).distinct()
        t = events.semi_join(bad, events[test.field] == bad.value)
        t = t.filter(test.applies(t).fill_null(False) if test.applies else ibis.literal(True))
        t = t.mutate(_source=row_source(t, ENTITY, sources), _id=row_id(t, ENTITY))
        rank = ibis.row_number().over(group_by=t._source, order_by=t._id)
        first = t.mutate(_rank=rank)
        first = first.filter(first._rank < EXAMPLES)
        for e in con.to_pyarrow(first.select("_source", "_id")).to_pylist():
            out.setdefault((e["_source"], i), []).append(e["_id"])
    return out


def _empty_values() -> ir.Table:
    return ibis.memtable({"test": [], "_source": [], "value": [], "n": []},
                         schema={"test": "int64", "_source": "string", "value": "string",
                                 "n": "int64"})


def _empty_examples() -> ir.Table:
    return ibis.memtable({"test": [], "_source": [], "id": []},
                         schema={"test": "int64", "_source": "string", "id": "string"})

