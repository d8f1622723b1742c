"""End to end on a small demo company: the default model predicts churn 30 days ahead."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.demo import generate_demo
from quarterdeck.health.definitions import DEFAULT_HEALTH_MODELS_PATH, load_health_models
from quarterdeck.health.validation import auc, validate_model
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.connection import connect


@pytest.mark.slow
def test_default_model_auc_is_clearly_above_chance_30_days_before(tmp_path: Path):
    demo = generate_demo(tmp_path / "demo", accounts=300, years=3)
    runner = CliRunner()
    for args in (["init", str(tmp_path / "ws")],
                 ["load", str(demo.data_dir), "--workspace", str(tmp_path / "ws")]):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    con = connect(f"duckdb:///{tmp_path / 'ws' / 'data' / 'warehouse.duckdb'}")
    end = demo.today - timedelta(days=7)
    result = validate_model(canonical_tables(con), load_health_models(DEFAULT_HEALTH_MODELS_PATH),
                            base_currency="USD", start=end - timedelta(days=728), end=end,
                            as_of=demo.today, days_before=(30,), exclude_notified=False)
    # Contract renewals: at 300 accounts the monthly term ends hold too few churns (a few
    # percent of each month's decisions) for a stable figure.
    t = result.scored
    contract = np.array(t["term"].to_pylist()) == "contract"
    kept = contract & np.isin(np.array(t["result"].to_pylist()), ["churned", "renewed"])
    score = np.array(t["score"].to_pylist(), dtype=float)
    kept &= ~np.isnan(score)
    churned = np.array(t["result"].to_pylist())[kept] == "churned"
    assert churned.sum() >= 15
    assert auc(churned.astype(int), -score[kept]) > 0.7
    assert result.summary[0]["decisions"] > 100
    assert result.recommended and len(result.recommended) <= 5
    assert isinstance(result.start, date)
