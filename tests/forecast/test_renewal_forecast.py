"""P(renew) per decision: the model for its horizon, the chain of a monthly account, known
cancellations; end to end through the CLI on a small demo company."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.forecast.renewal_forecast import model_horizon, reached


def test_a_decision_is_scored_by_the_nearest_horizon_at_or_beyond_it():
    assert [model_horizon(d) for d in (1, 30, 31, 60, 61, 90, 200)] == [
        30, 30, 60, 60, 90, 90, 90]
    assert model_horizon(45, [30]) == 30


def test_a_later_decision_is_reached_only_if_the_earlier_ones_renewed():
    r = reached(["m", "m", "m", "a", "x", "x"], np.array([0.9, 0.8, 0.5, 0.7, 0.0, 0.9]))
    assert list(np.round(r, 4)) == [1.0, 0.9, 0.72, 1.0, 1.0, 0.0]


@pytest.mark.slow
def test_the_forecast_and_its_backtest_end_to_end_on_a_small_demo(tmp_path: Path):
    from quarterdeck.demo import generate_demo

    demo = generate_demo(tmp_path / "demo", accounts=300, years=3)
    ws, day = str(tmp_path / "ws"), demo.today.isoformat()
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("init", ws)
    run("load", str(demo.data_dir), "--workspace", ws)
    run("run", "--as-of", day, "--workspace", ws)
    out = tmp_path / "forecast.csv"
    run("export", "renewal_forecast", "--as-of", day, "--horizon", "60", "--out", str(out),
        "--workspace", ws)
    import pyarrow.csv as csv

    f = csv.read_csv(out)
    assert f.num_rows > 100
    p = np.array(f["p_renew"].to_pylist())
    assert ((p >= 0) & (p <= 1)).all()
    known = np.array(f["cancellation_known"].to_pylist())
    assert (p[known] == 0).all()
    dates = [date.fromisoformat(str(d)) for d in f["renewal_date"].to_pylist()]
    assert all(demo.today < d <= demo.today + timedelta(days=60) for d in dates)
    expected = np.array(f["arr_at_stake"].to_pylist()) * p * np.array(
        f["p_reached"].to_pylist())
    assert np.allclose(f["expected_arr"].to_pylist(), expected, atol=0.006, rtol=0)
    assert set(f["model_days_before"].to_pylist()) == {30, 60}
    renewal = f["renewal_id"][0].as_py()
    run("forecast", "category", "set", renewal, "commit", "--note", "verbal yes", "--as",
        "ops@example.com", "--workspace", ws)
    assert "commit" in run("forecast", "category", "history", renewal, "--workspace", ws)
    printed = run("forecast", "--as-of", day, "--horizon", "60", "--by", "category",
                  "--workspace", ws)
    assert "commit" in printed
    accuracy = run("forecast", "accuracy", "--as-of", day, "--periods", "2", "--days-before",
                   "30", "--workspace", ws)
    assert "Calibration by decile" in accuracy
