"""The whole pipeline on Spark in local mode, against DuckDB on the same company in the same run.

    .venv/bin/python benchmarks/spark.py               # scale S: 300 accounts, 3 years
    .venv/bin/python benchmarks/spark.py --scale M     # 2,000 accounts, 3 years (~9.6M events)
    .venv/bin/python benchmarks/spark.py --cores 2     # Spark's local threads (default: all)

One demo company is generated, then loaded and run through the documented CLI twice: into a
workspace on the default DuckDB warehouse (the baseline) and into one whose warehouse is
`pyspark://local[N]` (files are staged in DuckDB and mirrored into Spark's Parquet folder;
the pipeline then computes in Spark). Each command runs in a process of its own; printed are
its wall time, the ratio Spark ÷ DuckDB (higher is slower) and the peak RSS of the process and
its children (Spark's JVM included). Then the exports of both workspaces are compared row for
row — account_daily, the account snapshot, health scores, MRR movements, the ARR bridge — so
the run also proves the results are the same.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from machine_load import with_load
from run import BIN, SCALES, measure

COMPARED = ("account_daily", "account_snapshot", "health_scores", "mrr_movements",
            "mrr_bridge")


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(newline="") as handle:
        return sorted(tuple(row) for row in csv.reader(handle))


def _same(a: Path, b: Path) -> str:
    left, right = _rows(a), _rows(b)
    if left == right:
        return f"same ({len(left) - 1:,} rows)"
    return f"DIFFERENT ({len(left) - 1:,} vs {len(right) - 1:,} rows)"


@with_load
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2,
                        help="Spark's local threads")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspaces")
    args = parser.parse_args()
    accounts, years = SCALES[args.scale]
    root = Path(tempfile.mkdtemp(prefix="qd-bench-spark-"))
    company = root / "company"
    print(f"Quarterdeck on Spark against DuckDB: {accounts:,} accounts, {years} years, "
          f"Spark local[{args.cores}], {os.cpu_count()} cores", flush=True)
    try:
        secs, rss, _ = measure([BIN, "demo", "--out", company, "--accounts", str(accounts),
                                "--years", str(years)])
        meta = json.loads((company / "demo.json").read_text())
        events = meta["rows"].get("data/events.parquet", 0)
        today = meta["today"]
        print(f"demo: {events:,} events in {secs:.1f} s; as of {today}", flush=True)
        envs = {"duckdb": dict(os.environ),
                "spark": {**os.environ, "QUARTERDECK_WAREHOUSE_URL":
                          f"pyspark://local[{args.cores}]"}}
        times: dict[tuple[str, str], float] = {}
        print(f"\n{'phase':<22}{'DuckDB s':>10}{'Spark s':>10}{'Spark/DuckDB':>14}"
              f"{'DuckDB MB':>11}{'Spark MB':>10}", flush=True)
        for phase, cmd in (("load", ["load", company / "data"]),
                           ("run", ["run", "--as-of", today])):
            peaks = {}
            for name, env in envs.items():
                ws = root / name
                if not ws.exists():
                    subprocess.run([BIN, "init", ws], check=True, capture_output=True,
                                   env=env)
                secs, rss, _ = measure([BIN, *cmd, "--workspace", ws], env=env)
                times[(phase, name)], peaks[name] = secs, rss
            ratio = times[(phase, "spark")] / times[(phase, "duckdb")]
            print(f"{phase:<22}{times[(phase, 'duckdb')]:>10.1f}{times[(phase, 'spark')]:>10.1f}"
                  f"{ratio:>13.1f}x{peaks['duckdb']:>11.0f}{peaks['spark']:>10.0f}", flush=True)
        print("\nresults, Spark against DuckDB:")
        for table in COMPARED:
            outs = {}
            for name, env in envs.items():
                outs[name] = root / f"{table}-{name}.csv"
                subprocess.run([BIN, "export", table, "--as-of", today, "--out", outs[name],
                                "--workspace", root / name], check=True, capture_output=True,
                               env=env)
            print(f"  {table:<20}{_same(outs['duckdb'], outs['spark'])}", flush=True)
    finally:
        if args.keep:
            print(f"kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
