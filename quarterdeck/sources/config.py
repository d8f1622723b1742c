"""`definitions/sources.yml`: the systems Quarterdeck syncs from, and how fresh each should be.

Example::

    sources:
      stripe:
        kind: stripe                  # stripe, hubspot, salesforce, zendesk, warehouse_table
        expected_every: 1d            # freshness: the newest row should be at most this old
        objects: [customers, subscriptions, invoices]   # default: every object it knows
      crm:
        kind: hubspot
        options: {external_id_properties: {billing: stripe_customer_id}}
      data-team:
        kind: warehouse_table
        url: postgresql://analytics@db/prod
        tables:
          - entity: accounts
            table: crm.companies
            columns: {account_id: company_id, name: company_name, domain: website}
            cursor: updated_at
    files:
      expected_every: 1d
      freshness: {tickets: 2d}        # per-entity overrides

Every id a source emits is prefixed with its name (`stripe:cus_N1`); rows without a known
prefix came from files or the tracking API, the source named `files`. Credentials never live
here: they come from the environment or the workspace's `secrets.yml`
(see `quarterdeck.sources.credentials`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.workspace.yaml_source import load_model

SOURCES_FILE = "sources.yml"
FILES_SOURCE = "files"
CONNECTOR_KINDS = ("stripe", "hubspot", "salesforce", "zendesk")
SOURCE_KINDS = (*CONNECTOR_KINDS, "warehouse_table")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'30m', '6h', '1d', '2w' as a timedelta."""
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 30m, 6h, 1d or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Freshness(_Strict):
    expected_every: str = Field(
        "1d", description="How old the newest row may be before the source counts as stale "
        "(30m, 6h, 1d, 2w).")
    freshness: dict[str, str] = Field(
        default_factory=dict, description="Per-entity overrides of `expected_every`.")

    @field_validator("expected_every")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("freshness")
    @classmethod
    def _entity_durations(cls, value: dict[str, str]) -> dict[str, str]:
        for entity, duration in value.items():
            if entity not in ENTITIES:
                raise ValueError(f"{entity!r} is not an entity of the data contract")
            parse_duration(duration)
        return value

    def expected_for(self, entity: str) -> timedelta:
        return parse_duration(self.freshness.get(entity, self.expected_every))


class TableMapping(_Strict):
    """One warehouse table mapped onto an entity of the data contract."""

    entity: str = Field(description="The entity the table's rows become.")
    table: str = Field(description="The table, optionally schema-qualified (`crm.companies`).")
    columns: dict[str, str] = Field(
        default_factory=dict, description="Contract column → the table's column; columns "
        "with the contract's own name need no entry.")
    cursor: str | None = Field(
        None, description="A column that grows when a row changes (e.g. updated_at): only "
        "rows past the last sync's value are read.")
    keep_other_columns: bool = Field(
        False, description="Keep the table's unmapped columns as custom attributes.")

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, value: str) -> str:
        if value not in ENTITIES:
            raise ValueError(f"{value!r} is not an entity of the data contract")
        return value

    @model_validator(mode="after")
    def _known_columns(self) -> TableMapping:
        known = {c.name for c in ENTITIES[self.entity].columns}
        unknown = sorted(set(self.columns) - known - {"external_ids"})
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not columns of {self.entity}")
        return self


class Source(Freshness):
    kind: Literal["stripe", "hubspot", "salesforce", "zendesk", "warehouse_table"] = Field(
        description="Which connector syncs it.")
    objects: list[str] | None = Field(
        None, description="The vendor objects to sync; default every object the connector "
        "knows.")
    base_url: str | None = Field(
        None, description="The vendor API's address; set only for a proxy or a sandbox.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Connector-specific options (see docs/sources.md).")
    url: str | None = Field(None, description="warehouse_table: an Ibis connection URL.")
    tables: list[TableMapping] = Field(
        default_factory=list, description="warehouse_table: the tables and their mappings.")
    prefix_ids: bool = Field(
        True, description="Prefix every id with the source's name (`crm:123`); turn off only "
        "for a source whose ids are already the ones your files use.")
    page_size: int = Field(100, ge=1, le=10_000, description="Records asked for per request.")
    max_retries: int = Field(
        6, ge=0, le=20, description="Retries of a request answered 429 or 5xx, with "
        "exponential backoff honouring Retry-After.")
    retry_base_seconds: float = Field(
        1.0, gt=0, le=60, description="First backoff; each retry waits about twice as long, "
        "at most a minute.")

    @model_validator(mode="after")
    def _kind_needs(self) -> Source:
        if self.kind == "warehouse_table":
            if not self.url or not self.tables:
                raise ValueError("a warehouse_table source needs `url` and `tables`")
        elif self.tables or self.url:
            raise ValueError(f"`url` and `tables` are for warehouse_table sources, not {self.kind}")
        return self


class SourcesConfig(_Strict):
    """`definitions/sources.yml`."""

    sources: dict[str, Source] = Field(default_factory=dict)
    files: Freshness = Field(default_factory=Freshness,
                             description="Freshness expected of loaded files.")

    @field_validator("sources")
    @classmethod
    def _names(cls, value: dict[str, Source]) -> dict[str, Source]:
        for name in value:
            if not _NAME.match(name) or name == FILES_SOURCE:
                raise ValueError(f"{name!r}: a source name is lowercase letters, digits, - "
                                 f"and _, starts with a letter, and is not {FILES_SOURCE!r}")
        return value

    def source(self, name: str) -> Source:
        from quarterdeck.errors import QuarterdeckError

        if name not in self.sources:
            known = ", ".join(sorted(self.sources)) or "none configured"
            raise QuarterdeckError(f"no source named {name!r} in definitions/{SOURCES_FILE} "
                                   f"({known})")
        return self.sources[name]

    def source_of_id(self, value: str) -> str:
        """The source a canonical id came from, by its prefix."""
        prefix, sep, _ = value.partition(":")
        return prefix if sep and prefix in self.sources else FILES_SOURCE


def load_sources(definitions_dir: Path) -> SourcesConfig:
    """The workspace's sources; none configured when the file does not exist."""
    path = definitions_dir / SOURCES_FILE
    if not path.exists():
        return SourcesConfig()
    return load_model(path, SourcesConfig)
