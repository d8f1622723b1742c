"""`quarterdeck health …`, the health stages of `quarterdeck run` and the health exports, end to
end on a small demo company."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from quarterdeck.appdb import make_engine
from quarterdeck.appdb.models import ChurnRisk, HealthScore
from quarterdeck.cli.main import app
from quarterdeck.demo import generate_demo
from quarterdeck.ingest import load_into_workspace
from quarterdeck.workspace.init import init_workspace
from quarterdeck.workspace.workspace import open_workspace

TODAY = "2026-09-30"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("health-cli")
    demo = generate_demo(root / "demo", accounts=300, years=3)
    init_workspace(root / "ws")
    ws = open_workspace(root / "ws")
    assert load_into_workspace(ws, [demo.data_dir]).ok
    return root / "ws"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_run_publishes_health_scores_and_churn_risk(workspace: Path):
    assert (workspace / "definitions" / "health_models.yml").exists()
    out = invoke("run", "--as-of", TODAY, "--timings", "-w", str(workspace))
    assert "churn model" in out and "validation AUC" in out
    timed = [line for line in out.split("stage timings:\n")[1].splitlines()
             if line.startswith("  ") and line.endswith(" s")]
    stages = [line.rsplit(None, 2)[0].strip() for line in timed]
    assert stages[0] == "starting" and {"health_scores", "renewal forecast"} <= set(stages)
    assert all(float(line.rsplit(None, 2)[1]) >= 0 for line in timed)
    assert (workspace / "data" / "models" / "churn" / TODAY / "card.json").exists()
    engine = make_engine(open_workspace(workspace).app_database_url)
    with engine.connect() as c:
        scored = c.execute(select(func.count()).select_from(HealthScore)).scalar()
        risked = c.execute(select(func.count()).select_from(ChurnRisk)).scalar()
        red = c.execute(select(func.count()).where(HealthScore.band == "red")).scalar()
    engine.dispose()
    assert scored == risked > 100 and 0 < red < scored / 4


@pytest.mark.slow
def test_health_validate_prints_tables_and_writes_html(workspace: Path, tmp_path: Path):
    page = tmp_path / "report" / "validation.html"
    out = invoke("health", "validate", "--as-of", TODAY, "--days-before", "30",
                 "--days-before", "90", "--html", str(page), "-w", str(workspace))
    assert "Calibration: churn rate by band" in out and "events_per_seat_30d" in out
    assert "<svg" in page.read_text()
    out = invoke("health", "validate", "--model", "default", "--from", "2025-10-01", "--to",
                 "2026-06-30", "--as-of", TODAY, "-w", str(workspace))
    assert "2025-10-01 → 2026-06-30" in out


@pytest.mark.slow
def test_health_train_saves_the_model_and_prints_its_card(workspace: Path):
    out = invoke("health", "train", "--as-of", "2026-06-30", "-w", str(workspace))
    assert "validation AUC" in out and "Calibration on the time split" in out
    assert "every decision known" in out  # fewer than the bounded sample's 50,000
    card = json.loads((workspace / "data" / "models" / "churn" / "2026-06-30" /
                       "card.json").read_text())
    assert card["training"]["last_decision"] <= "2026-06-23"
    assert card["validation"]["auc"] > 0.6


@pytest.mark.slow
def test_health_show_and_the_health_exports(workspace: Path, tmp_path: Path):
    def export(table: str) -> list[dict[str, str]]:
        out = tmp_path / f"{table}.csv"  # a file: the export writes past captured output
        invoke("export", table, "--as-of", TODAY, "--out", str(out), "-w", str(workspace))
        return list(csv.DictReader(out.open()))

    risk = export("churn_risk")
    # Both probabilities are kept: at the next decision and within the next 90 days.
    assert {r["window_days"] for r in risk} == {"90"}
    assert all(0 < float(r["churn_probability_window"]) < 1 for r in risk)
    assert all(0 < float(r["churn_probability"]) < 1 for r in risk)
    account = max(risk, key=lambda r: float(r["churn_probability"]))["account_id"]
    out = invoke("health", "show", account, "--as-of", TODAY, "-w", str(workspace))
    assert "churn probability" in out and "score" in out and account in out
    assert "churn within 90 days" in out
    scores = tmp_path / "scores.parquet"
    invoke("export", "health_scores", "--as-of", TODAY, "--format", "parquet", "--out",
           str(scores), "-w", str(workspace))
    import pyarrow.parquet as pq

    assert pq.read_table(scores).num_rows == len(risk)
    outcomes = export("renewal_outcomes")
    assert {r["result"] for r in outcomes} == {"renewed", "contracted", "churned"}
    result = CliRunner().invoke(app, ["health", "show", "nobody", "--as-of", TODAY, "-w",
                                      str(workspace)])
    assert result.exit_code == 1 and "not a paying account" in result.output
