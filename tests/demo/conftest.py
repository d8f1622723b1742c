"""A small demo company shared by the demo tests (generated once per test session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quarterdeck.contract import ENTITIES
from quarterdeck.demo import DemoSummary, generate_demo

TODAY = date(2026, 9, 30)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    out: Path = tmp_path_factory.mktemp("demo")
    return generate_demo(out, accounts=120, years=2, seed=11, today=TODAY)


@pytest.fixture(scope="session")
def tables(demo: DemoSummary) -> dict[str, pa.Table]:
    """Every data file of the demo, by entity name."""
    return {name: pq.read_table(demo.data_dir / f"{name}.parquet") for name in ENTITIES}


@pytest.fixture(scope="session")
def truth(demo: DemoSummary) -> dict[str, pa.Table]:
    return {p.stem: pq.read_table(p) for p in sorted(demo.truth_dir.glob("*.parquet"))}
