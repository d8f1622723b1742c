"""Benchmark of health and churn risk: features, health scores, churn model, churn risk.

    .venv/bin/python benchmarks/health.py              # scale S: 300 accounts, 3 years
    .venv/bin/python benchmarks/health.py --scale M    # 2,000 accounts
    .venv/bin/python benchmarks/health.py --scale L    # 20,000 accounts, about 100M events

A demo company is generated and loaded into a fresh workspace through the documented CLI, and
`account_usage_daily` is materialised in the warehouse as `quarterdeck run` does. Then, each in
a process of its own, as of the demo's today:

- features today: `feature_table` with the 7- and 30-day lookback rows (as the pipeline asks
  for them), materialised in the warehouse as `bench_features`;
- backtest grid: `training_rows` for the last year of renewal decisions, each decision with
  its account's features 30 days before its period start;
- health scores: `health_scores` over `bench_features`;
- churn model training: `train_churn_model`'s two steps, timed apart inside the phase
  (`training_rows` for every decision known today, then `fit_churn_model`: both candidates,
  calibration), saved as `quarterdeck run` saves it;
- churn risk: `churn_risk` of every paying account with the saved model.

Each phase's wall time and peak RSS (the process and its children, sampled every 50 ms) are
printed as it finishes, with the baseline measured in the same process: a plain DuckDB
aggregation per account over `account_usage_daily` (the table every phase reads), timed just
before and just after the phase's step; the step's seconds ÷ the mean of the two is printed
(higher is slower). The load average is printed before and after. Target: the five health
phases in under 60 s at L on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psutil
from machine_load import with_load
from run import BIN, SCALES, measure

TARGET_SECONDS = 60.0
HEALTH_PHASES = ("features", "backtest_grid", "health_scores", "churn_train", "churn_risk")
BASELINE_SQL = """
    SELECT account_id, count(*), sum(events), sum(event_value), max(active_users)
    FROM account_usage_daily GROUP BY account_id"""


def _open(ws_root: Path) -> tuple[object, dict, object]:
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(ws_root)
    con = open_warehouse(ws)
    return ws, canonical_tables(con), con


def _baseline(con: object) -> float:
    """Seconds of the plain DuckDB aggregation per account over account_usage_daily."""
    started = time.perf_counter()
    con.con.execute(BASELINE_SQL).fetchall()
    return time.perf_counter() - started


def phase(name: str, ws_root: Path, today: date) -> dict:
    """Run one measured phase in this process, between two baselines; returns its figures."""
    ws, tables, con = _open(ws_root)
    if name == "usage_daily":  # builds the table the baseline reads: no baseline
        from quarterdeck.warehouse.account_daily import account_usage_daily

        con.create_table("account_usage_daily",
                         account_usage_daily(tables["events"], tables["users"], as_of=today),
                         overwrite=True)
        return {"rows": con.table("account_usage_daily").count().execute()}
    before = _baseline(con)
    started = time.perf_counter()
    figures = _step(name, ws, tables, con, today)
    figures["step_s"] = time.perf_counter() - started
    figures["baseline_s"] = (before + _baseline(con)) / 2
    return figures


def _step(name: str, ws: object, tables: dict, con: object, today: date) -> dict:
    base = ws.settings.base_currency
    usage = con.table("account_usage_daily")
    if name == "features":
        from quarterdeck.health.feature_table import feature_table

        features = feature_table(tables, as_of=today, base_currency=base,
                                 features=ws.health_models.features, lookback=(7, 30),
                                 usage=usage)
        con.create_table("bench_features", features, overwrite=True)
        return {"rows": con.table("bench_features").count().execute()}
    if name == "backtest_grid":
        from quarterdeck.health.churn_model import training_rows

        rows = training_rows(tables, as_of=today, base_currency=base,
                             since=today - timedelta(days=365), usage=usage)
        return {"rows": rows.num_rows}
    if name == "health_scores":
        from quarterdeck.health.health_scores import health_scores

        scores = health_scores(con.table("bench_features"), ws.health_models,
                               as_of=today).to_pyarrow()
        scored = scores.num_rows - scores["score"].null_count
        return {"rows": scores.num_rows, "scored": scored}
    from quarterdeck.health.model_store import churn_models_dir, load_model, save_model

    models = churn_models_dir(ws.data_dir)
    if name == "churn_train":
        from quarterdeck.health.churn_model import fit_churn_model, training_rows

        # train_churn_model's two steps, timed apart: the warehouse query and the fitting.
        started = time.perf_counter()
        rows = training_rows(tables, as_of=today, base_currency=base, usage=usage)
        query = time.perf_counter() - started
        model = fit_churn_model(rows, as_of=today)
        fit = time.perf_counter() - started - query
        save_model(model, models)
        validation = model.card["validation"] or {}
        return {"rows": model.card["training"]["rows"], "model": model.name,
                "auc": validation.get("auc"), "query_s": query, "fit_s": fit}
    if name == "churn_risk":
        from quarterdeck.health.churn_risk import churn_risk

        risk = churn_risk(tables, as_of=today, base_currency=base,
                          model=load_model(models, today), usage=usage)
        return {"rows": risk.num_rows}
    raise SystemExit(f"unknown phase {name!r}")


def _note(name: str, figures: dict) -> str:
    rows = f"{figures['rows']:,} rows"
    if name == "health_scores":
        return f"{rows}, {figures['scored']:,} scored"
    if name == "churn_train":
        auc = figures["auc"]
        shown = f"{auc:.3f}" if auc is not None else "n/a"
        return (f"{figures['rows']:,} decisions (query {figures['query_s']:.1f} s, fit "
                f"{figures['fit_s']:.1f} s), {figures['model']}, validation AUC {shown}")
    if name == "backtest_grid":
        return f"{figures['rows']:,} decisions with features"
    return rows


def _print(name: str, seconds: float, rss: float, note: str, ratio: str = "") -> None:
    print(f"{name:<24}{seconds:>10.1f}{rss:>14.0f}{ratio:>12}  {note}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    parser.add_argument("--phase", help=argparse.SUPPRESS)  # a child process runs one phase
    parser.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.workspace, args.as_of)))
        return
    run_benchmark(args)


@with_load
def run_benchmark(args: argparse.Namespace) -> None:
    """Every phase, each in a process of its own; the load average around them."""
    accounts, years = SCALES[args.scale]
    root = Path(tempfile.mkdtemp(prefix="qd-bench-health-"))
    try:
        ws, company = root / "ws", root / "company"
        subprocess.run([BIN, "init", ws], check=True, capture_output=True)
        print(f"Quarterdeck health benchmark, scale {args.scale}: {accounts:,} accounts, "
              f"{years} years, {psutil.cpu_count()} cores")
        print("× baseline: the phase's step ÷ a plain DuckDB aggregation per account over "
              "account_usage_daily, in the same process (higher is slower)")
        print(f"{'phase':<24}{'seconds':>10}{'peak RSS MB':>14}{'× baseline':>12}  figures",
              flush=True)
        secs, rss, _ = measure([BIN, "demo", "--out", company, "--accounts", str(accounts),
                                "--years", str(years)])
        meta = json.loads((company / "demo.json").read_text())
        events = sum(v for k, v in meta["rows"].items() if Path(k).name.startswith("events"))
        _print("demo generation", secs, rss, f"{events:,} events")
        secs, rss, _ = measure([BIN, "load", company / "data", "--workspace", ws])
        _print("load", secs, rss, "")
        today = meta["today"]
        health_total, steps, baselines = 0.0, 0.0, 0.0
        for name in ("usage_daily", *HEALTH_PHASES):
            secs, rss, out = measure([sys.executable, __file__, "--phase", name,
                                      "--workspace", ws, "--as-of", today])
            figures = json.loads(out.strip().splitlines()[-1])
            if name == "usage_daily":
                _print("account_usage_daily", secs, rss, f"{figures['rows']:,} rows")
                continue
            ratio = figures["step_s"] / figures["baseline_s"]
            _print(name.replace("_", " "), secs, rss,
                   f"step {figures['step_s']:.2f} s, baseline {figures['baseline_s']:.3f} s; "
                   + _note(name, figures), f"{ratio:.1f}")
            health_total += secs
            steps += figures["step_s"]
            baselines += figures["baseline_s"]
        verdict = "within" if health_total <= TARGET_SECONDS else "over"
        _print("health phases, total", health_total, 0,
               f"steps {steps:.1f} s, baselines {baselines:.2f} s; {verdict} the "
               f"{TARGET_SECONDS:.0f} s target", f"{steps / baselines:.1f}")
    finally:
        if args.keep:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
