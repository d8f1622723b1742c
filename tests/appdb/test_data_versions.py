"""Kept results follow the data: every publish and every change to the book counts itself, and
a result kept from before a change is never served after it, whichever process made it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine

from quarterdeck.appdb import make_engine, migrate
from quarterdeck.appdb.data_age import publish_stale_data
from quarterdeck.appdb.data_versions import (
    BOOK,
    HEALTH,
    NAMES,
    SNAPSHOT,
    STALE_DATA,
    bump,
    cached,
    data_versions,
    one_reading,
)


def _counter() -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    return calls, compute


def test_every_name_starts_at_zero_and_counts_each_change(engine: Engine) -> None:
    assert data_versions(engine) == dict.fromkeys(NAMES, 0)
    with engine.begin() as connection:
        bump(connection, SNAPSHOT)
        bump(connection, SNAPSHOT, HEALTH)
    assert data_versions(engine)[SNAPSHOT] == 2
    assert data_versions(engine)[HEALTH] == 1
    assert data_versions(engine)[BOOK] == 0


def test_a_name_not_counted_yet_is_counted_from_one(engine: Engine) -> None:
    with engine.begin() as connection:
        bump(connection, "forecast")
    assert data_versions(engine)["forecast"] == 1


def test_a_change_rolled_back_counts_nothing(engine: Engine) -> None:
    connection = engine.connect()
    transaction = connection.begin()
    bump(connection, BOOK)
    transaction.rollback()
    connection.close()
    assert data_versions(engine)[BOOK] == 0


def test_a_result_is_kept_until_what_it_depends_on_changes(engine: Engine) -> None:
    calls, compute = _counter()
    assert cached(engine, "k", (SNAPSHOT,), compute) == 1
    assert cached(engine, "k", (SNAPSHOT,), compute) == 1
    with engine.begin() as connection:
        bump(connection, BOOK)  # not a dependency
    assert cached(engine, "k", (SNAPSHOT,), compute) == 1
    with engine.begin() as connection:
        bump(connection, SNAPSHOT)
    assert cached(engine, "k", (SNAPSHOT,), compute) == 2
    assert len(calls) == 2


def test_a_change_made_through_another_connection_pool_is_seen(tmp_path) -> None:
    # Two engines on one file: the web server and the pipeline are separate processes.
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(url)
    web, pipeline = make_engine(url), make_engine(url)
    calls, compute = _counter()
    assert cached(web, "warnings", (STALE_DATA,), compute) == 1
    publish_stale_data(pipeline, date(2026, 6, 30), [])
    assert cached(web, "warnings", (STALE_DATA,), compute) == 2
    web.dispose()
    pipeline.dispose()


def test_threads_needing_the_same_missing_result_compute_it_once(engine: Engine) -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(timeout=10)
        return "done"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cached(engine, "k", (), slow)))
    first.start()
    assert started.wait(timeout=10)
    others = [threading.Thread(target=lambda: results.append(cached(engine, "k", (), slow)))
              for _ in range(3)]
    for t in others:
        t.start()
    release.set()
    for t in [first, *others]:
        t.join(timeout=10)
    assert results == ["done"] * 4
    assert calls == [1]


def test_a_failed_computation_is_not_kept(engine: Engine) -> None:
    def broken() -> int:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cached(engine, "k", (), broken)
    assert cached(engine, "k", (), lambda: 7) == 7


def test_within_one_reading_the_counts_are_read_once(engine: Engine) -> None:
    calls, compute = _counter()
    with one_reading():
        assert cached(engine, "k", (SNAPSHOT,), compute) == 1
        with engine.begin() as connection:
            bump(connection, SNAPSHOT)
        # The page being built keeps the state it started from...
        assert cached(engine, "k", (SNAPSHOT,), compute) == 1
    # ...and the next one sees the change.
    assert cached(engine, "k", (SNAPSHOT,), compute) == 2
