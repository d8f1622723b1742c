"""The project's own packaging metadata builds without deprecation warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_license_is_an_spdx_expression_not_a_table() -> None:
    # setuptools ≥ 77 warns that a `license = {text = …}` table is deprecated (PEP 639).
    project = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))


def test_build_requires_a_setuptools_that_understands_spdx_licenses() -> None:
    requires = tomllib.loads(PYPROJECT.read_text("utf-8"))["build-system"]["requires"]
    setuptools = next(r for r in requires if r.startswith("setuptools"))
    floor = re.search(r">=\s*(\d+)", setuptools)
    assert floor is not None and int(floor.group(1)) >= 77
