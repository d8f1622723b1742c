"""Options every `quarterdeck` command spells the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: the current one or "
                 "$QUARTERDECK_WORKSPACE).", show_default=False),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Compute as of this date (YYYY-MM-DD; default today in the "
                 "workspace time zone).", show_default=False),
]
