"""Every CLI command, option and exportable table is documented in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

import typer.main

from quarterdeck.cli.main import app
from quarterdeck.exports import exportable_tables

DOC = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()


def _commands(group, prefix: str = "quarterdeck"):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", cmd


def test_every_command_and_option_is_documented():
    for path, cmd in _commands(typer.main.get_command(app)):
        heading = f"## {path}\n"
        assert heading in DOC, f"docs/cli.md has no section for `{path}`"
        section = DOC.split(heading, 1)[1].split("\n## ", 1)[0]
        for param in cmd.params:
            if param.param_type_name == "option":
                assert any(o in section for o in param.opts), (
                    f"`{path}` option {param.opts[0]} is not in its docs/cli.md section")


def test_every_exportable_table_is_documented():
    from quarterdeck.contract.entities import ENTITIES

    section = DOC.split("## quarterdeck export\n", 1)[1].split("\n## ", 1)[0]
    assert "(every entity)" in section
    for table in exportable_tables():
        if table not in ENTITIES:
            assert f"| `{table}` |" in section, f"export table {table} is not documented"


def test_export_names_every_metric_of_the_registry():
    from quarterdeck.exports import METRIC_TABLES
    from quarterdeck.metrics.registry import METRICS

    assert set(METRIC_TABLES) == set(METRICS)
