"""The settings in `quarterdeck.yml`: where the data lives and how money and time are read.

Every setting is documented in docs/configuration.md (a test keeps the two in step).
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WarehouseSettings(_Strict):
    url: str = Field(
        "duckdb://data/warehouse.duckdb",
        description="Ibis connection URL of the warehouse. A relative duckdb path is inside the "
        "workspace.",
    )
    memory_limit: str = Field(
        "3GB", description="Memory the embedded DuckDB may use for the pipeline's "
        "computations before it spills to disk (20,000 accounts with 100M events need about "
        "3 GB; small companies far less). The run's peak follows it: at that size about "
        "3.9 GB with 3GB, 4.7 GB with 4GB, in about the same time; the daily tables build "
        "under 2GB too.")
    load_memory_limit: str = Field(
        "1GB", description="Memory the embedded DuckDB may use while loading files; loads "
        "stream and spill, so this bounds their footprint whatever the file size.")
    threads: int | None = Field(None, description="Worker threads; empty = one per core.", ge=1)


class AppDatabaseSettings(_Strict):
    url: str = Field(
        "sqlite:///data/app.db",
        description="SQLAlchemy URL of the app database. A relative sqlite path is inside the "
        "workspace; PostgreSQL is `postgresql+psycopg://user@host/db`.",
    )


class ServerSettings(_Strict):
    host: str = Field("127.0.0.1", description="Address `quarterdeck serve` listens on.")
    port: int = Field(8000, description="Port `quarterdeck serve` listens on.", ge=1, le=65535)
    workers: int = Field(
        1, ge=1, le=64, description="Server processes `quarterdeck serve` runs on the port. "
        "One is enough for a team at the desk; under many people at once, one per core lets "
        "pages be answered in parallel (each process holds its own page caches).")
    secure_cookies: Literal["auto", "always", "never"] = Field(
        "auto", description="Mark the session cookie `Secure` (sent over HTTPS only): `auto` "
        "when the request came over HTTPS, directly or through a proxy trusted by "
        "`trusted_proxies` that says so (X-Forwarded-Proto); `always`; or `never`.")
    trusted_proxies: str | None = Field(
        None, description="Addresses of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto headers are believed (comma-separated, `*` for any): the client "
        "address that sign-in lockouts count, and whether the request came over HTTPS. "
        "Empty: a proxy on this machine (127.0.0.1) only.")


class MetricSettings(_Strict):
    free_plan: Literal["churn", "contraction"] = Field(
        "churn", description="What a paying account moving to a zero-priced plan (or a 100% "
        "discount) counts as: `churn` (the reference rule: MRR fell to 0) or `contraction` "
        "(the logo is retained while it keeps a subscription).")
    past_due_churn_days: int | None = Field(
        None, ge=1, le=365, description="Empty: an account keeps its MRR until its "
        "subscription is cancelled, however late it pays. A number N: an account with an "
        "invoice unpaid N days after its due date has no MRR from day N + 1 past due until the "
        "invoice is paid (needs invoices).")


class ChurnSettings(_Strict):
    window_days: int = Field(
        90, ge=1, le=730, description="The window of the churn probability published beside "
        "the probability at the next renewal decision: the chance of churning at any decision "
        "in the next N days. Lists sorted by churn risk use it.")
    attributes: list[str] | None = Field(
        None, description="Account attributes the churn model may use as features: accounts "
        "columns (segment, industry, region, country, any custom column) and subscription "
        "ones (plan, auto_renew). Empty = every one the data has; [] = none.")
    retrain_days: int = Field(
        7, ge=1, le=366, description="How often `quarterdeck run` trains the churn models: a "
        "model trained as of a day up to N − 1 days before the run (with the same attributes) "
        "scores the run's day; 1 retrains on every run. Training is the costliest step of a "
        "daily run, and a week-old model scores today's data as well as one trained today.")


class WorkspaceSettings(_Strict):
    name: str = Field("Quarterdeck", description="Company or workspace name shown in the app.")
    base_currency: str = Field("USD", description="ISO 4217 currency all money is reported in.")
    fiscal_year_start_month: Annotated[int, Field(ge=1, le=12)] = Field(
        1, description="Month (1–12) the fiscal year starts in."
    )
    timezone: str = Field(
        "UTC", description="IANA time zone of the company: it decides what 'today' is (the "
        "default as-of date). Stored timestamps are UTC and a timestamp's day is its UTC date."
    )
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)
    app_database: AppDatabaseSettings = Field(default_factory=AppDatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    metrics: MetricSettings = Field(default_factory=MetricSettings)
    churn: ChurnSettings = Field(default_factory=ChurnSettings)

    @field_validator("base_currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if len(value) != 3 or pycountry.currencies.get(alpha_3=value) is None:
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. USD, EUR)")
        return value.upper()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris)") from exc
        return value


def resolve_url(url: str, root: Path) -> str:
    """Make a relative embedded-database path (duckdb, sqlite) absolute under `root`."""
    for scheme in ("duckdb://", "sqlite:///"):
        if url.startswith(scheme):
            path = url[len(scheme):]
            if path and path != ":memory:" and not path.startswith("/"):
                return scheme + str((root / path).resolve())
    return url
