"""Benchmark of the renewal forecast: today's forecast and the four-quarter backtest.

    .venv/bin/python benchmarks/forecast.py              # scale M: 2,000 accounts, 3 years
    .venv/bin/python benchmarks/forecast.py --scale L    # 20,000 accounts
    .venv/bin/python benchmarks/forecast.py --reuse DIR  # a company kept by --keep

A demo company is generated and loaded into a fresh workspace through the documented CLI.
Then, each in a process of its own, as of the demo's today:

- baseline: the simple forecast the model must beat, in the same run: every past decision of
  the last four complete quarters at the trailing share of ARR that renewed (renewal
  outcomes and one pass of arithmetic, no model), its time and mean APE;
- forecast: churn models trained for the 30-, 60- and 90-day horizons, the 90-day forecast
  of every upcoming renewal decision, and its quarters with their exact 90% intervals;
- backtest: the four-quarter backtest at 30 days before each renewal (models retrained every
  91 days on what was known then), with its APE, coverage and Brier score, and per quarter
  the noise floor from the demo's ground truth: the standard deviation of renewed ARR that
  outcome randomness alone gives under each decision's true churn probability, as a share of
  the expected (an APE within about twice that is within what chance alone does);
- interval: the exact distribution on 1,000, 10,000 and 50,000 generated decisions and the
  seeded Monte Carlo on the first two, timed apart, which sets where the exact one gives way;
  and the exact one widened by a period error (τ = 0.2), as every run's intervals are once
  `quarterdeck forecast accuracy` has measured one.

Each phase prints its wall time, peak RSS (the process and its children, sampled every 50 ms)
and the ratio of its time to the baseline's; the load average is printed at start and end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psutil
from run import BIN, SCALES, measure

PHASES = ("baseline", "forecast", "backtest", "interval")


def _tables(ws_root: Path) -> tuple[object, dict]:
    from quarterdeck.landing.account_versions import with_account_versions
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(ws_root)
    con = open_warehouse(ws, read_only=True)
    return ws, with_account_versions(canonical_tables(con), con, ws.landing_dir)


def _baseline(ws: object, tables: dict, today: date) -> dict:
    import numpy as np

    from quarterdeck.forecast.accuracy import complete_periods, trailing_renewal_share
    from quarterdeck.health.renewal_outcomes import renewal_outcomes

    o = renewal_outcomes(tables, as_of=today, base_currency="USD").to_pyarrow()
    dates = o["decision_date"].to_pylist()
    stake = np.array([float(v) for v in o["arr_at_stake"].to_pylist()])
    kept = stake * (np.array(o["result"].to_pylist(), dtype=object) != "churned")
    apes = []
    for p in complete_periods(today):
        pick = np.array([p.start <= d <= p.end for d in dates])
        terms = [t for t, k in zip(o["term"].to_pylist(), pick, strict=True) if k]
        scored = [date.fromordinal(d.toordinal() - 30) for d, k in zip(dates, pick,
                                                                       strict=True) if k]
        expected = float((stake[pick] * trailing_renewal_share(o, terms, scored)).sum())
        apes.append(abs(expected - kept[pick].sum()) / kept[pick].sum())
    return {"decisions": o.num_rows, "mean_ape": round(float(np.mean(apes)), 4)}


def phase(name: str, ws_root: Path, today: date) -> dict:
    """Run one measured phase in this process; returns its figures."""
    if name == "interval":
        return _interval()
    ws, tables = _tables(ws_root)
    if name == "baseline":
        return _baseline(ws, tables, today)
    if name == "forecast":
        from quarterdeck.forecast.forecast_periods import forecast_periods
        from quarterdeck.forecast.renewal_forecast import renewal_forecast

        started = time.perf_counter()
        f = renewal_forecast(tables, as_of=today, base_currency="USD", horizon_days=90)
        periods = forecast_periods(f, grain="quarter")
        return {"decisions": f.num_rows, "periods": periods.num_rows,
                "seconds": time.perf_counter() - started}
    if name == "backtest":
        from quarterdeck.forecast.accuracy import forecast_accuracy

        result = forecast_accuracy(tables, as_of=today, base_currency="USD", days_before=(30,))
        [summary] = result.summary.to_pylist()
        return {**summary, "quarters": _against_truth(result, ws_root.parent / "company")}
    raise SystemExit(f"unknown phase {name!r}")


def _against_truth(result: object, company: Path) -> list[dict]:
    """Per backtested quarter: the model's APE and the outcome noise, the standard deviation
    of renewed ARR under the demo's true churn probabilities as a share of the expected
    renewed ARR. A decision is paired with the truth's decision of the same account and day,
    else of the same account and month; a known cancellation renews with probability 0.
    (The true probability is that of the decision before anyone knew it, so it is no
    forecast for a decision still open on its score date: only its spread is used.)"""
    import numpy as np
    import pyarrow.parquet as pq

    truth: dict[tuple, float] = {}
    for r in pq.read_table(company / "truth" / "renewal_decisions.parquet").to_pylist():
        p = 1.0 - r["churn_probability"]
        day = r["renewal_date"]
        truth[(r["account_id"], day)] = p
        truth.setdefault((r["account_id"], day.year, day.month), p)
    out = []
    rows = result.decisions.to_pylist()
    for period in result.periods.to_pylist():
        if period["segment"] != "(all)":
            continue
        q = [r for r in rows if period["period_start"] <= r["renewal_date"] <= period["period_end"]]
        arr = np.array([r["arr_at_stake"] for r in q])
        pt = np.array([0.0 if r["cancellation_known"] else truth.get(
            (r["account_id"], r["renewal_date"]), truth.get(
                (r["account_id"], r["renewal_date"].year, r["renewal_date"].month), np.nan))
            for r in q])
        paired = ~np.isnan(pt)
        pt = np.where(paired, pt, [r["p_renew"] for r in q])
        noise = float(np.sqrt((arr**2 * pt * (1 - pt)).sum()))
        out.append({"period": period["period"], "decisions": len(q),
                    "unpaired": int((~paired).sum()), "ape": period["ape"],
                    "signed_error": round((period["expected_arr"] - period["actual_renewed_arr"])
                                          / period["actual_renewed_arr"], 4),
                    "noise_sd": round(noise / float((arr * pt).sum()), 4)})
    return out


def _interval() -> dict:
    import numpy as np

    from quarterdeck.forecast.renewed_arr_interval import renewed_arr_interval

    rng = np.random.default_rng(0)
    out = {}
    for n in (1_000, 10_000, 50_000):
        arr, p = rng.lognormal(9, 1.2, n), rng.uniform(0.7, 0.999, n)
        ids = [str(i) for i in range(n)]
        ways = (("exact", 10**12), ("monte_carlo", 0)) if n <= 10_000 else (("exact", 10**12),)
        for method, cap in ways:
            started = time.perf_counter()
            renewed_arr_interval(ids, arr, p, np.ones(n), exact_max_cells=cap)
            out[f"{method}_{n}"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()  # with a period error, as once `forecast accuracy` ran
        renewed_arr_interval(ids, arr, p, np.ones(n), period_sd=0.2)
        out[f"exact+period_{n}"] = round(time.perf_counter() - started, 2)
    return out


def _note(name: str, f: dict) -> str:
    if name == "baseline":
        return f"{f['decisions']:,} past decisions; trailing-share mean APE {f['mean_ape']:.1%}"
    if name == "forecast":
        return f"{f['decisions']:,} decisions in 90 days, {f['periods']} quarters"
    if name == "backtest":
        quarters = "; ".join(f"{q['period']} {q['signed_error']:+.1%} (noise sd "
                             f"{q['noise_sd']:.1%})" for q in f["quarters"])
        return (f"{f['decisions']:,} decisions in {f['periods']} quarters; mean APE "
                f"{f['mean_ape']:.1%} (max {f['max_ape']:.1%}), coverage {f['coverage']:.0%}, "
                f"Brier {f['brier']:.4f}\n{'':<54}{quarters}")
    return ", ".join(f"{k} {v:.2f} s" for k, v in f.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("M", "L"), default="M")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    parser.add_argument("--reuse", type=Path, help="a root kept by --keep here or by "
                        "benchmarks/reports.py (its ws/ and company/): no generation or load")
    parser.add_argument("--phase", help=argparse.SUPPRESS)  # a child process runs one phase
    parser.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.workspace, args.as_of)))
        return
    accounts, years = SCALES[args.scale]
    root = args.reuse or Path(tempfile.mkdtemp(prefix="qd-bench-forecast-"))
    try:
        ws, company = root / "ws", root / "company"
        if args.reuse:
            accounts = json.loads((company / "demo.json").read_text()).get("accounts", accounts)
        else:
            subprocess.run([BIN, "init", ws], check=True, capture_output=True)
        print(f"Quarterdeck forecast benchmark, scale {args.scale}: {accounts:,} accounts, "
              f"{years} years, {psutil.cpu_count()} cores, load average "
              f"{psutil.getloadavg()[0]:.1f} at start")
        print(f"{'phase':<18}{'seconds':>10}{'peak RSS MB':>14}{'× baseline':>12}  figures",
              flush=True)
        if not args.reuse:
            secs, rss, _ = measure([BIN, "demo", "--out", company, "--accounts", str(accounts),
                                    "--years", str(years)])
            print(f"{'demo generation':<18}{secs:>10.1f}{rss:>14.0f}{'':>12}", flush=True)
            secs, rss, _ = measure([BIN, "load", company / "data", "--workspace", ws])
            print(f"{'load':<18}{secs:>10.1f}{rss:>14.0f}{'':>12}", flush=True)
        today = json.loads((company / "demo.json").read_text())["today"]
        base = None
        for name in PHASES:
            secs, rss, out = measure([sys.executable, __file__, "--phase", name,
                                      "--workspace", ws, "--as-of", today])
            figures = json.loads(out.strip().splitlines()[-1])
            base = base or secs
            print(f"{name:<18}{secs:>10.1f}{rss:>14.0f}{secs / base:>12.1f}  "
                  f"{_note(name, figures)}", flush=True)
        print(f"load average {psutil.getloadavg()[0]:.1f} at the end")
    finally:
        if args.keep or args.reuse:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
