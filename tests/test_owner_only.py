"""The warehouse and the app database, and the folders they are made in, are readable by
their owner only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from quarterdeck.appdb import make_engine
from quarterdeck.owner_only import private_file, private_folder
from quarterdeck.warehouse.connection import connect


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_warehouse_file_and_its_folder_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "warehouse.duckdb"
    con = connect(f"duckdb://{path}")
    con.raw_sql("CREATE TABLE t AS SELECT 1 AS a")
    con.disconnect()
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700


def test_a_new_app_database_with_its_wal_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "app" / "app.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (a INTEGER)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        files = [p for p in path.parent.iterdir()]
        assert {_mode(p) for p in files} == {0o600}, [(p.name, oct(_mode(p))) for p in files]
    engine.dispose()
    assert _mode(path.parent) == 0o700


def test_an_existing_world_readable_database_file_is_restricted(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    path.touch(mode=0o644)
    private_file(path)
    assert _mode(path) == 0o600


def test_an_existing_folder_is_left_as_its_owner_set_it(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    private_folder(folder)
    assert _mode(folder) == 0o755
