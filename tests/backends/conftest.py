"""One suite, every backend: fixtures that load the hand-made worlds on DuckDB, PostgreSQL
and Spark, and the `notimpl` / `notyet` marks by which a backend declares a known gap.

- DuckDB always runs (in memory).
- PostgreSQL runs when QUARTERDECK_TEST_POSTGRES_URL names a server; each world lives in a
  throwaway schema dropped at the end. Without the variable the run is skipped and says why.
- Spark runs in local mode, marked `spark` (`-m "not spark"` leaves it out); the JVM starts
  once per test process and each world gets a session of its own.

A gap is declared on the behaviour, never hidden: `notimpl("pyspark", "why")` turns that
backend's run into a strict expected failure, so the day the gap closes the suite says so.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import ibis.expr.types as ir
import pytest
from backend_worlds import SPARK_TEST_CONF, WORLDS
from ibis.backends import BaseBackend

from quarterdeck.testing.postgres import POSTGRES_URL_VARIABLE
from quarterdeck.testing.worlds import load_world
from quarterdeck.warehouse.connection import connect, postgres_url, spark_session, stop_spark


def backend_params() -> list:
    """Backend params (Ibis backend names); the optional ones carry their marker."""
    return ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
            pytest.param("pyspark", marks=pytest.mark.spark)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "spark: runs on Spark in local mode (a JVM); deselect with -m 'not spark'")
    config.addinivalue_line(
        "markers", "notimpl(backend, reason, raises): the backend lacks the behaviour; strict "
        "expected failure there")
    config.addinivalue_line(
        "markers", "notyet(backend, reason, raises): the engine cannot do it yet upstream; "
        "strict expected failure there")
    # pyspark's own use of an argument pandas 3 deprecates
    config.addinivalue_line("filterwarnings", "ignore:The copy keyword is deprecated")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Parametrized here rather than in the fixture: the marks exist once pytest_configure ran.
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", backend_params(), indirect=True, scope="session")


class Backend:
    """A backend under test: loads each world once and runs expressions to Python rows."""

    def __init__(self, name: str, open_world: Callable[[str], tuple[BaseBackend, str | None]]
                 ) -> None:
        self.name = name
        self._open_world = open_world
        self._loaded: dict[str, tuple[BaseBackend, dict[str, ir.Table]]] = {}
        self.connections: list[tuple[BaseBackend, str | None]] = []

    def tables(self, world: str) -> tuple[BaseBackend, dict[str, ir.Table]]:
        """The connection holding `world` and its canonical tables (loaded on first use)."""
        if world not in self._loaded:
            con, database = self._open_world(world)
            self.connections.append((con, database))
            self._loaded[world] = (con, load_world(con, WORLDS[world](), database=database))
        return self._loaded[world]


def _postgres(name: str) -> tuple[BaseBackend, str | None]:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"PostgreSQL run needs {POSTGRES_URL_VARIABLE} set to a server URL")
    con = connect(postgres_url(url))
    schema = f"qd_backends_{name}_{secrets.token_hex(4)}"
    con.raw_sql(f'CREATE SCHEMA "{schema}"')
    return con, schema


def _spark(name: str) -> tuple[BaseBackend, str | None]:
    settings = "&".join(f"{k}={v}" for k, v in SPARK_TEST_CONF.items())
    return connect(f"pyspark://local[2]?{settings}"), None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The process's Spark session, started once and stopped at the end."""
    yield spark_session("local[2]")
    stop_spark()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each backend in turn, holding the worlds loaded so far."""
    name = request.param
    if name == "pyspark":
        request.getfixturevalue("spark")
    opener = {"duckdb": lambda world: (connect("duckdb://"), None),
              "postgres": _postgres, "pyspark": _spark}[name]
    b = Backend(name, opener)
    yield b
    for con, schema in b.connections:
        if schema is not None:
            con.raw_sql(f'DROP SCHEMA "{schema}" CASCADE')
        con.disconnect()


@pytest.fixture(autouse=True)
def _declared_gaps(request: pytest.FixtureRequest) -> None:
    """Turn a `notimpl`/`notyet` mark naming the current backend into a strict xfail."""
    callspec = getattr(request.node, "callspec", None)
    params = callspec.params if callspec is not None else {}
    current = params.get("backend", params.get("target"))
    if current is None:
        return
    for kind in ("notimpl", "notyet"):
        for mark in request.node.iter_markers(kind):
            backend, reason, raises = (*mark.args, Exception)[:3]
            if backend == current:
                request.applymarker(pytest.mark.xfail(
                    reason=f"{kind} on {backend}: {reason}", raises=raises, strict=True))

