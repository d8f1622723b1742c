"""Accuracy rules: the configurable checks of `definitions/quality.yml`, one builder per kind.

A rule becomes a row test (`quarterdeck.quality.row_tests`). Rules about a value judge only
the rows that have one (an empty value is completeness's business); `not_null`, `has_owner`
and `unique` judge every row (`unique` every row with a value). The kinds:

| kind | a row fails when |
|---|---|
| not_null | the field is empty |
| date_order | the second field is before the first (not after it, when `strict`) |
| range | the value is below `min` or above `max` |
| email | the value does not look like name@domain.tld |
| one_of | the value is not one of `values` |
| references | no row of `target` (entity.column) holds the value |
| has_owner | the field is empty or names nobody in the team file |
| unique | another row has the same value (of every field listed) |

Example: a `date_order` rule on invoices [issued_at, paid_at] fails an invoice paid on
2026-05-01 and issued on 2026-05-03.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.landing.row_checks import EMAIL_PATTERN
from quarterdeck.quality.definitions import RULE_KINDS, QualityDefinitions, Rule
from quarterdeck.quality.row_tests import Failing, RowTest


def _has_values(rule: Rule) -> Callable[[ir.Table], ir.BooleanValue]:
    def applies(t: ir.Table) -> ir.BooleanValue:
        out = t[rule.columns[0]].notnull()
        for column in rule.columns[1:]:
            out = out & t[column].notnull()
        return out
    return applies


def _test(rule: Rule, failing: Failing,
          applies: Callable[[ir.Table], ir.BooleanValue] | None = None,
          lookup: Callable[[Mapping[str, ir.Table]], ir.Table] | None = None) -> RowTest:
    return RowTest(rule.entity, "accuracy", rule.label, ", ".join(rule.columns),
                   rule.severity, rule.threshold,
                   rule.description or RULE_KINDS[rule.kind][0], failing, applies, lookup)


def not_null(rule: Rule) -> RowTest:
    return _test(rule, lambda t, found: t[rule.field].isnull())


def date_order(rule: Rule) -> RowTest:
    earlier, later = rule.columns

    def failing(t: ir.Table, found: ir.BooleanValue | None) -> ir.BooleanValue:
        first, second = t[earlier].cast(dt.timestamp), t[later].cast(dt.timestamp)
        return second <= first if rule.strict else second < first
    return _test(rule, failing, _has_values(rule))


def value_range(rule: Rule) -> RowTest:
    def failing(t: ir.Table, found: ir.BooleanValue | None) -> ir.BooleanValue:
        value = t[rule.field].cast(dt.float64)
        out = ibis.literal(False)
        if rule.min is not None:
            out = out | (value < rule.min)
        if rule.max is not None:
            out = out | (value > rule.max)
        return out
    return _test(rule, failing, _has_values(rule))


def email(rule: Rule) -> RowTest:
    return _test(rule, lambda t, found: ~t[rule.field].cast(dt.string).re_search(EMAIL_PATTERN),
                 _has_values(rule))


def one_of(rule: Rule) -> RowTest:
    allowed = list(rule.values or [])
    return _test(rule, lambda t, found: ~t[rule.field].cast(dt.string).isin(allowed),
                 _has_values(rule))


def references(rule: Rule) -> RowTest:
    entity, _, column = (rule.target or "").partition(".")
    return _test(rule, lambda t, found: ~found, _has_values(rule),
                 lambda tables: tables[entity].select(column))


def has_owner(rule: Rule) -> RowTest:
    return _test(rule, lambda t, found: t[rule.field].isnull() | ~found,
                 lookup=lambda tables: tables["team"].select("email"))


def unique(rule: Rule) -> RowTest:
    def failing(t: ir.Table, found: ir.BooleanValue | None) -> ir.BooleanValue:
        # Within one source: the same domain in the CRM and in billing is one company seen
        # twice, which identity resolution joins, not a record entered twice.
        keys = [t[c] for c in rule.columns]
        return t.count().over(ibis.window(group_by=[*keys, t._source])) > 1
    return _test(rule, failing, _has_values(rule))


#: The builder of each rule kind, by the kind's name in quality.yml.
RULE_BUILDERS: dict[str, Callable[[Rule], RowTest]] = {
    "not_null": not_null, "date_order": date_order, "range": value_range, "email": email,
    "one_of": one_of, "references": references, "has_owner": has_owner, "unique": unique,
}


def accuracy_tests(definitions: QualityDefinitions) -> list[RowTest]:
    """A row test per rule of `definitions`."""
    return [RULE_BUILDERS[rule.kind](rule) for rule in definitions.rules]
