"""reports.yml: defaults when absent, schedules, and bad definitions refused with file, line
and field."""

from __future__ import annotations

from datetime import date

import pytest

from quarterdeck.errors import WorkspaceError
from quarterdeck.reports.definitions import Schedule, load_report_definitions


def test_without_a_file_the_shipped_targets_apply(tmp_path) -> None:
    defs = load_report_definitions(tmp_path)
    assert (float(defs.targets.nrr), float(defs.targets.grr)) == (1.05, 0.9)
    assert defs.reports == [] and "usage_drop" in defs.actions


def test_schedules_fall_on_their_day() -> None:
    wednesday = date(2026, 9, 30)
    assert Schedule(every="week", day="wednesday").is_due(wednesday)
    assert not Schedule(every="week", day="monday").is_due(wednesday)
    assert Schedule(every="day").is_due(wednesday)
    assert not Schedule(every="month", day_of_month=1).is_due(wednesday)
    with pytest.raises(ValueError, match="day must be one of"):
        Schedule(day="someday")


@pytest.mark.parametrize(("text", "line", "field", "reason"), [
    ("reports:\n  - name: weekly\n    channels: [email]\n", 3, "reports.0.channels",
     "names channel 'email', which is not defined"),
    ("targets:\n  nrr: 1.05\n  grr: 1.5\n", 3, "targets.grr", "less than or equal to 1"),
    ("reprots: []\n", 1, "reprots", "unknown setting"),
    ("channels:\n  chat: {kind: webhook}\n", 2, "channels.chat",
     "give exactly one of url or url_env"),
])
def test_a_bad_definition_names_file_line_and_field(tmp_path, text, line, field,
                                                    reason) -> None:
    (tmp_path / "reports.yml").write_text(text)
    with pytest.raises(WorkspaceError) as caught:
        load_report_definitions(tmp_path)
    problem = caught.value
    assert str(problem.file).endswith("reports.yml") and reason in str(problem)
    assert problem.line == line and (problem.field or "").startswith(field)
