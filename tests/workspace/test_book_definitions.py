"""Bad lifecycle, signal and playbook definitions are refused by `quarterdeck validate` with
the file, the line and the field."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.errors import WorkspaceError
from quarterdeck.rules.conditions import Condition
from quarterdeck.workspace.init import init_workspace
from quarterdeck.workspace.workspace import open_workspace


@pytest.fixture
def root(tmp_path):
    init_workspace(tmp_path / "ws")
    return tmp_path / "ws"


def _replace(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _line_of(path, needle):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_init_writes_the_shipped_book_and_it_validates(root):
    ws = open_workspace(root)
    assert ws.book.lifecycle.stage_names[-1] == "mature"
    assert "usage_drop" in ws.book.signals.names
    assert [p.name for p in ws.book.playbooks.playbooks] == [
        "onboarding", "renewal", "risk_recovery"]


@pytest.mark.parametrize(("file", "old", "new", "needle", "field", "reason"), [
    ("signals.yml", "active_users_trend_30d: {at_most: -0.4}",
     "active_users_trend_99d: {at_most: -0.4}", "active_users_trend_99d",
     "signals.0.when", "unknown fact 'active_users_trend_99d'"),
    ("signals.yml", "    cooldown: 30d", "    cooldown: soon", "cooldown: soon",
     "signals.0.cooldown", "'soon' is not a duration"),
    ("signals.yml", "severity: high", "severity: dire", "severity: dire",
     "signals.0.severity", "unknown severity 'dire'"),
    ("playbooks.yml", "depends_on: [kickoff]", "depends_on: [graduation]", "- key: kickoff",
     "playbooks.0.tasks", "cycle: technical_setup → graduation"),
    ("playbooks.yml", "trigger: {stage: onboarding}", "trigger: {stage: onbaording}",
     "trigger: {stage: onbaording}", "playbooks.0.trigger.stage", "unknown stage 'onbaording'"),
    ("playbooks.yml", "    anchor: contract_start", "    anchor: someday", "anchor: someday",
     "playbooks.0.anchor", "unknown anchor 'someday'"),
    ("playbooks.yml", "    business_days: roll", "    business_days: rollover",
     "business_days: rollover", "playbooks.0.business_days",
     "'rollover' is not a business-day rule"),
    ("signals.yml", "unowned: role:manager", "unowned: nobody", "unowned: nobody",
     "unowned", "unknown owner 'nobody'"),
    ("lifecycle.yml", "  - name: mature\n", "  - name: mature\n    when: {status: active}\n",
     "- name: mature", "stages", "the last of the stages must have no condition"),
    ("lifecycle.yml", "health_band: red}", "health_band: {above: 3}}", "health_band: {above",
     "stages.3.when_any.0.health_band.above", "unknown setting"),
])
def test_a_bad_definition_names_file_line_and_field(root, file, old, new, needle, field,
                                                     reason):
    path = root / "definitions" / file
    _replace(path, old, new)
    with pytest.raises(WorkspaceError) as err:
        open_workspace(root)
    assert err.value.file == str(path)
    assert err.value.field == field
    assert reason in err.value.reason
    if field not in ("playbooks.0.tasks", "stages"):
        assert err.value.line == _line_of(path, needle)


def test_validate_refuses_a_cyclic_playbook_with_a_readable_message(root):
    path = root / "definitions" / "playbooks.yml"
    _replace(path, "depends_on: [kickoff]", "depends_on: [graduation]")
    result = CliRunner().invoke(app, ["validate", "--workspace", str(root)])
    assert result.exit_code == 1
    assert "playbooks.yml" in result.output and "cycle" in result.output


@pytest.mark.parametrize(("when", "words"), [
    ({"when": {"status": "active", "days_to_renewal": {"at_most": 90}}},
     "status = active and days_to_renewal ≤ 90"),
    ({"when_any": [{"health_band": "red"}, {"churn_probability": {"at_least": 0.5}}]},
     "(health_band = red or churn_probability ≥ 0.5)"),
    ({"when": {"segment": {"in": ["SMB", "Mid-Market"]}, "last_qbr_on": {"is_null": True}}},
     "segment in [SMB, Mid-Market] and last_qbr_on is missing"),
    ({}, "always"),
])
def test_a_condition_reads_as_words(when, words):
    assert Condition.model_validate(when).text() == words


def test_a_missing_value_fails_every_test_but_is_null():
    import ibis

    t = ibis.memtable({"health_score": [None, 30.0]}, schema={"health_score": "float64"})
    low = Condition.model_validate({"when": {"health_score": {"at_most": 40}}})
    high = Condition.model_validate({"when": {"health_score": {"ne": 30}}})
    missing = Condition.model_validate({"when": {"health_score": {"is_null": True}}})
    got = t.select(low=low.predicate(t), high=high.predicate(t),
                   missing=missing.predicate(t)).to_pyarrow().to_pylist()
    assert got == [{"low": False, "high": False, "missing": True},
                   {"low": True, "high": False, "missing": False}]


def test_init_writes_reports_yml_and_validate_checks_it(root):
    path = root / "definitions" / "reports.yml"
    assert str(open_workspace(root).reports.targets.nrr) == "1.05"
    _replace(path, "  nrr: 1.05", "  nrr: lots")
    with pytest.raises(WorkspaceError) as err:
        open_workspace(root)
    assert (err.value.field, err.value.line) == ("targets.nrr", _line_of(path, "nrr: lots"))
