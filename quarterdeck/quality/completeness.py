"""Completeness: are the fields filled?

- every required column of the data contract (an empty one is an error: the loader refuses
  such rows, so one here came in some other way), and every "at least one of" group (events
  need an account_id or a user_id);
- the recommended fields of `definitions/quality.yml` (`completeness.recommended`), each a
  warning when more than `completeness.threshold` of the rows leave it empty.

Example: 40 of 2,040 accounts without a domain → recommended `domain` failed 40, share 2.0%,
ok under the default 5% threshold.
"""

from __future__ import annotations

import ibis.expr.types as ir

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.quality.definitions import QualityDefinitions
from quarterdeck.quality.row_tests import Failing, RowTest


def _empty(column: str) -> Failing:
    return lambda t, found: t[column].isnull()


def _all_empty(columns: tuple[str, ...]) -> Failing:
    def failing(t: ir.Table, found: ir.BooleanValue | None) -> ir.BooleanValue:
        out = t[columns[0]].isnull()
        for column in columns[1:]:
            out = out & t[column].isnull()
        return out
    return failing


def completeness_tests(definitions: QualityDefinitions) -> list[RowTest]:
    """A test per required column, "at least one of" group and recommended field."""
    tests = []
    for entity in ENTITIES.values():
        for column in entity.columns:
            if column.required:
                tests.append(RowTest(entity.name, "completeness", "required", column.name,
                                     "error", 0.0, f"{column.name} is filled (required)",
                                     _empty(column.name)))
        for group in entity.one_of_required:
            tests.append(RowTest(entity.name, "completeness", "required", " or ".join(group),
                                 "error", 0.0, f"{' or '.join(group)} is filled (required)",
                                 _all_empty(group)))
    settings = definitions.completeness
    for entity_name, columns in settings.recommended.items():
        for column_name in columns:
            tests.append(RowTest(entity_name, "completeness", "recommended", column_name,
                                 settings.severity, settings.threshold,
                                 f"{column_name} is filled (recommended)", _empty(column_name)))
    return tests
