"""Shared fixtures: a fresh workspace per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from quarterdeck.workspace.init import init_workspace
from quarterdeck.workspace.workspace import Workspace, open_workspace

# Rich sizes its consoles when the CLI modules are imported; tables in CLI output are read
# whole by the tests, however narrow the terminal running them.
os.environ["COLUMNS"] = "200"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    init_workspace(root, name="Test Co")
    return open_workspace(root)


def write(path: Path, text: str) -> Path:
    """Write a small input file (dedented, trailing newline)."""
    import textwrap

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture(scope="session")
def book_day():
    """The book world (quarterdeck.testing.book_world) evaluated once per test process."""
    from quarterdeck.testing.book_world import book_world, evaluate_world

    return evaluate_world(book_world())
