"""The capability table and warehouse URLs: what each backend is, and the docs agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from quarterdeck.errors import NotSupportedError
from quarterdeck.warehouse.backends import BACKENDS, backend_of_url, capabilities, capability_table
from quarterdeck.warehouse.connection import postgres_url, spark_location

DOCS = Path(__file__).parents[2] / "docs" / "backends.md"


@pytest.mark.parametrize(("url", "name"), [
    ("duckdb:///tmp/w.duckdb", "duckdb"), ("postgres://u@h/db", "postgres"),
    ("postgresql://u@h/db", "postgres"), ("postgresql+psycopg://u@h/db", "postgres"),
    ("pyspark://local[2]", "pyspark"), ("spark://local[4]", "pyspark"),
])
def test_every_url_form_names_its_backend(url: str, name: str) -> None:
    assert backend_of_url(url) == name
    assert capabilities(url) is BACKENDS[name]


def test_an_unknown_scheme_is_refused_with_the_ones_known() -> None:
    with pytest.raises(NotSupportedError, match="postgresql://"):
        backend_of_url("mysql://u@h/db")


def test_only_duckdb_loads_files_directly_the_others_get_a_mirror() -> None:
    assert [n for n, c in BACKENDS.items() if c.supports("load_files")] == ["duckdb"]
    assert all(c.supports("mirror") for n, c in BACKENDS.items() if n != "duckdb")


def test_postgres_urls_lose_their_driver_suffix() -> None:
    assert postgres_url("postgresql+psycopg://u@h:5432/db") == "postgresql://u@h:5432/db"
    assert postgres_url("postgres://u@h/db") == "postgresql://u@h/db"


def test_a_spark_url_gives_master_folder_and_settings() -> None:
    root = Path("/ws")
    assert spark_location("pyspark://local[2]", root) == ("local[2]", root / "data/spark", {})
    assert spark_location("spark://local[4]?warehouse=wh&spark.sql.shuffle.partitions=8",
                          root) == ("local[4]", root / "wh", {"spark.sql.shuffle.partitions": "8"})
    assert spark_location("spark://host:7077?warehouse=/abs")[:2] == ("spark://host:7077",
                                                                      Path("/abs"))
    assert spark_location("pyspark://local[2]") == ("local[2]", None, {})


def test_the_docs_show_the_capability_table_as_the_code_has_it() -> None:
    text = DOCS.read_text()
    shown = text.split("<!-- capability-table -->\n")[1].split("\n<!-- /capability-table -->")[0]
    assert shown == capability_table()
