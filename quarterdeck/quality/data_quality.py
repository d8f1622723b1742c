"""`data_quality`: every data-quality check of a warehouse as of a date, as one report.

Reads the tables as loaded (each row keeps its source's id, so rows are attributed to their
source by the id's prefix), runs completeness, the accuracy rules, orphans and merged
duplicates as row tests (one aggregation per entity, where the data lives), freshness as one
aggregation per entity listed, and adds the duplicate rows the loader refused (from the
rejects files, read by the caller with `read_rejects`). Only rows known as of the day count.

Example::

    report = data_quality(con, loaded_tables(con), as_of=date(2026, 9, 30),
                          definitions=load_quality_definitions(ws.definitions_dir),
                          sources=ws.sources, rejects=read_rejects(ws.rejects_dir))
    report.headline, [r.detail for r in report.stale]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.quality.accuracy_rules import accuracy_tests
from quarterdeck.quality.attribution import loaded_tables
from quarterdeck.quality.completeness import completeness_tests
from quarterdeck.quality.definitions import QualityDefinitions
from quarterdeck.quality.duplicates import (
    ACCOUNT_RESOLUTION,
    merged_accounts_test,
    rejected_duplicates,
)
from quarterdeck.quality.freshness import judge_freshness, newest_rows
from quarterdeck.quality.incremental_events import ENTITY as EVENTS
from quarterdeck.quality.incremental_events import EventQuality, event_quality
from quarterdeck.quality.incremental_events import applies as events_kept_here
from quarterdeck.quality.orphans import orphan_tests
from quarterdeck.quality.report import CheckResult, QualityReport, status_of
from quarterdeck.quality.row_tests import RowTest, failing_examples, judged_rows, row_test_counts
from quarterdeck.sources.config import SourcesConfig


def warehouse_tables(con: BaseBackend) -> dict[str, ir.Table]:
    """The entities as loaded (not resolved to customers), plus `account_resolution` when
    identity resolution has written it."""
    tables = loaded_tables(con)
    if ACCOUNT_RESOLUTION in con.list_tables():
        tables[ACCOUNT_RESOLUTION] = con.table(ACCOUNT_RESOLUTION)
    return tables


def row_tests(definitions: QualityDefinitions, tables: Mapping[str, ir.Table]) -> list[RowTest]:
    """Every row test the definitions ask for, with merged duplicates when resolution ran."""
    tests = (completeness_tests(definitions) + accuracy_tests(definitions)
             + orphan_tests(definitions))
    if ACCOUNT_RESOLUTION in tables:
        tests.append(merged_accounts_test(definitions))
    return tests


def _detail(test: RowTest, judged: int, failed: int, status: str) -> str:
    what = test.description.rstrip(".")
    if not judged:
        return f"{what}: no rows to judge"
    if not failed:
        return f"{what}: " + ("the one row passes" if judged == 1 else f"all {judged:,} rows pass")
    within = f" (within the {test.threshold:.1%} allowed)" if status == "ok" else ""
    verb = "fails" if failed == 1 else "fail"
    return f"{what}: {failed:,} of {judged:,} row{'s' if judged != 1 else ''} {verb}{within}"


def _results(test: RowTest, source: str, judged: int, failed: int,
             examples: list[str]) -> CheckResult:
    status = status_of(failed, judged, test.severity, test.threshold)
    return CheckResult(source, test.entity, test.check, test.rule, test.field, judged - failed,
                       failed, test.severity, test.threshold, status,
                       _detail(test, judged, failed, status), tuple(examples))


def entities_with_rows(con: BaseBackend, tables: Mapping[str, ir.Table]) -> set[str]:
    """The entities whose table holds any row (one small query for all)."""
    counts = [tables[name].limit(1).count().name("rows").as_table().mutate(
        entity=ibis.literal(name)) for name in ENTITIES]
    rows = con.to_pyarrow(ibis.union(*counts)).to_pylist()
    return {r["entity"] for r in rows if r["rows"]}


def _row_test_results(con: BaseBackend, tables: Mapping[str, ir.Table],
                      tests: list[RowTest], *, as_of: date, sources: list[str],
                      present: set[str], events: EventQuality | None = None
                      ) -> tuple[list[CheckResult], dict[tuple[str, str], int]]:
    """The row tests' results, and the rows known per (entity, source). `events`: the
    events' counts and examples when they were kept up to date (`incremental_events`)."""
    by_entity: dict[str, list[RowTest]] = defaultdict(list)
    for test in tests:
        if test.entity in present:
            by_entity[test.entity].append(test)
    results, rows = [], {}
    for entity, entity_tests in by_entity.items():
        examples: dict[tuple[str, int], list[str]] = defaultdict(list)
        if entity == EVENTS and events is not None:
            counts = events.counts
            examples.update(events.examples)
        else:
            judged = judged_rows(tables, entity, entity_tests, as_of=as_of, sources=sources)
            counts = con.to_pyarrow(row_test_counts(judged, len(entity_tests))).to_pylist()
            failing = {i for c in counts for i in range(len(entity_tests))
                       if c[f"failed_{i}"]}
            if failing:
                for e in con.to_pyarrow(failing_examples(judged, failing)).to_pylist():
                    examples[(e["_source"], e["test"])].append(e["id"])
        for c in counts:
            rows[(entity, c["_source"])] = c["rows"]
            for i, test in enumerate(entity_tests):
                n = c[f"judged_{i}"]
                if test.check in ("orphans", "duplicates") and not n:
                    continue  # a link no row uses is not worth a line
                results.append(_results(test, c["_source"], n, c[f"failed_{i}"],
                                        sorted(examples[(c["_source"], i)])))
    return results, rows


def _freshness_results(con: BaseBackend, tables: Mapping[str, ir.Table],
                       definitions: QualityDefinitions, *, as_of: date,
                       sources: SourcesConfig, present: set[str],
                       events: EventQuality | None = None) -> list[CheckResult]:
    entities = [e for e in definitions.freshness.entities if e in present]
    newest = []
    if events is not None and EVENTS in entities:
        entities.remove(EVENTS)
        newest += events.newest
    if entities:
        newest += con.to_pyarrow(newest_rows(tables, entities, as_of=as_of,
                                             sources=list(sources.sources))).to_pylist()
    if not newest:
        return []
    severity = definitions.freshness.severity
    return [CheckResult(f.source, f.entity, "freshness", "expected_every", f.column, None,
                        None, severity, None, severity if f.stale else "ok", f.sentence,
                        newest_at=f.newest)
            for f in judge_freshness(newest, as_of=as_of, sources=sources)]


def _rejected_results(rejects: pa.Table, rows: dict[tuple[str, str], int],
                      definitions: QualityDefinitions,
                      sources: SourcesConfig) -> list[CheckResult]:
    settings = definitions.duplicates
    out = []
    for r in rejected_duplicates(rejects, sources):
        loaded = rows.get((r.entity, r.source), 0)
        status = status_of(r.rows, loaded + r.rows, settings.severity, settings.threshold)
        out.append(CheckResult(
            r.source, r.entity, "duplicates", "refused_on_load", "id", loaded, r.rows,
            settings.severity, settings.threshold, status,
            f"rows refused on load because an earlier row of the same file had their id: "
            f"{r.rows:,}", r.examples))
    return out


def data_quality(con: BaseBackend, tables: Mapping[str, ir.Table], *, as_of: date,
                 definitions: QualityDefinitions, sources: SourcesConfig,
                 rejects: pa.Table | None = None,
                 landing_dir: Path | None = None) -> QualityReport:
    """Every check of `definitions` over `tables` (as loaded, on `con`) as of `as_of`. With
    the landing area's folder (the daily run, on a writable warehouse), the events' checks
    are kept up to date from run to run instead of reading every event
    (`incremental_events`); the report is the same."""
    names = list(sources.sources)
    present = entities_with_rows(con, tables)
    tests = row_tests(definitions, tables)
    event_tests = [t for t in tests if t.entity == EVENTS]
    events = None
    if EVENTS in present and event_tests and events_kept_here(con, tables, event_tests,
                                                              landing_dir):
        events = event_quality(con, tables, event_tests, as_of=as_of, sources=names,
                               landing_dir=landing_dir)
    results, rows = _row_test_results(con, tables, tests, as_of=as_of, sources=names,
                                      present=present, events=events)
    results += _freshness_results(con, tables, definitions, as_of=as_of, sources=sources,
                                  present=present, events=events)
    if rejects is not None:
        results += _rejected_results(rejects, rows, definitions, sources)
    return QualityReport(as_of, results)
