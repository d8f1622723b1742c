"""The machine's load printed around a benchmark: its seconds mean little on a shared machine
without it, and ratios to a baseline measured in the same run are what to compare."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages and the core count, as one line."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def with_load(main: F) -> F:
    """Print the load average before and after `main` runs (also when it fails)."""
    @functools.wraps(main)
    def wrapped(*args: object, **kwargs: object) -> object:
        print(f"load average before: {load_average()}", flush=True)
        try:
            return main(*args, **kwargs)
        finally:
            print(f"load average after: {load_average()}", flush=True)

    return wrapped  # type: ignore[return-value]
