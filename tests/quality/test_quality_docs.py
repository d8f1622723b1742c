"""docs/quality.md documents every check, rule kind and setting, and shows the shipped file."""

from __future__ import annotations

from pathlib import Path

from quarterdeck.quality.definitions import (
    DEFAULT_QUALITY_PATH,
    RULE_KINDS,
    QualityDefinitions,
    Rule,
)
from quarterdeck.quality.report import CHECKS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "quality.md").read_text()


def test_the_shipped_file_is_shown_as_it_is():
    assert f"```yaml\n{DEFAULT_QUALITY_PATH.read_text()}```" in DOC


def test_every_check_and_rule_kind_has_a_definition():
    for check in CHECKS:
        assert f"### {check.capitalize()}" in DOC.replace("Accuracy rules", "Accuracy"), check
    for kind in RULE_KINDS:
        assert f"| `{kind}` |" in DOC, kind


def test_every_setting_is_documented():
    sections = [f"{name}.{field}" for name, info in QualityDefinitions.model_fields.items()
                if name != "rules" for field in info.annotation.model_fields]
    rule_settings = [f"rules[].{name}" for name in Rule.model_fields]
    missing = [s for s in sections + rule_settings if f"`{s}`" not in DOC]
    assert not missing, f"settings missing from docs/quality.md: {missing}"
