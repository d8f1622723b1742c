"""Health model YAML: the default loads; problems name the file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from quarterdeck.errors import WorkspaceError
from quarterdeck.health.definitions import DEFAULT_HEALTH_MODELS_PATH, load_health_models


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "health_models.yml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_default_models_load():
    models = load_health_models(DEFAULT_HEALTH_MODELS_PATH)
    assert models.default is not None and models.default.bands is not None
    assert models.model_for("anything") is models.default


def test_unknown_feature_names_line_and_field(tmp_path):
    path = _write(tmp_path, """
        models:
          - name: main
            components:
              - feature: usage_per_moon
                weight: 1
                linear: {from: 0, to: 1}
    """)
    with pytest.raises(WorkspaceError) as err:
        load_health_models(path)
    e = err.value
    assert (e.file, e.line, e.field) == (str(path), 4, "models.0.components.0.feature")
    assert "unknown feature 'usage_per_moon'" in e.reason


def test_thresholds_must_end_with_a_catch_all(tmp_path):
    path = _write(tmp_path, """
        models:
          - name: main
            components:
              - feature: tickets_30d
                weight: 1
                thresholds:
                  - {below: 2, score: 100}
    """)
    with pytest.raises(WorkspaceError) as err:
        load_health_models(path)
    assert err.value.line == 6
    assert err.value.field == "models.0.components.0.thresholds"


def test_a_component_needs_exactly_one_rule_and_weights_are_positive(tmp_path):
    path = _write(tmp_path, """
        models:
          - name: main
            components:
              - feature: tickets_30d
                weight: 0
                linear: {from: 5, to: 0}
    """)
    with pytest.raises(WorkspaceError) as err:
        load_health_models(path)
    assert (err.value.line, err.value.field) == (5, "models.0.components.0.weight")


def test_two_default_models_are_refused(tmp_path):
    comp = "[{feature: tickets_30d, weight: 1, linear: {from: 5, to: 0}}]"
    path = _write(tmp_path, f"""
        models:
          - {{name: a, components: {comp}}}
          - {{name: b, components: {comp}}}
    """)
    with pytest.raises(WorkspaceError, match="only one model may leave out"):
        load_health_models(path)
