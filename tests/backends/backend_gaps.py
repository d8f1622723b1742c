"""Declaring a backend's known gap on a behaviour: an explicit mark, never a silent skip.

`notimpl(backend, reason)`: Quarterdeck's code does not run on that backend yet (a portability
bug to fix on our side). `notyet(backend, reason)`: the engine itself cannot do it yet. Either
turns that backend's run into a strict expected failure (see `_declared_gaps` in conftest.py),
so a gap that closes makes the suite fail until the mark is removed.

Example: case("account_daily@2024-06-30", build, marks=[notimpl("pyspark", "why")]).
"""

from __future__ import annotations

import pytest


def notimpl(backend: str, reason: str, raises: type[BaseException] | tuple = Exception
            ) -> pytest.MarkDecorator:
    """Declare that Quarterdeck's code does not run on `backend` yet (strict xfail there)."""
    return pytest.mark.notimpl(backend, reason, raises)


def notyet(backend: str, reason: str, raises: type[BaseException] | tuple = Exception
           ) -> pytest.MarkDecorator:
    """Declare that `backend` itself cannot do this yet (strict xfail there)."""
    return pytest.mark.notyet(backend, reason, raises)
