"""`definitions/quality.yml`: defaults, what init writes, and errors naming file, line, field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from quarterdeck.errors import WorkspaceError
from quarterdeck.quality.definitions import (
    DEFAULT_QUALITY_PATH,
    QualityDefinitions,
    default_quality_definitions,
    load_quality_definitions,
)
from quarterdeck.workspace.init import init_workspace
from quarterdeck.workspace.workspace import open_workspace


def _load(tmp_path: Path, text: str) -> QualityDefinitions:
    (tmp_path / "quality.yml").write_text(textwrap.dedent(text).lstrip("\n"))
    return load_quality_definitions(tmp_path)


def _error(tmp_path: Path, text: str) -> WorkspaceError:
    with pytest.raises(WorkspaceError) as caught:
        _load(tmp_path, text)
    return caught.value


def test_without_a_file_the_shipped_defaults_apply(tmp_path: Path):
    defaults = load_quality_definitions(tmp_path)
    assert defaults == default_quality_definitions()
    assert [r.label for r in defaults.rules] == [
        "account_has_owner", "one_account_per_domain", "invoice_paid_after_issue",
        "billing_interval_at_most_5_years", "activity_owner_on_team"]


def test_the_shipped_file_states_the_models_defaults():
    shipped = yaml.safe_load(DEFAULT_QUALITY_PATH.read_text())
    model = QualityDefinitions()
    for section in ("completeness", "freshness", "orphans", "duplicates"):
        assert shipped[section] == getattr(model, section).model_dump(), section


def test_init_writes_the_defaults_and_the_workspace_reads_them(tmp_path: Path):
    init_workspace(tmp_path / "ws")
    written = tmp_path / "ws" / "definitions" / "quality.yml"
    assert written.read_text() == DEFAULT_QUALITY_PATH.read_text()
    assert open_workspace(tmp_path / "ws").quality == default_quality_definitions()


def test_a_workspace_with_a_bad_file_does_not_open(tmp_path: Path):
    init_workspace(tmp_path / "ws")
    (tmp_path / "ws" / "definitions" / "quality.yml").write_text("freshness:\n  sevrity: high\n")
    with pytest.raises(WorkspaceError) as caught:
        open_workspace(tmp_path / "ws")
    assert caught.value.file.endswith("quality.yml")
    assert (caught.value.line, caught.value.field) == (2, "freshness.sevrity")


def test_an_empty_file_means_every_default_but_no_rules(tmp_path: Path):
    loaded = _load(tmp_path, "")
    assert loaded.rules == []
    assert loaded.freshness.entities == QualityDefinitions().freshness.entities


def test_an_unknown_kind_names_the_line_and_field(tmp_path: Path):
    err = _error(tmp_path, """
        rules:
          - kind: not_null
            entity: accounts
            field: domain
          - kind: plausible
            entity: accounts
            field: name
        """)
    assert (err.line, err.field) == (5, "rules.1.kind")
    assert "not_null" in err.reason and str(tmp_path / "quality.yml") == err.file


def test_an_unknown_column_is_refused_with_the_known_ones(tmp_path: Path):
    err = _error(tmp_path, """
        rules:
          - kind: not_null
            entity: accounts
            field: domian
        """)
    assert (err.line, err.field) == (2, "rules.0")
    assert "'domian' is not a column of accounts (account_id, name, domain" in err.reason


def test_a_bad_severity_names_its_own_line(tmp_path: Path):
    err = _error(tmp_path, """
        rules:
          - kind: not_null
            entity: accounts
            field: domain
            severity: fatal
        """)
    assert (err.line, err.field) == (5, "rules.0.severity")


@pytest.mark.parametrize(("rule", "reason"), [
    ("{kind: range, entity: subscriptions, field: quantity}", "needs `min`, `max` or both"),
    ("{kind: range, entity: subscriptions, field: quantity, min: 5, max: 1}",
     "`min` must not be above `max`"),
    ("{kind: range, entity: accounts, field: name, min: 1}", "needs a number column"),
    ("{kind: range, entity: subscriptions, field: quantity, min: 1, values: [a]}",
     "`values` is not a setting of range rules"),
    ("{kind: one_of, entity: accounts, field: segment}", "needs `values`"),
    ("{kind: date_order, entity: invoices, field: paid_at}", "needs `fields: [earlier, later]`"),
    ("{kind: date_order, entity: invoices, fields: [issued_at]}", "needs exactly 2 `fields`"),
    ("{kind: date_order, entity: invoices, fields: [issued_at, amount]}",
     "compares date or timestamp columns"),
    ("{kind: references, entity: activities, field: owner_email}", "needs `target"),
    ("{kind: references, entity: activities, field: owner_email, target: team}",
     "is not entity.column"),
    ("{kind: references, entity: activities, field: owner_email, target: staff.email}",
     "'staff' is not an entity"),
    ("{kind: email, entity: contacts, fields: [email]}", "checks one `field`, not `fields`"),
    ("{kind: email, entity: contacts}", "give either `field` or `fields`"),
    ("{kind: email, entity: customers, field: email}", "'customers' is not an entity"),
    ("{kind: email, entity: contacts, field: email, threshold: 2}", "less than or equal to 1"),
])
def test_a_rule_missing_what_its_kind_needs_is_refused(tmp_path: Path, rule: str, reason: str):
    err = _error(tmp_path, f"rules:\n  - {rule}\n")
    assert reason in err.reason, err.reason
    assert err.line == 2


def test_two_rules_with_one_name_are_refused(tmp_path: Path):
    err = _error(tmp_path, """
        rules:
          - {kind: not_null, entity: accounts, field: domain}
          - {kind: not_null, entity: accounts, field: domain, severity: warning}
        """)
    assert err.field == "rules" and "not_null_domain" in err.reason


def test_sections_check_entities_and_columns(tmp_path: Path):
    err = _error(tmp_path, "completeness:\n  recommended:\n    accounts: [domain, phone]\n")
    assert (err.line, err.field) == (2, "completeness.recommended")
    assert "'phone' is not a column of accounts" in err.reason
    err = _error(tmp_path, "freshness:\n  entities: [tickets, opportunities]\n")
    assert (err.line, err.field) == (2, "freshness.entities")
    assert "opportunities rows carry no date" in err.reason
