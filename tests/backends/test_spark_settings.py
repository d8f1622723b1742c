"""A Spark URL's settings: those a running session takes are set on it, those only a start
takes (driver memory) are given at the start and never refused with Spark's traceback."""

from __future__ import annotations

import pytest

from quarterdeck.warehouse.connection import connect

pytestmark = pytest.mark.spark


def test_a_setting_only_a_start_takes_is_accepted_in_the_url(spark) -> None:
    con = connect("pyspark://local[2]?spark.driver.memory=2g&spark.sql.shuffle.partitions=3")
    try:
        assert con._session.conf.get("spark.sql.shuffle.partitions") == "3"
        assert con.sql("SELECT 1 AS one").to_pyarrow()["one"].to_pylist() == [1]
    finally:
        con.disconnect()
