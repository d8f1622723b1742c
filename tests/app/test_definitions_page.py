"""The definitions page: every workspace file as loaded, its status, and where a problem is.

The app is built the way `quarterdeck serve` builds it (`serving.build_app`) over a workspace
written by `quarterdeck init`, so the defaults it shows are the ones every new workspace gets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.app.definitions_summary import masked_url
from quarterdeck.app.definitions_team import latest_team_rejects
from quarterdeck.appdb import add_user, publish_snapshot, session
from quarterdeck.appdb.operations_models import TeamMember
from quarterdeck.serving import build_app
from quarterdeck.testing.web_client import post_login
from quarterdeck.workspace.workspace import Workspace
from tests.app.conftest import AS_OF, accounts_table, history_table

PASSWORD = "a long enough test password"
ROLES = {"admin": "ada@example.com", "ops": "olga@example.com", "manager": "mo@example.com",
         "csm": "cy@example.com", "viewer": "vi@example.com"}


@pytest.fixture
def app(workspace: Workspace) -> Iterator[FastAPI]:
    app = build_app(workspace)
    for role, email in ROLES.items():
        add_user(app.state.engine, email, role.title(), role, PASSWORD)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def sign_in(app: FastAPI) -> Callable[[str], TestClient]:
    def sign_in(role: str) -> TestClient:
        client = TestClient(app)
        assert post_login(client, ROLES[role], PASSWORD).status_code == 303
        return client
    return sign_in


def _by_kind(report: dict) -> dict[str, dict]:
    return {d["kind"]: d for d in report["definitions"]}


def _entry(definition: dict, name: str) -> dict:
    return next(e for e in definition["entries"] if e["name"] == name)


def test_the_defaults_of_a_new_workspace_load_ok_with_their_summaries(
    sign_in: Callable[[str], TestClient], workspace: Workspace,
) -> None:
    ops = sign_in("ops")
    report = ops.get("/api/definitions").json()
    kinds = _by_kind(report)
    assert report["status"] == "ok" and report["workspace"] == str(workspace.root)
    assert list(kinds) == ["health_models", "lifecycle", "signals", "playbooks", "reports",
                           "sources", "team", "settings", "tiers", "quality", "identity"]
    assert {d["status"] for d in kinds.values()} == {"ok"}
    assert kinds["signals"]["file"] == "definitions/signals.yml"

    # The default model weighs 11 components, 115 in all: 15 of them is 13.0% of the score.
    default = _entry(kinds["health_models"], "default")
    assert default["facts"]["Bands"] == "red below 40, yellow below 70, green from there"
    rows = {r[0]: r for r in default["table"]["rows"]}
    assert rows["events_per_seat_30d"][1:3] == ["15 (13.0%)", "0 points at 1, 100 at 8"]
    assert rows["days_since_last_event"][2] == "below 8: 100 · below 15: 50 · higher: 0"

    stages = _entry(kinds["lifecycle"], "Lifecycle stages")["table"]["rows"]
    assert [r[1] for r in stages] == ["churned", "prospect", "trial", "at_risk", "onboarding",
                                      "renewal", "adoption", "mature"]
    assert stages[3][2] == ("status = active and (health_band = red or "
                            "churn_probability_window ≥ 0.3)")
    assert stages[-1][2] == "every other account"
    segments = _entry(kinds["lifecycle"], "CS segments")["table"]["rows"]
    assert segments[0][1:3] == ["high_touch", "status = active and mrr ≥ 5000"]

    renewal_at_risk = _entry(kinds["signals"], "renewal_at_risk")["facts"]
    assert renewal_at_risk["Kind"] == "threshold" and renewal_at_risk["Severity"] == "critical"
    assert renewal_at_risk["Alert goes to"] == "the CSM's manager (team file)"
    assert renewal_at_risk["Cool-down"] == "90 days"
    assert renewal_at_risk["One alert per"] == "account_id, renewal_date"

    renewal = _entry(kinds["playbooks"], "renewal")
    assert renewal["facts"]["Starts when"].endswith(", once per renewal_date")
    assert renewal["table"]["rows"][0][1] == "120 days before the renewal date"

    targets = _entry(kinds["reports"], "Targets and actions")["facts"]
    assert (targets["NRR target"], targets["GRR target"]) == ("105%", "90%")
    assert "No team is published yet" in kinds["team"]["notes"][0]

    html = ops.get("/settings/definitions").text
    assert "status = active and days_since_start ≤ 365" in html
    assert "30 days after the contract start" in html
    assert 'href="/settings/definitions"' in html


def test_a_broken_signal_shows_its_file_line_and_field_while_the_others_stay_ok(
    sign_in: Callable[[str], TestClient], workspace: Workspace,
) -> None:
    signals = workspace.definitions_dir / "signals.yml"
    lines = signals.read_text().splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines) if text.strip() == "kind: change") + 1
    lines[line - 1] = lines[line - 1].replace("kind: change", "kind: plunge")
    signals.write_text("".join(lines))
    ops = sign_in("ops")

    report = ops.get("/api/definitions").json()
    kinds = _by_kind(report)
    assert report["status"] == "error" and kinds["signals"]["status"] == "error"
    assert kinds["signals"]["problems"] == [{
        "message": "unknown kind 'plunge'; kinds: threshold, change, event, expansion",
        "file": "definitions/signals.yml", "line": line, "field": "signals.0.kind",
        "severity": "error"}]
    assert kinds["signals"]["entries"] == []
    assert {k for k, d in kinds.items() if d["status"] != "ok"} == {"signals"}
    # Playbooks name signals: without signals.yml they are checked against their schema only.
    assert "checked once signals.yml loads" in kinds["playbooks"]["notes"][0]
    html = ops.get("/settings/definitions").text
    assert f"definitions/signals.yml:{line}</code> · field <code>signals.0.kind</code>" in html

    # Mended on disk, the next look shows it loaded: no restart.
    signals.write_text(signals.read_text().replace("kind: plunge", "kind: change"))
    assert _by_kind(ops.get("/api/definitions").json())["signals"]["status"] == "ok"


def test_a_playbook_naming_an_unknown_stage_points_at_its_trigger(
    sign_in: Callable[[str], TestClient], workspace: Workspace,
) -> None:
    playbooks = workspace.definitions_dir / "playbooks.yml"
    text = playbooks.read_text()
    playbooks.write_text(text.replace("trigger: {stage: onboarding}", "trigger: {stage: nope}"))
    line = next(i for i, t in enumerate(playbooks.read_text().splitlines(), 1)
                if "stage: nope" in t)
    problem = _by_kind(sign_in("ops").get("/api/definitions").json())["playbooks"]["problems"][0]
    assert (problem["line"], problem["field"]) == (line, "playbooks.0.trigger.stage")
    assert problem["message"].startswith("unknown stage 'nope'")


def test_a_file_that_is_not_text_is_an_error_of_its_own(
    sign_in: Callable[[str], TestClient], workspace: Workspace,
) -> None:
    (workspace.definitions_dir / "reports.yml").write_bytes(b"targets:\n  nrr: \xff\xfe\n")
    kinds = _by_kind(sign_in("ops").get("/api/definitions").json())
    assert kinds["reports"]["status"] == "error"
    assert kinds["reports"]["problems"][0]["message"].startswith("cannot read the file")
    assert kinds["reports"]["problems"][0]["file"] == "definitions/reports.yml"
    assert kinds["signals"]["status"] == "ok"


def test_csms_and_viewers_are_refused_and_see_no_settings_link(
    sign_in: Callable[[str], TestClient],
) -> None:
    for role in ("csm", "viewer"):
        client = sign_in(role)
        assert client.get("/settings/definitions").status_code == 403
        assert client.get("/api/definitions").status_code == 403
        assert 'href="/settings/definitions"' not in client.get("/accounts").text
    for role in ("manager", "admin"):
        client = sign_in(role)
        assert client.get("/settings/definitions").status_code == 200
        assert 'href="/settings/definitions"' in client.get("/accounts").text


def test_no_secret_reaches_the_page_or_the_api(
    sign_in: Callable[[str], TestClient], workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = {"in_url": "Hunter2Pass", "in_query": "QueryTok9", "option": "sk_live_OPTION77",
               "env": "sk_live_ENV55", "file": "pat-FILE-31", "webhook": "T00/B00/XYZsecret"}
    (workspace.definitions_dir / "sources.yml").write_text(f"""\
sources:
  billing:
    kind: stripe
    options: {{api_key: {secrets['option']}}}
  crm:
    kind: hubspot
  sfdc:
    kind: salesforce
  data-team:
    kind: warehouse_table
    url: postgresql://analytics:{secrets['in_url']}@db:5432/prod?sslmode=require&token={secrets['in_query']}
    tables:
      - entity: accounts
        table: crm.companies
        columns: {{account_id: company_id, name: company_name}}
""")
    secrets_file = workspace.root / "secrets.yml"
    secrets_file.write_text(f"crm:\n  access_token: {secrets['file']}\n")
    secrets_file.chmod(0o600)
    monkeypatch.setenv("QUARTERDECK_BILLING_API_KEY", secrets["env"])
    for key in ("ACCESS_TOKEN", "INSTANCE_URL", "USERNAME", "PASSWORD", "SECURITY_TOKEN"):
        monkeypatch.delenv(f"QUARTERDECK_SFDC_{key}", raising=False)
    reports = workspace.definitions_dir / "reports.yml"
    reports.write_text(reports.read_text().replace(
        "channels: {}", f"channels:\n  chat:\n    kind: webhook\n"
                        f"    url: https://hooks.example.com/{secrets['webhook']}"))
    admin = sign_in("admin")

    html = admin.get("/settings/definitions").text
    body = admin.get("/api/definitions").text
    for name, value in secrets.items():
        assert value not in html and value not in body, name
    sources = _by_kind(admin.get("/api/definitions").json())["sources"]
    facts = {e["name"]: e["facts"] for e in sources["entries"]}
    assert facts["billing"]["Credentials"] == "api_key: set (environment)"
    assert facts["billing"]["Option api_key"] == "set (hidden)"
    assert facts["billing"]["Objects → entities"] == (
        "customers → accounts, subscriptions → subscriptions, invoices → invoices")
    assert facts["crm"]["Credentials"] == "access_token: set (secrets.yml)"
    assert facts["data-team"]["Connection"] == (
        "postgresql://analytics:***@db:5432/prod?sslmode=require&token=***")
    # A source with none of its credentials set loads, with a warning saying what to set.
    assert sources["status"] == "warning"
    (warning,) = sources["problems"]
    assert (warning["file"], warning["field"], warning["severity"]) == (
        "secrets.yml", "sfdc", "warning")
    assert "QUARTERDECK_SFDC_ACCESS_TOKEN" in warning["message"]
    assert _entry(_by_kind(admin.get("/api/definitions").json())["reports"],
                  "Channel chat")["facts"]["Address"] == "set (hidden) in the file"


def test_a_connection_url_keeps_its_shape_without_its_password() -> None:
    assert masked_url("sqlite:///data/app.db") == "sqlite:///data/app.db"
    assert masked_url("postgresql+psycopg://qd@appdb/qd") == "postgresql+psycopg://qd@appdb/qd"
    # An unescaped ? or @ in a password must not leave part of it in view.
    assert masked_url("postgresql://u:pa?ss@host/db") == "postgresql://u:***@host/db"
    assert masked_url("postgresql://u:p@ss@host/db") == "postgresql://u:***@host/db"
    assert masked_url("https://tok123@proxy.example/x") == "https://***@proxy.example/x"


def test_the_team_shows_refused_rows_of_its_latest_load_and_people_it_cannot_place(
    app: FastAPI, sign_in: Callable[[str], TestClient], workspace: Workspace,
) -> None:
    engine = app.state.engine
    publish_snapshot(engine, as_of=AS_OF, accounts=accounts_table(), arr_history=history_table(),
                     run_started_at=datetime(2024, 7, 1, 2, 0, tzinfo=UTC))
    with session(engine) as db:
        db.add(TeamMember(email="ana@example.com", name="Ana Ruiz", role="csm",
                          manager_email="lead@example.com", capacity_accounts=40))
        db.add(TeamMember(email="olga@example.com", name="Olga", role="ops"))
    data = workspace.data_dir
    team_file = workspace.root / "inputs" / "team.csv"
    (data / "landing" / "team").mkdir(parents=True)
    (data / "landing" / "team" / "20240630T090000123456Z-0123456789abcdef.parquet").touch()
    (data / "rejects").mkdir(parents=True, exist_ok=True)
    rejects = data / "rejects" / "team-20240701T080000-team.rejects.csv"
    rejects.write_text("file,line,row,field,value,reason\n"
                       f"{team_file},3,2,role,boss,\"not one of csm, manager, ops, admin, "
                       "viewer\"\n")

    team = _by_kind(sign_in("ops").get("/api/definitions").json())["team"]
    assert team["status"] == "error"
    refused, manager, owner = team["problems"]
    assert refused == {"message": "not one of csm, manager, ops, admin, viewer (value 'boss')",
                       "file": "inputs/team.csv", "line": 3, "field": "role",
                       "severity": "error"}
    assert manager["field"] == "manager_email" and "lead@example.com" in manager["message"]
    # Ben owns Globex and Initech in the published accounts but is not in the team.
    assert owner["message"].startswith("2 accounts are owned by ben@example.com")
    rows = {r[1]: r for r in team["entries"][0]["table"]["rows"]}
    # Ana owns Acme and Acme Europe; Umbrella, churned, no longer counts.
    assert rows["ana@example.com"][2:] == ["csm", "lead@example.com", "40", "—", "2"]
    assert team["entries"][0]["facts"]["People"] == "2: 1 ops, 1 csm"

    # A later load that landed without refusals makes the old refusals history.
    (data / "landing" / "team" / "20240701T080001000000Z-fedcba9876543210.parquet").touch()
    assert latest_team_rejects(data) == ([], 0)


def test_an_app_without_a_workspace_says_so(tmp_path: Path) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'app.db'}", secret_key="no workspace")
    add_user(app.state.engine, ROLES["ops"], "Olga", "ops", PASSWORD)
    client = TestClient(app)
    assert post_login(client, ROLES["ops"], PASSWORD).status_code == 303
    page = client.get("/settings/definitions")
    assert page.status_code == 200 and "started without a workspace" in page.text
    report = client.get("/api/definitions").json()
    assert (report["status"], report["workspace"], report["definitions"]) == (
        "unavailable", None, [])
    app.state.engine.dispose()


def test_unchanged_files_are_not_parsed_again_and_an_edit_of_the_same_size_is_seen(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from quarterdeck.app import definitions_view

    parsed = []
    real = definitions_view.load_definitions
    monkeypatch.setattr(definitions_view, "load_definitions",
                        lambda root: parsed.append(root) or real(root))
    root = workspace.root
    first = definitions_view.kept_definitions(root)
    assert definitions_view.kept_definitions(root) == first and len(parsed) == 1

    signals = workspace.definitions_dir / "signals.yml"
    text = signals.read_text()
    signals.write_text(text.replace("kind: change", "kind: plunge", 1))  # same size, same tick
    broken = {d.kind: d.status for d in definitions_view.kept_definitions(root).definitions}
    assert broken["signals"] == "error" and len(parsed) == 2

    monkeypatch.setenv("QUARTERDECK_SOME_SOURCE_API_KEY", "set")  # credentials may live here
    definitions_view.kept_definitions(root)
    assert len(parsed) == 3
