"""Benchmarks of the foundation: demo generation, loading, and the account_daily build.

    .venv/bin/python benchmarks/run.py              # scale S (about 1M events)
    .venv/bin/python benchmarks/run.py --scale L    # about 100M events (20,000 accounts)

Each phase runs as its own process through the documented CLI, and its wall time and peak
resident memory (the process and its children, sampled every 50 ms) are printed. Targets:
loading 100M events in under 5 minutes and under 2 GB RSS on 2 cores.
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
from quarterdeck.pipeline import build_daily_tables, open_warehouse
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.workspace.workspace import open_workspace
ws = open_workspace(Path(sys.argv[1]))
con = open_warehouse(ws)
daily, _ = build_daily_tables(con, canonical_tables(con),
                              as_of=date.fromisoformat(sys.argv[2]),
                              base_currency=ws.settings.base_currency)
print(daily.count().execute())
"""


class Report:
    """Prints each phase as soon as it is measured (a long run shows progress)."""

    def __init__(self, scale: str, accounts: int, years: int) -> None:
        print(f"Quarterdeck foundation benchmark, scale {scale}: {accounts:,} accounts, "
              f"{years} years, {psutil.cpu_count()} cores")
        print(f"{'phase':<24}{'seconds':>10}{'peak RSS MB':>14}  figures", flush=True)

    def append(self, row: tuple[str, float, float, str]) -> None:
        name, secs, rss, note = row
        flag = "  OVER BOUND" if rss > RSS_BOUND_MB else ""
        print(f"{name:<24}{secs:>10.1f}{rss:>14.0f}  {note}{flag}", flush=True)


@with_load
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    args = parser.parse_args()
    accounts, years = SCALES[args.scale]
    root = Path(tempfile.mkdtemp(prefix="qd-bench-"))
    try:
        ws, company = root / "ws", root / "company"
        subprocess.run([BIN, "init", ws], check=True, capture_output=True)
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
        others = [p for p in data.iterdir() if not p.name.startswith("events")]
        secs, rss, _ = measure([BIN, "load", *others, "--workspace", ws])
        rows.append(("load other entities", secs, rss,
                     f"{(total_rows - counts['events']) / secs:,.0f} rows/s"))
        events = sorted(data.glob("events*"))
        secs, rss, _ = measure([BIN, "load", *events, "--workspace", ws])
        rows.append(("load events", secs, rss, f"{counts['events'] / secs:,.0f} rows/s"))
        secs, rss, out = measure([sys.executable, "-c", DAILY_SNIPPET, ws, meta["today"]])
        rows.append(("account_daily build", secs, rss, f"{int(out.split()[-1]):,} rows"))
        secs, rss, _ = measure([BIN, "run", "--as-of", meta["today"], "--workspace", ws])
        rows.append(("pipeline run (publish)", secs, rss, ""))
    finally:
        if args.keep:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
