"""Numbers in the words of reasons: a whole number with thousands separators.

Where the engine spells numbers itself (backend feature `number_format`: DuckDB's
`format('{:,}', n)`) it does; elsewhere a spelling by groups of three digits with the integer
arithmetic and text functions every engine has. Both give the same text for every int64 but
−2⁶³ (`tests/health/test_number_phrases.py`). The portable one repeats the value's expression
about a dozen times: a phrase over twenty features spelled that way made a query of 200 KB
that DuckDB took longer to plan than to run.

An expression is spelled for the engine its tables are bound to (in-memory tables: the
default engine). One compiled for another dialect than its tables' (`ibis.to_sql(expr,
dialect=…)`) should be built over unbound tables, which get the portable spelling.

Example: thousands(t.arr) → "439,714" for 439714.4.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.errors import NotSupportedError
from quarterdeck.warehouse.backends import capabilities
from quarterdeck.warehouse.shared_results import engine_of


@ibis.udf.scalar.builtin(name="format")
def _engine_format(pattern: str, value: dt.int64) -> str:
    """The engine's own `format` (DuckDB: `format('{:,}', 1234)` → "1,234")."""


def thousands(value: ir.NumericValue) -> ir.StringValue:
    """`value` rounded to a whole number, with thousands separators: 439714.4 → "439,714"."""
    n = value.cast(dt.float64).round(0).cast(dt.int64)
    if formats_numbers(value):
        return _engine_format("{:,}", n)
    return portable_thousands(n)


def portable_thousands(n: ir.IntegerValue) -> ir.StringValue:
    """A whole number with thousands separators, in integer arithmetic every engine has
    (`%` on integers; each group's division is of a multiple of its power of ten, exact in
    float64): 439714 → "439,714"."""
    a = n.abs()

    def group(k: int) -> ir.IntegerValue:  # the k-th group of three digits from the right
        return ((a % 10 ** (3 * k + 3) - a % 10 ** (3 * k)) / 10 ** (3 * k)).cast(dt.int64)

    def spelled(groups: int) -> ir.StringValue:  # a head, then `groups` groups of three
        power = 10 ** (3 * groups)
        text = ((a - a % power) / power).cast(dt.int64).cast(dt.string)
        for k in range(groups - 1, -1, -1):
            text = text + "," + group(k).cast(dt.string).lpad(3, "0")
        return text

    # int64 reaches 9.2 × 10^18: a head and at most six groups of three
    text = ibis.cases(*[(a >= 10 ** (3 * g), spelled(g)) for g in range(6, 0, -1)],
                      else_=a.cast(dt.string))
    return ibis.ifelse(n < 0, "-" + text, text)


def formats_numbers(value: ir.Value) -> bool:
    """Whether the engine `value` runs on (`engine_of` its tables: in-memory tables alone, the
    default engine; any unbound table, none) has the `number_format` feature."""
    engine = engine_of({"value": value})
    if engine is None:
        return False
    try:
        return capabilities(engine).supports("number_format")
    except NotSupportedError:
        return False
