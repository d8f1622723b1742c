"""`definitions/quality.yml`: which data-quality checks run, how severe a failure is, and the
accuracy rules, validated with errors that name the file, line and field.

Every section has a default, and when the file is missing the shipped
`default_quality.yml` applies (`quarterdeck init` writes a copy to edit). A rule::

    rules:
      - name: invoice_paid_after_issue
        kind: date_order            # see RULE_KINDS
        entity: invoices
        fields: [issued_at, paid_at]
        severity: error             # error or warning
        threshold: 0                # the largest share of rows that may fail it

Example: load_quality_definitions(ws.definitions_dir).rules[0].kind → "has_owner".
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.workspace.yaml_source import load_model

QUALITY_FILE = "quality.yml"
DEFAULT_QUALITY_PATH = Path(__file__).with_name("default_quality.yml")
Severity = Literal["error", "warning"]
NUMERIC_TYPES = ("decimal", "rate", "integer", "number")
TIME_TYPES = ("date", "timestamp")

#: Every kind of accuracy rule: what it checks, and the settings it takes beyond
#: entity, field(s), severity and threshold.
RULE_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "not_null": ("the field has a value", ()),
    "date_order": ("the second field is not before the first (after it when `strict`)",
                   ("strict",)),
    "range": ("the value is between `min` and `max` (inclusive)", ("min", "max")),
    "email": ("the value looks like an email address", ()),
    "one_of": ("the value is one of `values`", ("values",)),
    "references": ("the value exists in `target` (entity.column)", ("target",)),
    "has_owner": ("the field names a member of the team (team.email)", ()),
    "unique": ("no other row has the same value (of every field listed)", ()),
}
_PARAMS = ("strict", "min", "max", "values", "target")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _entity(name: str) -> str:
    if name not in ENTITIES:
        raise ValueError(f"{name!r} is not an entity of the data contract "
                         f"({', '.join(ENTITIES)})")
    return name


def _column_of(entity: str, column: str) -> str:
    if column not in ENTITIES[entity].column_names:
        raise ValueError(f"{column!r} is not a column of {entity} "
                         f"({', '.join(ENTITIES[entity].column_names)})")
    return column


class Rule(_Strict):
    """One accuracy rule: every row of `entity` should meet it."""

    kind: Literal["not_null", "date_order", "range", "email", "one_of", "references",
                  "has_owner", "unique"] = Field(description="What the rule checks.")
    entity: str = Field(description="The entity whose rows it checks.")
    field: str | None = Field(None, description="The column it checks.")
    fields: list[str] | None = Field(
        None, description="date_order: [earlier, later]; unique: columns unique together.")
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_\-]+$",
                             description="Name shown in the report; default `<kind>_<field>`.")
    description: str = Field("", description="Why the rule matters, in words.")
    severity: Severity = Field("error", description="What a failing rule is.")
    threshold: float = Field(0, ge=0, le=1, description="The largest share of rows that may "
                             "fail before the rule does.")
    strict: bool = Field(False, description="date_order: the later field must be strictly "
                         "after the earlier one.")
    min: float | None = Field(None, description="range: the least value allowed.")
    max: float | None = Field(None, description="range: the greatest value allowed.")
    values: list[str] | None = Field(None, description="one_of: the values allowed.")
    target: str | None = Field(None, description="references: `entity.column` holding every "
                               "value allowed.")

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, value: str) -> str:
        return _entity(value)

    @property
    def columns(self) -> list[str]:
        """The columns the rule reads, in order."""
        return list(self.fields) if self.fields else [self.field] if self.field else []

    @property
    def label(self) -> str:
        return self.name or f"{self.kind}_{'_'.join(self.columns)}"

    @model_validator(mode="after")
    def _fits_kind(self) -> Rule:
        if (self.field is None) == (self.fields is None):
            raise ValueError("give either `field` or `fields`")
        if self.fields is not None:
            wanted = {"date_order": "exactly 2", "unique": "1 or more"}.get(self.kind)
            if wanted is None:
                raise ValueError(f"a {self.kind} rule checks one `field`, not `fields`")
            if not self.fields or (self.kind == "date_order" and len(self.fields) != 2):
                raise ValueError(f"a {self.kind} rule needs {wanted} `fields`")
        elif self.kind == "date_order":
            raise ValueError("a date_order rule needs `fields: [earlier, later]`")
        for column in self.columns:
            _column_of(self.entity, column)
        allowed = RULE_KINDS[self.kind][1]
        given = [p for p in _PARAMS if getattr(self, p) not in (None, False)]
        extra = [p for p in given if p not in allowed]
        if extra:
            raise ValueError(f"`{extra[0]}` is not a setting of {self.kind} rules"
                             + (f" (they take {', '.join(allowed)})" if allowed else ""))
        self._check_kind()
        return self

    def _check_kind(self) -> None:
        types = [ENTITIES[self.entity].column(c).type for c in self.columns]
        if self.kind == "range":
            if self.min is None and self.max is None:
                raise ValueError("a range rule needs `min`, `max` or both")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError("`min` must not be above `max`")
            if types[0] not in NUMERIC_TYPES:
                raise ValueError(f"a range rule needs a number column; {self.field} is "
                                 f"{types[0]}")
        elif self.kind == "date_order":
            if any(t not in TIME_TYPES for t in types):
                raise ValueError("a date_order rule compares date or timestamp columns")
        elif self.kind == "one_of" and not self.values:
            raise ValueError("a one_of rule needs `values`")
        elif self.kind == "references":
            if not self.target:
                raise ValueError("a references rule needs `target: entity.column`")
            entity, _, column = self.target.partition(".")
            if not column:
                raise ValueError(f"target {self.target!r} is not entity.column")
            _column_of(_entity(entity), column)


class Completeness(_Strict):
    recommended: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "accounts": ["domain", "owner_email", "segment", "industry", "region", "country"],
            "contacts": ["email", "name", "persona"], "users": ["email"],
            "subscriptions": ["auto_renew"], "tickets": ["priority", "status"],
            "surveys": ["contact_id"], "activities": ["owner_email"],
            "opportunities": ["amount_arr", "currency", "close_date"],
            "invoices": ["due_at"]},
        description="Fields worth filling, by entity (required fields are always checked).")
    severity: Severity = Field("warning", description="What a recommended field too often "
                               "empty is.")
    threshold: float = Field(0.05, ge=0, le=1, description="The largest share of rows that "
                             "may leave a recommended field empty.")

    @field_validator("recommended")
    @classmethod
    def _known_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for entity, columns in value.items():
            _entity(entity)
            for column in columns:
                _column_of(entity, column)
        return value


class Freshness(_Strict):
    entities: list[str] = Field(
        default_factory=lambda: ["events", "tickets", "activities", "surveys", "invoices"],
        description="Entities whose newest row must be at most the source's `expected_every` "
        "old (definitions/sources.yml).")
    severity: Severity = Field("error", description="What a stale source is.")

    @field_validator("entities")
    @classmethod
    def _dated(cls, value: list[str]) -> list[str]:
        for name in value:
            if ENTITIES[_entity(name)].point_in_time is None:
                raise ValueError(f"{name} rows carry no date, so they have no freshness")
        return value


class Findings(_Strict):
    severity: Severity = Field("warning", description="What a failing check is.")
    threshold: float = Field(0, ge=0, le=1, description="The largest share of rows that may "
                             "fail before the check does.")


class QualityDefinitions(_Strict):
    """`definitions/quality.yml`."""

    completeness: Completeness = Field(default_factory=Completeness)
    freshness: Freshness = Field(default_factory=Freshness)
    orphans: Findings = Field(default_factory=Findings,
                              description="Rows naming an unknown account, contact or user.")
    duplicates: Findings = Field(default_factory=Findings,
                                 description="Accounts merged by identity resolution and rows "
                                 "refused as duplicate ids.")
    rules: list[Rule] = Field(default_factory=list, description="Accuracy rules.")

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[Rule]) -> list[Rule]:
        labels = [r.label for r in rules]
        twice = sorted({n for n in labels if labels.count(n) > 1})
        if twice:
            raise ValueError(f"rule name used twice: {', '.join(twice)} (give each a `name`)")
        return rules


def default_quality_definitions() -> QualityDefinitions:
    """The shipped `default_quality.yml`, what `quarterdeck init` writes."""
    return load_model(DEFAULT_QUALITY_PATH, QualityDefinitions)


def load_quality_definitions(definitions_dir: Path) -> QualityDefinitions:
    """The workspace's `quality.yml`, or the shipped defaults when it has none; a problem
    raises WorkspaceError naming the file, line and field."""
    path = Path(definitions_dir) / QUALITY_FILE
    return load_model(path, QualityDefinitions) if path.exists() else \
        default_quality_definitions()
