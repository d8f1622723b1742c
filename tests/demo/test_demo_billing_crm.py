"""The demo company with billing and a CRM only: no product usage or support data, custom
account columns that carry churn, and churn risk that still ranks who leaves."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.demo import generate_demo
from quarterdeck.testing.churn_baseline import plain_logistic_auc

TODAY = date(2026, 9, 30)
ABSENT = ("events", "users", "usage_daily", "tickets", "surveys")


def test_a_billing_and_crm_company_has_no_usage_or_support_files(tmp_path: Path):
    demo = generate_demo(tmp_path / "demo", accounts=120, years=2, seed=11, today=TODAY,
                         sources="billing-crm")
    written = {p.stem for p in demo.data_dir.glob("*.parquet")}
    assert not written & set(ABSENT)
    assert {"accounts", "subscriptions", "invoices", "activities", "contacts"} <= written
    accounts = pq.read_table(demo.data_dir / "accounts.parquet")
    assert {"lead_source", "payment_method"} <= set(accounts.column_names)
    assert set(accounts["payment_method"].to_pylist()) == {"invoice", "card", "direct debit"}
    assert not (demo.truth_dir / "duplicates.parquet").exists() or pq.read_table(
        demo.truth_dir / "duplicates.parquet").num_rows == 0


def test_unknown_demo_sources_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown demo sources 'crm'"):
        generate_demo(tmp_path, accounts=20, sources="crm")


@pytest.mark.slow
def test_churn_risk_without_usage_ranks_within_003_auc_of_a_plain_logistic_model(tmp_path):
    from quarterdeck.health.churn_risk import churn_risk
    from quarterdeck.health.validation import auc
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import connect

    demo = generate_demo(tmp_path / "demo", accounts=2000, years=3, today=TODAY,
                         sources="billing-crm")
    runner = CliRunner()
    for args in (["init", str(tmp_path / "ws")],
                 ["load", str(demo.data_dir), "--workspace", str(tmp_path / "ws")]):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    ws = str(tmp_path / "ws")
    out = runner.invoke(app, ["health", "train", "--as-of", str(TODAY), "-w", ws],
                        catch_exceptions=False, terminal_width=200).output
    assert "Left out of the model" in out
    assert f"no product events known by {TODAY}" in out and "attribute_payment_method" in out
    out = runner.invoke(app, ["health", "validate", "--as-of", str(TODAY), "-w", ws],
                        catch_exceptions=False, terminal_width=200).output
    assert "no data for component usage_trend_30d of default: no product events" in out
    con = connect(f"duckdb:///{tmp_path / 'ws' / 'data' / 'warehouse.duckdb'}")
    tables = canonical_tables(con)
    for window in (90, 180):
        test_day = TODAY - timedelta(days=window + 7)
        plain, churned = plain_logistic_auc(tables, test_day - timedelta(days=window),
                                             test_day, window)
        risk = churn_risk(tables, as_of=test_day, base_currency="USD", window_days=window)
        ours = dict(zip(risk["account_id"].to_pylist(),
                        risk["churn_probability_window"].to_pylist(), strict=True))
        ids = sorted(churned)
        ours_auc = auc(np.array([churned[a] for a in ids]), np.array([ours[a] for a in ids]))
        # Measured (seed 7): 90 days 0.888 vs 0.836, 180 days 0.834 vs 0.781.
        assert ours_auc >= plain - 0.03, (window, ours_auc, plain)
        assert ours_auc > 0.7
