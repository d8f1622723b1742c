"""The workspace's definitions as loaded, file by file, for the definitions page and its API.

Each file is read with the loader the pipeline and `quarterdeck validate` use, one at a time,
so one broken file does not hide the others: every file gets a status (`ok`; `warning` when it
loads but something it needs is missing, such as a source's credentials; `error` when it does
not load) with its problems (message, file, line, field) and, when it loads, its definitions
in words (`quarterdeck.app.definitions_summary`). The report is kept per content of the files
it reads (and the environment's QUARTERDECK_ variables, where credentials may be set): a file
edited on disk shows its problem on the next look, and a look at unchanged files does not parse
them again.

Example: load_definitions(Path("/srv/acme")).definitions[0].status → "ok".
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, Field

from quarterdeck.app.definitions_summary import (
    Entry,
    Table,
    health_entries,
    identity_entries,
    lifecycle_entries,
    masked_url,
    playbook_entries,
    quality_entries,
    report_entries,
    settings_entries,
    shown_value,
    signal_entries,
    tier_entries,
)
from quarterdeck.errors import QuarterdeckError, WorkspaceError
from quarterdeck.health.definitions import DEFAULT_HEALTH_MODELS_PATH, load_health_models
from quarterdeck.identity.definitions import IDENTITY_FILE, load_identity_definitions
from quarterdeck.lifecycle.definitions import LIFECYCLE_FILE, LifecycleDefinitions, load_lifecycle
from quarterdeck.playbooks.definitions import (
    DEFAULT_PLAYBOOKS_PATH,
    PLAYBOOKS_FILE,
    PlaybookDefinitions,
    load_playbooks,
)
from quarterdeck.quality.definitions import QUALITY_FILE, load_quality_definitions
from quarterdeck.reports.definitions import REPORTS_FILE, load_report_definitions
from quarterdeck.signals.definitions import SIGNALS_FILE, SignalDefinitions, load_signals
from quarterdeck.sources.config import SOURCES_FILE, Source, SourcesConfig, load_sources
from quarterdeck.sources.credentials import (
    SECRETS_FILE,
    Credentials,
    env_name,
    load_credentials,
)
from quarterdeck.sources.sync import connector_class
from quarterdeck.sources.sync_state import STATE_FILE, SyncState
from quarterdeck.workspace.settings import WorkspaceSettings
from quarterdeck.workspace.workspace import CONFIG_FILE, HEALTH_MODELS_FILE, TierDefinitions
from quarterdeck.workspace.yaml_source import line_of, load_model, read_yaml

Status = Literal["ok", "warning", "error"]
T = TypeVar("T")


class Problem(BaseModel):
    """What is wrong and where: the file (relative to the workspace), line and field."""

    message: str
    file: str
    line: int | None = None
    field: str | None = None
    severity: Literal["warning", "error"] = "error"


class Definition(BaseModel):
    """One definition file: where it is, whether it loads, and what it defines."""

    kind: str
    title: str
    file: str
    shipped_default: bool = Field(False, description="The file is absent and the shipped "
                                  "default applies.")
    status: Status
    problems: list[Problem] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    entries: list[Entry] = Field(default_factory=list)


class DefinitionsReport(BaseModel):
    """Every definition of the workspace, read from disk at `checked_at`."""

    workspace: str | None = Field(description="The workspace folder; empty when the app was "
                                  "started without one.")
    checked_at: datetime
    status: Literal["ok", "warning", "error", "unavailable"]
    message: str | None = None
    definitions: list[Definition] = Field(default_factory=list)


NO_WORKSPACE = ("This app was started without a workspace, so it has no definitions to show. "
                "Started with quarterdeck serve in a workspace, this page shows them.")


def unavailable_report() -> DefinitionsReport:
    """What the page says when the app was created without a workspace folder."""
    return DefinitionsReport(workspace=None, checked_at=datetime.now(UTC),
                             status="unavailable", message=NO_WORKSPACE)


def shown_path(root: Path, path: str | Path) -> str:
    """A path as the workspace's user writes it: relative to the workspace when inside it."""
    if not Path(path).is_absolute():
        return str(path)
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def problem_of(root: Path, exc: WorkspaceError) -> Problem:
    return Problem(message=exc.reason, file=shown_path(root, exc.file), line=exc.line,
                   field=exc.field)


class _Reader:
    """Loads definition files one by one, each with its own status."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.definitions: list[Definition] = []

    def read(self, kind: str, title: str, path: Path, load: Callable[[], T],
             summarise: Callable[[T], list[Entry]], *, shipped: bool = False,
             notes: list[str] | None = None) -> T | None:
        """Load one file; record its status, problem or entries; the loaded value or None."""
        notes = list(notes or [])
        if shipped:
            notes.insert(0, f"{shown_path(self.root, path)} is absent: the shipped default "
                         "applies.")
        shown = dict(kind=kind, title=title, file=shown_path(self.root, path),
                     shipped_default=shipped, notes=notes)
        try:
            loaded = load()
        except WorkspaceError as exc:
            self.definitions.append(Definition(**shown, status="error",
                                               problems=[problem_of(self.root, exc)]))
            return None
        except (OSError, UnicodeDecodeError) as exc:  # a folder, unreadable, not UTF-8 text
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
            self.definitions.append(Definition(**shown, status="error", problems=[Problem(
                message=f"cannot read the file: {reason}", file=shown["file"])]))
            return None
        self.definitions.append(Definition(**shown, status="ok", entries=summarise(loaded)))
        return loaded


_KEPT: dict[Path, tuple[str, DefinitionsReport]] = {}
_KEPT_LOCK = threading.Lock()


def inputs_signature(root: Path) -> str:
    """A digest of everything the report reads: the workspace settings, every file under
    `definitions/`, the secrets file, each source's sync state and the QUARTERDECK_ variables."""
    digest = hashlib.sha256()
    folder = root / "definitions"
    paths = [root / CONFIG_FILE, root / SECRETS_FILE,
             *sorted(p for p in folder.rglob("*") if p.is_file()),
             *sorted((root / "data" / "sources").glob(f"*/{STATE_FILE}"))]
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            digest.update(f"unreadable {exc.errno}".encode())
        digest.update(b"\0")
    for name in sorted(k for k in os.environ if k.startswith("QUARTERDECK_")):
        digest.update(f"{name}={os.environ[name]}\0".encode())
    return digest.hexdigest()


def kept_definitions(root: Path, team: Definition | None = None) -> DefinitionsReport:
    """`load_definitions`, parsed again only when what it reads changed since the last look;
    `team` (the team as published, from `quarterdeck.app.definitions_team`) is shown after the
    sources."""
    root = Path(root)
    signature = inputs_signature(root)
    with _KEPT_LOCK:
        kept = _KEPT.get(root)
    if kept is None or kept[0] != signature:
        kept = (signature, load_definitions(root))
        with _KEPT_LOCK:
            _KEPT[root] = kept
    report = kept[1]
    if team is None:
        return report
    definitions = list(report.definitions)
    at = next(i for i, d in enumerate(definitions) if d.kind == "sources") + 1
    definitions.insert(at, team)
    return report.model_copy(update={"definitions": definitions,
                                     "status": _status_of(definitions)})


def _status_of(definitions: list[Definition]) -> Literal["ok", "warning", "error"]:
    statuses = {d.status for d in definitions}
    return "error" if "error" in statuses else "warning" if "warning" in statuses else "ok"


def load_definitions(root: Path) -> DefinitionsReport:
    """Every definition file of the workspace at `root`, each loaded on its own."""
    root = Path(root)
    folder = root / "definitions"
    reader = _Reader(root)

    health = folder / HEALTH_MODELS_FILE
    reader.read("health_models", "Health models", health,
                lambda: load_health_models(health if health.exists()
                                           else DEFAULT_HEALTH_MODELS_PATH),
                health_entries, shipped=not health.exists())
    lifecycle = reader.read("lifecycle", "Lifecycle stages and CS segments",
                            folder / LIFECYCLE_FILE, lambda: load_lifecycle(folder),
                            lifecycle_entries, shipped=not (folder / LIFECYCLE_FILE).exists())
    signals = reader.read("signals", "Signals", folder / SIGNALS_FILE,
                          lambda: load_signals(folder), signal_entries,
                          shipped=not (folder / SIGNALS_FILE).exists())
    _read_playbooks(reader, folder, lifecycle, signals)
    reader.read("reports", "Reports", folder / REPORTS_FILE,
                lambda: load_report_definitions(folder), report_entries,
                shipped=not (folder / REPORTS_FILE).exists())
    reader.definitions.append(sources_definition(root))
    reader.read("settings", "Workspace settings", root / CONFIG_FILE,
                lambda: load_model(root / CONFIG_FILE, WorkspaceSettings), settings_entries)
    reader.read("tiers", "Tiers", folder / "tiers.yml",
                lambda: load_model(folder / "tiers.yml", TierDefinitions), tier_entries)
    reader.read("quality", "Data-quality checks", folder / QUALITY_FILE,
                lambda: load_quality_definitions(folder), quality_entries,
                shipped=not (folder / QUALITY_FILE).exists())
    reader.read("identity", "Identity resolution", folder / IDENTITY_FILE,
                lambda: load_identity_definitions(folder), identity_entries,
                notes=[] if (folder / IDENTITY_FILE).exists() else
                [f"definitions/{IDENTITY_FILE} is absent: every setting is at its default."])

    return DefinitionsReport(workspace=str(root), checked_at=datetime.now(UTC),
                             status=_status_of(reader.definitions),
                             definitions=reader.definitions)


def _read_playbooks(reader: _Reader, folder: Path, lifecycle: LifecycleDefinitions | None,
                    signals: SignalDefinitions | None) -> None:
    """Playbooks name stages, signals and milestones: with both files loaded they are checked
    as the pipeline checks them; otherwise only against their own schema, and the page says
    so."""
    path = folder / PLAYBOOKS_FILE
    shipped = not path.exists()
    if lifecycle is not None and signals is not None:
        reader.read("playbooks", "Playbooks", path, lambda: load_playbooks(
            folder, stages=lifecycle.stage_names, signals=signals.names,
            milestones=[m.name for m in lifecycle.onboarding.milestones]),
            playbook_entries, shipped=shipped)
        return
    broken = [name for name, loaded in ((LIFECYCLE_FILE, lifecycle), (SIGNALS_FILE, signals))
              if loaded is None]
    reader.read("playbooks", "Playbooks", path, lambda: load_model(
        DEFAULT_PLAYBOOKS_PATH if shipped else path, PlaybookDefinitions), playbook_entries,
        shipped=shipped,
        notes=[f"The stages, signals and milestones it names are checked once "
               f"{' and '.join(broken)} load{'s' if len(broken) == 1 else ''}."])


# -- sources ------------------------------------------------------------------------------

def _credential_state(source: str, key: str, credentials: Credentials) -> str:
    value = credentials.get(key)
    if value is None or not value.get_secret_value():
        return "not set"
    return "set (environment)" if os.environ.get(env_name(source, key)) else \
        f"set ({SECRETS_FILE})"


def _source_entry(root: Path, name: str, source: Source, entities: dict[str, str],
                  credentials: dict[str, str]) -> Entry:
    facts = {"Kind": source.kind,
             "Expected every": source.expected_every + (
                 "; " + ", ".join(f"{e}: {d}" for e, d in source.freshness.items())
                 if source.freshness else "")}
    if source.kind != "warehouse_table":
        facts["Objects → entities"] = ", ".join(f"{o} → {e}" for o, e in entities.items())
    if source.url:
        facts["Connection"] = masked_url(source.url)
    if source.base_url:
        facts["API address"] = masked_url(source.base_url)
    for key, value in source.options.items():
        facts[f"Option {key}"] = shown_value(key, value)
    if credentials:
        facts["Credentials"] = ", ".join(f"{k}: {v}" for k, v in credentials.items())
    facts["Ids"] = f"prefixed {name}:" if source.prefix_ids else "as the source gives them"
    last = SyncState.load(root / "data" / "sources" / name).last_run
    facts["Last sync"] = "never" if last is None else \
        f"{last.status}, {(last.finished_at or last.started_at)[:16].replace('T', ' ')} UTC"
    table = None
    if source.tables:
        table = Table(columns=["Table", "Entity", "Columns", "Read"], rows=[
            [m.table, m.entity, ", ".join(f"{c} ← {t}" for c, t in m.columns.items())
             or "same names", f"rows past the last {m.cursor}" if m.cursor else "all rows"]
            for m in source.tables])
    return Entry(name=name, facts=facts, table=table)


def sources_definition(root: Path) -> Definition:
    """`definitions/sources.yml`: each source with its kind, the entities it feeds, how fresh
    it should be, whether its credentials are set (never their values) and its last sync."""
    folder = root / "definitions"
    path = folder / SOURCES_FILE
    shown = dict(kind="sources", title="Sources", file=shown_path(root, path))
    try:
        config = load_sources(folder)
    except WorkspaceError as exc:
        return Definition(**shown, status="error", problems=[problem_of(root, exc)])
    node = read_yaml(path)[1] if config.sources else None
    problems: list[Problem] = []
    entries = []
    for name, source in config.sources.items():
        cls = connector_class(source.kind)
        where = dict(file=shown_path(root, path), line=line_of(node, ("sources", name)),
                     field=f"sources.{name}")
        try:
            credentials = load_credentials(root, name, cls.secrets)
        except QuarterdeckError as exc:
            problems.append(Problem(message=str(exc), file=SECRETS_FILE, field=name))
            credentials = None
        states = {k: _credential_state(name, k, credentials) for k in cls.secrets} \
            if credentials is not None else {k: "unreadable" for k in cls.secrets}
        try:
            entities = cls(name, source, credentials or Credentials(name, {})).entities()
        except QuarterdeckError as exc:
            problems.append(Problem(message=str(exc), **where))
            entities = {}
        if credentials is not None and cls.secrets and all(
                s == "not set" for s in states.values()):
            keys = " or ".join(env_name(name, k) for k in cls.secrets)
            problems.append(Problem(
                message=f"no credentials for source {name!r}: set {keys}, or add them under "
                        f"{name}: in {SECRETS_FILE}", file=SECRETS_FILE, field=name,
                severity="warning"))
        entries.append(_source_entry(root, name, source, entities, states))
    entries.append(_files_entry(config))
    status: Status = "ok"
    if problems:
        status = "error" if any(p.severity == "error" for p in problems) else "warning"
    notes = [] if path.exists() else [f"definitions/{SOURCES_FILE} is absent: no source is "
                                      "synced; files and the tracking API still load."]
    return Definition(**shown, status=status, problems=problems, notes=notes, entries=entries)


def _files_entry(config: SourcesConfig) -> Entry:
    files = config.files
    return Entry(name="files", description="Files loaded with quarterdeck load, and the "
                 "tracking API.", facts={"Expected every": files.expected_every + (
                     "; " + ", ".join(f"{e}: {d}" for e, d in files.freshness.items())
                     if files.freshness else "")})
