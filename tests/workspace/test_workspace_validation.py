"""Workspace files are validated, and a problem names the file, the line and the field."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.errors import WorkspaceError
from quarterdeck.workspace.init import init_workspace
from quarterdeck.workspace.workspace import open_workspace


@pytest.fixture
def root(tmp_path):
    init_workspace(tmp_path / "ws")
    return tmp_path / "ws"


def _replace(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _line_of(path, needle):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_init_writes_a_workspace_that_validates_with_the_defaults(root):
    ws = open_workspace(root)
    assert ws.settings.base_currency == "USD"
    assert ws.warehouse_url == f"duckdb://{root / 'data' / 'warehouse.duckdb'}"
    assert ws.app_database_url == f"sqlite:///{root / 'data' / 'app.db'}"
    assert [t.name for t in ws.tiers.tiers] == ["Tier 1", "Tier 2", "Tier 3"]


def test_init_never_overwrites_a_workspace(root):
    with pytest.raises(WorkspaceError, match="already exists"):
        init_workspace(root)


@pytest.mark.parametrize(("old", "new", "field", "words"), [
    ("base_currency: USD", "base_currency: EURO", "base_currency", "ISO 4217"),
    ("fiscal_year_start_month: 1", "fiscal_year_start_month: 13", "fiscal_year_start_month",
     "less than or equal to 12"),
    ("timezone: UTC", "timezone: Mars/Olympus", "timezone", "IANA time zone"),
    ("  port: 8000", "  port: eighty", "server.port", "integer"),
    ("  memory_limit: 3GB", "  memory_limt: 3GB", "warehouse.memory_limt", "unknown setting"),
])
def test_a_bad_setting_names_file_line_and_field(root, old, new, field, words):
    config = root / "quarterdeck.yml"
    line = _line_of(config, old)
    _replace(config, old, new)
    with pytest.raises(WorkspaceError) as err:
        open_workspace(root)
    assert (err.value.file, err.value.line, err.value.field) == (str(config), line, field)
    assert words in err.value.reason


def test_broken_yaml_names_the_line(root):
    config = root / "quarterdeck.yml"
    _replace(config, "base_currency: USD", "base_currency: [USD")
    with pytest.raises(WorkspaceError, match="not valid YAML") as err:
        open_workspace(root)
    assert err.value.line is not None and err.value.line >= _line_of(config, "[USD")


def test_tiers_must_run_from_the_highest_floor(root):
    tiers = root / "definitions" / "tiers.yml"
    _replace(tiers, "min_arr: 100000", "min_arr: 1000")
    with pytest.raises(WorkspaceError, match="highest min_arr") as err:
        open_workspace(root)
    assert err.value.file == str(tiers)


def test_a_tier_with_a_negative_floor_names_its_line(root):
    tiers = root / "definitions" / "tiers.yml"
    line = _line_of(tiers, "min_arr: 0")
    _replace(tiers, "min_arr: 0", "min_arr: -5")
    with pytest.raises(WorkspaceError) as err:
        open_workspace(root)
    assert (err.value.line, err.value.field) == (line, "tiers.2.min_arr")


def test_currency_codes_are_read_in_any_case(root):
    _replace(root / "quarterdeck.yml", "base_currency: USD", "base_currency: eur")
    assert open_workspace(root).settings.base_currency == "EUR"


def test_environment_overrides_the_database_urls(root, monkeypatch):
    monkeypatch.setenv("QUARTERDECK_APP_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert open_workspace(root).app_database_url == "postgresql+psycopg://u@h/db"


def test_validate_command_reports_the_problem_and_exits_1(root):
    _replace(root / "quarterdeck.yml", "base_currency: USD", "base_currency: dollars")
    result = CliRunner().invoke(app, ["validate", "--workspace", str(root)])
    assert result.exit_code == 1
    assert "quarterdeck.yml:" in result.output and "base_currency" in result.output
