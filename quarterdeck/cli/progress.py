"""Rich progress display for long work reported as (stage, fraction done)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

ProgressFn = Callable[[str, float], None]


@contextmanager
def stage_progress(console: Console, title: str) -> Iterator[ProgressFn]:
    """A progress bar; the yielded function takes the current stage and the fraction done."""
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=console, transient=False,
    ) as progress:
        task = progress.add_task(title, total=1.0)

        def update(stage: str, fraction: float) -> None:
            progress.update(task, description=f"{title}: {stage}", completed=min(fraction, 1.0))

        yield update
        progress.update(task, description=f"{title}: done", completed=1.0)
