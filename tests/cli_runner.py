"""Running the documented CLI in-process, as a test drives it, and writing the CSV files a
company would load.

Example: write_csv(day1, "accounts", "account_id,name", ["a1,Alpha"]); qd("load", day1,
"--workspace", ws) → the load's output (an AssertionError with it when the command fails).
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from quarterdeck.cli.main import app

runner = CliRunner()


def qd(*args: object) -> str:
    """The output of `quarterdeck ARGS…`, which must succeed."""
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def write_csv(folder: Path, name: str, header: str, rows: list[str]) -> None:
    """`folder/name.csv` with `header` and `rows` (folder created)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.csv").write_text("\n".join([header, *rows]) + "\n")
