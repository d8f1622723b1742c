"""Conditions on account facts, written in workspace YAML and evaluated as Ibis predicates.

A condition maps fact names to tests; every test must hold (and). A test is a plain value
(equality) or an object of comparisons::

    when:                          # all of these
      status: active
      days_to_renewal: {at_most: 90}
      health_band: {in: [red]}
    when_any:                      # and at least one of these groups
      - {churn_probability: {at_least: 0.5}}
      - {health_band: red}

A fact with no value (NULL) fails every comparison except `is_null: true`, so a rule never
fires on missing data by accident. Example: Condition(when={"status": "active"}).text() →
"status = active".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Scalar = str | int | float | bool


class Comparison(BaseModel):
    """Comparisons of one fact; every given comparison must hold."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    eq: Scalar | None = Field(None, description="Equal to.")
    ne: Scalar | None = Field(None, description="Not equal to (a missing value fails).")
    lt: float | None = Field(None, description="Less than.")
    at_most: float | None = Field(None, description="Less than or equal to.")
    gt: float | None = Field(None, description="Greater than.")
    at_least: float | None = Field(None, description="Greater than or equal to.")
    in_: list[Scalar] | None = Field(None, alias="in", description="One of these values.")
    not_in: list[Scalar] | None = Field(None, description="None of these values.")
    is_null: bool | None = Field(None, description="true: the fact has no value; false: it has.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {"eq": value}

    @model_validator(mode="after")
    def _something(self) -> Comparison:
        if not self.model_fields_set:
            raise ValueError("give at least one comparison (eq, ne, lt, at_most, gt, "
                             "at_least, in, not_in, is_null)")
        return self

    def parts(self) -> list[tuple[str, Any]]:
        return [(name, getattr(self, name)) for name in _OPS if getattr(self, name) is not None]


_OPS: dict[str, tuple[str, Callable[[ir.Value, Any], ir.BooleanValue]]] = {
    "eq": ("=", lambda v, x: v == x),
    "ne": ("≠", lambda v, x: v != x),
    "lt": ("<", lambda v, x: v < x),
    "at_most": ("≤", lambda v, x: v <= x),
    "gt": (">", lambda v, x: v > x),
    "at_least": ("≥", lambda v, x: v >= x),
    "in_": ("in", lambda v, x: v.isin(x)),
    "not_in": ("not in", lambda v, x: v.notin(x)),
    "is_null": ("is missing", lambda v, x: v.isnull() if x else v.notnull()),
}

Comparisons = dict[str, Comparison]


class Condition(BaseModel):
    """`when` (all hold) and `when_any` (at least one group holds); empty means always."""

    model_config = ConfigDict(extra="forbid")
    when: Comparisons = Field(default_factory=dict,
                              description="Fact → test; every test must hold.")
    when_any: list[Comparisons] = Field(default_factory=list, description="Groups of tests; at "
                                  "least one group must hold entirely.")

    @field_validator("when", "when_any", mode="after")
    @classmethod
    def _known_facts(cls, value: Comparisons | list[Comparisons]
                     ) -> Comparisons | list[Comparisons]:
        from quarterdeck.rules.account_facts import FACTS

        groups = value if isinstance(value, list) else [value]
        for group in groups:
            for name in group:
                if name not in FACTS:
                    raise ValueError(f"unknown fact {name!r}; known facts: "
                                     f"{', '.join(sorted(FACTS))} (see docs/operations.md)")
        return value

    def facts(self) -> list[str]:
        """The fact names this condition reads."""
        names = list(self.when)
        for group in self.when_any:
            names += [n for n in group if n not in names]
        return names

    def predicate(self, t: ir.Table) -> ir.BooleanValue:
        """True on the rows of `t` (a facts table) where the condition holds, never NULL."""
        result: ir.BooleanValue = _group(t, self.when)
        if self.when_any:
            any_of = ibis.literal(False)
            for group in self.when_any:
                any_of = any_of | _group(t, group)
            result = result & any_of
        return result

    def text(self) -> str:
        """The condition in words, e.g. "health_band = red and days_to_renewal ≤ 90"."""
        parts = [_group_text(self.when)] if self.when else []
        if self.when_any:
            parts.append("(" + " or ".join(_group_text(g) for g in self.when_any) + ")")
        return " and ".join(parts) or "always"


def _group(t: ir.Table, tests: Comparisons) -> ir.BooleanValue:
    result: ir.BooleanValue = ibis.literal(True)
    for name, test in tests.items():
        for op, value in test.parts():
            result = result & _OPS[op][1](t[name], value).fill_null(False)
    return result


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def _group_text(tests: Comparisons) -> str:
    words = []
    for name, test in tests.items():
        for op, value in test.parts():
            symbol = _OPS[op][0]
            words.append(f"{name} {symbol}" if op == "is_null" and value
                         else f"{name} is present" if op == "is_null"
                         else f"{name} {symbol} {_show(value)}")
    return " and ".join(words)
