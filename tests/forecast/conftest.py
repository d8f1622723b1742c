"""A DuckDB connection in memory for the forecast tests."""

from __future__ import annotations

import pytest
from ibis.backends import BaseBackend

from quarterdeck.warehouse.connection import connect


@pytest.fixture
def con() -> BaseBackend:
    return connect("duckdb://")
