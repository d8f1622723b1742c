"""A workspace: a folder holding `quarterdeck.yml`, definitions and the data it manages.

Layout::

    quarterdeck.yml                   settings (see docs/configuration.md)
    definitions/tiers.yml             account tiers by ARR
    definitions/health_models.yml     health models (see docs/health.md)
    definitions/sources.yml           systems synced from (see docs/sources.md)
    definitions/quality.yml           data-quality checks and rules (see docs/quality.md)
    definitions/identity.yml          matching accounts into customers (see docs/identity.md)
    definitions/lifecycle.yml         lifecycle stages, segments, onboarding milestones
    definitions/signals.yml           signals that open alerts (see docs/operations.md)
    definitions/playbooks.yml         playbooks of tasks (see docs/operations.md)
    definitions/reports.yml           report targets, audiences and schedules (see docs/reports.md)
    secrets.yml                       source credentials, when not in the environment
    data/landing/                     every accepted input, append-only (see quarterdeck.landing)
    data/rejects/                     problems found in refused rows, as CSV
    data/warehouse.duckdb             the embedded warehouse (default)
    data/staging.duckdb               staging, when the warehouse is PostgreSQL or Spark
    data/app.db                       the app database (default)
    data/models/churn/<date>/         churn models trained as of a date, with their cards
    data/published/<name>/            copies of the last publish: the next one writes changes
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quarterdeck.errors import WorkspaceError
from quarterdeck.health.definitions import (
    DEFAULT_HEALTH_MODELS_PATH,
    HealthModels,
    load_health_models,
)
from quarterdeck.identity.definitions import IdentityDefinitions, load_identity_definitions
from quarterdeck.lifecycle.book import BookDefinitions, default_book, load_book
from quarterdeck.owner_only import private_folder
from quarterdeck.quality.definitions import (
    QualityDefinitions,
    default_quality_definitions,
    load_quality_definitions,
)
from quarterdeck.reports.definitions import ReportDefinitions, load_report_definitions
from quarterdeck.sources.config import SourcesConfig, load_sources
from quarterdeck.workspace.settings import WorkspaceSettings, resolve_url
from quarterdeck.workspace.yaml_source import load_model

CONFIG_FILE = "quarterdeck.yml"
HEALTH_MODELS_FILE = "health_models.yml"
ENV_WORKSPACE = "QUARTERDECK_WORKSPACE"
ENV_WAREHOUSE_URL = "QUARTERDECK_WAREHOUSE_URL"
ENV_APP_DATABASE_URL = "QUARTERDECK_APP_DATABASE_URL"


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Tier name shown in the app, e.g. Tier 1.")
    min_arr: float = Field(0, ge=0, description="Lowest ARR (base currency) in this tier.")


class TierDefinitions(BaseModel):
    """`definitions/tiers.yml`: an account gets the first tier whose `min_arr` its ARR meets."""

    model_config = ConfigDict(extra="forbid")
    tiers: list[Tier] = Field(min_length=1)

    @model_validator(mode="after")
    def _descending(self) -> TierDefinitions:
        floors = [t.min_arr for t in self.tiers]
        if floors != sorted(floors, reverse=True):
            raise ValueError("tiers must be listed from the highest min_arr to the lowest")
        return self


@dataclass(frozen=True)
class Workspace:
    root: Path
    settings: WorkspaceSettings
    tiers: TierDefinitions
    health_models: HealthModels = field(
        default_factory=lambda: load_health_models(DEFAULT_HEALTH_MODELS_PATH))
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    quality: QualityDefinitions = field(default_factory=default_quality_definitions)
    identity: IdentityDefinitions = field(default_factory=IdentityDefinitions)
    book: BookDefinitions = field(default_factory=default_book)
    reports: ReportDefinitions | None = None

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def definitions_dir(self) -> Path:
        return self.root / "definitions"

    @property
    def rejects_dir(self) -> Path:
        return self.data_dir / "rejects"

    @property
    def warehouse_url(self) -> str:
        url = os.environ.get(ENV_WAREHOUSE_URL) or self.settings.warehouse.url
        return resolve_url(url, self.root)

    @property
    def app_database_url(self) -> str:
        url = os.environ.get(ENV_APP_DATABASE_URL) or self.settings.app_database.url
        return resolve_url(url, self.root)


def find_root(start: Path | None = None) -> Path:
    """The workspace folder: $QUARTERDECK_WORKSPACE, else `start` or the nearest parent with
    a quarterdeck.yml."""
    if start is None and os.environ.get(ENV_WORKSPACE):
        start = Path(os.environ[ENV_WORKSPACE])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).exists():
            return folder
    raise WorkspaceError(
        str(here / CONFIG_FILE), None, None,
        "no workspace here: run `quarterdeck init` or pass --workspace",
    )


def open_workspace(root: Path | None = None) -> Workspace:
    """Read and validate every workspace file; the first problem raises WorkspaceError."""
    folder = find_root(root)
    settings = load_model(folder / CONFIG_FILE, WorkspaceSettings)
    tiers = load_model(folder / "definitions" / "tiers.yml", TierDefinitions)
    # A workspace written before health models existed gets the shipped default.
    health = folder / "definitions" / HEALTH_MODELS_FILE
    models = load_health_models(health if health.exists() else DEFAULT_HEALTH_MODELS_PATH)
    sources = load_sources(folder / "definitions")
    quality = load_quality_definitions(folder / "definitions")
    identity = load_identity_definitions(folder / "definitions")
    book = load_book(folder / "definitions")
    reports = load_report_definitions(folder / "definitions")
    ws = Workspace(folder, settings, tiers, models, sources, quality, identity, book, reports)
    private_folder(ws.data_dir)
    return ws
