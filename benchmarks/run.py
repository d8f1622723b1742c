"""Benchmarks of the foundation: demo generation, loading, and the account_daily build.

    .venv/bin/python benchmarks/run.py              # scale S (about 1M events)
    .venv/bin/python benchmarks/run.py --scale L    # about 100M events (20,000 accounts)

Each phase runs as its own process through the documented CLI, and its wall time and peak
resident memory (the process and its children, sampled every 50 ms) are printed. The
baseline, in the same run on the same files: plain DuckDB reading the events and users
Parquet files into a fresh database file and counting events per account and day (an event
without account_id takes its user's), once before loading and once after the pipeline run;
the loading and pipeline phases are printed as ratios to the mean of the two (higher is
slower). The pipeline runs twice: as of the day before the demo's today in the fresh workspace
(the first run: models trained, daily tables built in full), then as of its today (the next
day's run: one new day of events, models reused, daily tables built incrementally).
Targets: loading 100M events in under 5 minutes and under 2 GB RSS on 2 cores; the run
under 4 GB with the warehouse memory limit at 3 GB (`--memory-limit`, the default here).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psutil
from machine_load import with_load

SCALES = {  # accounts, years
    "S": (300, 3),
    "M": (2000, 3),
    "L": (20000, 3),
}
RSS_BOUND_MB = 2048
BIN = Path(sys.executable).parent / "quarterdeck"


def measure(cmd: list[str], **kwargs) -> tuple[float, float, str]:
    """Run `cmd`, returning (seconds, peak RSS in MB of it and its children, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **kwargs)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in procs) / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{out}")
    return seconds, peak, out


DAILY_SNIPPET = """
import sys
from datetime import date
from pathlib import Path
from quarterdeck.pipeline import build_daily_tables
from quarterdeck.warehouse.connection import open_warehouse
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.workspace.workspace import open_workspace
ws = open_workspace(Path(sys.argv[1]))
con = open_warehouse(ws)
daily, *_ = build_daily_tables(con, canonical_tables(con),
                              as_of=date.fromisoformat(sys.argv[2]),
                              base_currency=ws.settings.base_currency)
print(daily.count().execute())
"""

BASELINE_SNIPPET = """
import sys
import duckdb
db, users, *events = sys.argv[1:]
con = duckdb.connect(db)
con.execute("SET TimeZone = 'UTC'")
con.execute("CREATE TABLE events AS SELECT * FROM read_parquet(?)", [events])
con.execute("CREATE TABLE users AS SELECT user_id, account_id FROM read_parquet(?)", [users])
print(con.execute(
    "SELECT count(*) FROM (SELECT coalesce(e.account_id, u.account_id) AS account_id,"
    " CAST(e.timestamp AS DATE) AS day, count(*) AS n"
    " FROM events e LEFT JOIN users u ON e.user_id = u.user_id GROUP BY ALL)").fetchone()[0])
"""


def baseline(root: Path, data: Path) -> tuple[float, float, int]:
    """The plain DuckDB pass over the events: (seconds, peak RSS MB, account-days)."""
    db = root / "baseline.duckdb"
    db.unlink(missing_ok=True)
    secs, rss, out = measure([sys.executable, "-c", BASELINE_SNIPPET, db, data / "users.parquet",
                              *sorted(data.glob("events*"))])
    db.unlink()
    return secs, rss, int(out.split()[-1])


def set_memory_limit(ws: Path, limit: str) -> None:
    """Set the workspace's warehouse.memory_limit (the pipeline's DuckDB memory) to `limit`."""
    settings = ws / "quarterdeck.yml"
    text = settings.read_text()
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("memory_limit:"))
    settings.write_text(text.replace(line, line.split(":")[0] + f": {limit}", 1))
    print(f"warehouse.memory_limit: {limit}")


class Report:
    """Prints each phase as soon as it is measured (a long run shows progress)."""

    def __init__(self, scale: str, accounts: int, years: int) -> None:
        print(f"Quarterdeck foundation benchmark, scale {scale}: {accounts:,} accounts, "
              f"{years} years, {psutil.cpu_count()} cores")
        print(f"{'phase':<24}{'seconds':>10}{'peak RSS MB':>14}  figures", flush=True)

        self.seconds: dict[str, float] = {}

    def append(self, row: tuple[str, float, float, str]) -> None:
        name, secs, rss, note = row
        self.seconds[name] = secs
        flag = "  OVER BOUND" if rss > RSS_BOUND_MB else ""
        print(f"{name:<24}{secs:>10.1f}{rss:>14.0f}  {note}{flag}", flush=True)

    def ratios(self, base: float) -> None:
        """Each loading and pipeline phase's seconds ÷ the baseline's."""
        print(f"measured ÷ baseline ({base:.1f} s, the mean of the two; higher is slower):")
        s = self.seconds
        loads = s["load other entities"] + s["load events"]
        for name, secs in (("load events", s["load events"]), ("load, all files", loads),
                           ("account_daily build", s["account_daily build"]),
                           ("pipeline run (publish)", s["pipeline run (publish)"]),
                           ("next-day run", s["next-day run"])):
            print(f"  {name:<22}{secs / base:>10.2f}", flush=True)


@with_load
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    parser.add_argument("--copy-first-run", type=Path, metavar="DIR",
                        help="copy the workspace after its first run to DIR (to time the "
                             "next day again on fresh copies of it)")
    parser.add_argument("--copy-loaded", type=Path, metavar="DIR",
                        help="copy the workspace once every file is loaded, before any run, "
                             "to DIR (to time a first run again on fresh copies of it)")
    parser.add_argument("--memory-limit", default="3GB", metavar="SIZE",
                        help="the workspace's warehouse.memory_limit for the pipeline's "
                             "phases (default 3GB, the size the 4 GB peak target is set at)")
    args = parser.parse_args()
    accounts, years = SCALES[args.scale]
    root = Path(tempfile.mkdtemp(prefix="qd-bench-"))
    try:
        ws, company = root / "ws", root / "company"
        subprocess.run([BIN, "init", ws], check=True, capture_output=True)
        set_memory_limit(ws, args.memory_limit)
        rows = Report(args.scale, accounts, years)
        secs, rss, _ = measure([BIN, "demo", "--out", company, "--accounts", str(accounts),
                                "--years", str(years)])
        meta = json.loads((company / "demo.json").read_text())
        counts = {Path(k).name.split(".")[0]: v for k, v in meta["rows"].items()
                  if k.startswith("data/")}
        total_rows = sum(counts.values())
        rows.append(("demo generation", secs, rss, f"{total_rows / secs:,.0f} rows/s, "
                     f"{counts['events']:,} events"))
        data = company / "data"
        before = baseline(root, data)
        rows.append(("baseline, before", before[0], before[1],
                     f"{before[2]:,} account-days (plain DuckDB)"))
        others = [p for p in data.iterdir() if not p.name.startswith("events")]
        secs, rss, _ = measure([BIN, "load", *others, "--workspace", ws])
        rows.append(("load other entities", secs, rss,
                     f"{(total_rows - counts['events']) / secs:,.0f} rows/s"))
        events = sorted(data.glob("events*"))
        secs, rss, _ = measure([BIN, "load", *events, "--workspace", ws])
        rows.append(("load events", secs, rss, f"{counts['events'] / secs:,.0f} rows/s"))
        if args.copy_loaded:
            shutil.copytree(ws, args.copy_loaded)
        secs, rss, out = measure([sys.executable, "-c", DAILY_SNIPPET, ws, meta["today"]])
        rows.append(("account_daily build", secs, rss, f"{int(out.split()[-1]):,} rows"))
        today = date.fromisoformat(meta["today"])
        secs, rss, _ = measure([BIN, "run", "--as-of", str(today - timedelta(days=1)),
                                "--workspace", ws])
        rows.append(("pipeline run (publish)", secs, rss, "the day before the demo's today"))
        if args.copy_first_run:
            shutil.copytree(ws, args.copy_first_run)
        secs, rss, out = measure([BIN, "run", "--as-of", str(today), "--timings",
                                  "--workspace", ws])
        builds = [" ".join(line.split()) for line in out.splitlines()
                  if line.startswith(("usage by day:", "account_daily:"))]
        rows.append(("next-day run", secs, rss, "; ".join(b.split(" (")[0] for b in builds)))
        after = baseline(root, data)
        rows.append(("baseline, after", after[0], after[1], f"{after[2]:,} account-days"))
        rows.ratios((before[0] + after[0]) / 2)
        print("\nnext-day run by stage (quarterdeck run --timings):")
        tail = out.split("stage timings:\n")[1] if "stage timings:" in out else ""
        timed = [line for line in tail.splitlines()
                 if line.startswith("  ") and line.endswith(" s")]
        print("\n".join(timed) or "  (no timings printed)")
    finally:
        if args.keep:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
