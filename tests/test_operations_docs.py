"""docs/operations.md documents every fact, every definition setting and every shipped stage,
and its YAML examples are valid definitions."""

from __future__ import annotations

from pathlib import Path

import yaml

from quarterdeck.lifecycle.book import default_book
from quarterdeck.lifecycle.definitions import LifecycleDefinitions, Milestone, Onboarding
from quarterdeck.playbooks.definitions import (
    DoneWhen,
    Playbook,
    PlaybookDefinitions,
    TaskTemplate,
    Trigger,
)
from quarterdeck.rules.account_facts import BASE_FACTS
from quarterdeck.rules.conditions import Comparison, Condition
from quarterdeck.signals.definitions import Signal, SignalDefinitions

DOC = (Path(__file__).parents[1] / "docs" / "operations.md").read_text()


def test_every_fact_is_documented() -> None:
    for name in BASE_FACTS:
        assert f"| `{name}` |" in DOC, f"fact {name} is not in docs/operations.md"


def test_every_definition_setting_is_documented() -> None:
    for model in (Signal, Playbook, TaskTemplate, Trigger, DoneWhen, Milestone, Onboarding,
                  Condition, PlaybookDefinitions):
        for name in model.model_fields:
            assert f"`{name}`" in DOC or f"`tasks[].{name}`" in DOC, (
                f"{model.__name__}.{name} is not in docs/operations.md")
    for name, field in Comparison.model_fields.items():
        assert f"`{field.alias or name}`" in DOC, f"comparison {name} is not documented"


def test_the_shipped_stages_are_shown_with_their_rules() -> None:
    for stage in default_book().lifecycle.stages:
        assert f"| {stage.name} | {stage.text()} |" in DOC, stage.name


def test_yaml_examples_are_valid_definitions() -> None:
    blocks = [b.split("```", 1)[0] for b in DOC.split("```yaml\n")[1:]]
    checked = 0
    for block in blocks:
        data = yaml.safe_load(block)
        if "signals" in data:
            SignalDefinitions.model_validate(data)
        elif "playbooks" in data:
            PlaybookDefinitions.model_validate(data)
        elif "stages" in data:
            LifecycleDefinitions.model_validate(data)
        elif "onboarding" in data:
            Onboarding.model_validate(data["onboarding"])
        else:
            Condition.model_validate(data)
        checked += 1
    assert checked == 5
