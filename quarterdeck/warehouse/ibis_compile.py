"""Compiling Ibis expressions to SQL in linear time: the same SQL, faster.

Ibis's SQL compiler merges each Select into the Select below it when the merged one is no more
complex (`ibis.backends.sql.rewrites.complexity`). Each of those checks walks the whole graph
beneath both Selects, so compiling a deep expression — a health score, churn features, the
book — costs time quadratic in its size: on a next-day run for 2,000 accounts, compiling the
SQL took longer than DuckDB took to run it.

`install()` replaces that function with one that gives every node the same score but
remembers the score of each node it has seen (nodes are immutable and compared by value), so
each node is scored once. The SQL is unchanged, character for character
(`tests/warehouse/test_ibis_compile.py` compiles the pipeline's expressions both ways).
"""

from __future__ import annotations

import sys

import ibis.expr.operations as ops
from ibis.backends.sql import rewrites

_original = rewrites.complexity
_scores: dict[ops.Node, int] = {}
_MAX_REMEMBERED = 1_000_000


def complexity(node: ops.Node) -> int:
    """The score Ibis's `complexity` gives `node`: 1 for a Field, the largest integer for an
    impure call, else 1 + the scores of its children (each time it is a child)."""
    scores = _scores
    if len(scores) > _MAX_REMEMBERED:
        scores.clear()
    stack = [node]
    while stack:
        top = stack[-1]
        if top in scores:
            stack.pop()
            continue
        children = top.__children__
        missing = [child for child in children if child not in scores]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        if isinstance(top, ops.Field):
            scores[top] = 1
        elif isinstance(top, ops.Impure):
            scores[top] = sys.maxsize
        else:
            scores[top] = 1 + sum(scores[child] for child in children)
    return scores[node]


def install() -> None:
    """Use the remembering `complexity` in Ibis's SQL rewrites (idempotent)."""
    rewrites.complexity = complexity


def uninstall() -> None:
    """Restore Ibis's own `complexity` (tests compare the two)."""
    rewrites.complexity = _original
