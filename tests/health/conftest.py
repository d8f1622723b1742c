"""The `duck` fixture: a DuckDB connection in memory with world helpers."""

from __future__ import annotations

import pytest
from health_worlds import Duck


@pytest.fixture
def duck() -> Duck:
    return Duck()
