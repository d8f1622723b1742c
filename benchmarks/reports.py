"""Benchmark of reports: the weekly operating report and a batch of QBR decks.

    .venv/bin/python benchmarks/reports.py              # scale S: 300 accounts, 3 years
    .venv/bin/python benchmarks/reports.py --scale M    # 2,000 accounts
    .venv/bin/python benchmarks/reports.py --scale L    # 20,000 accounts, about 100M events

A demo company is generated, loaded and run on two days a week apart through the documented
CLI (setup, timed but not the subject). Then, each in a process of its own, as of the demo's
today:

- baseline: `quarterdeck export health_scores` — one warehouse computation of the kind the
  report makes, measured in the same run so the ratios keep their meaning on a busy machine;
- weekly report, html / pdf / md: `quarterdeck report weekly --format …`;
- 100 QBR decks: `build_qbrs` for the 100 largest accounts (each table read once) and
  `render_qbr_deck` of each.

Each phase prints its wall time, peak RSS (the process and its children, sampled every
50 ms) and its ratio to the baseline; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from run import BIN, SCALES, measure

DECKS = 100
DECKS_SNIPPET = """
import sys, time
from datetime import date
from pathlib import Path
from quarterdeck.appdb.database import make_engine
from quarterdeck.reports.book_figures import snapshots
from quarterdeck.reports.qbr import build_qbrs
from quarterdeck.reports.render_pptx import render_qbr_deck
from quarterdeck.workspace.workspace import open_workspace
ws = open_workspace(Path(sys.argv[1]))
day, out, n = date.fromisoformat(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
engine = make_engine(ws.app_database_url)
snaps = snapshots(engine, day)
engine.dispose()
largest = sorted(snaps, key=lambda a: -float(snaps[a]["arr"]))[:n]
started = time.perf_counter()
qbrs = build_qbrs(ws, largest, day)
facts = time.perf_counter() - started
for q in qbrs:
    render_qbr_deck(q, out / f"{q.account_id}.pptx")
rendering = time.perf_counter() - started - facts
print(f"{len(qbrs)} decks; facts {facts:.1f} s, rendering {rendering:.1f} s")
"""


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    args = parser.parse_args()
    accounts, years = SCALES[args.scale]
    root = Path(tempfile.mkdtemp(prefix="qd-bench-reports-"))
    print(f"Quarterdeck reports benchmark, scale {args.scale}: {accounts:,} accounts, "
          f"{years} years, {os.cpu_count()} cores; load average before: {load()}", flush=True)
    print(f"{'phase':<26}{'seconds':>10}{'peak RSS MB':>14}{'× baseline':>12}  figures",
          flush=True)
    try:
        ws, company = root / "ws", root / "company"
        subprocess.run([BIN, "init", ws], check=True, capture_output=True)
        secs, _, _ = measure([BIN, "demo", "--out", company, "--accounts", str(accounts),
                              "--years", str(years)])
        today = json.loads((company / "demo.json").read_text())["today"]
        from datetime import date, timedelta

        week_ago = str(date.fromisoformat(today) - timedelta(days=7))
        setup = secs
        for cmd in (["load", company / "data"], ["run", "--as-of", week_ago],
                    ["run", "--as-of", today]):
            secs, _, _ = measure([BIN, *cmd, "--workspace", ws])
            setup += secs
        print(f"{'setup (demo, load, 2 runs)':<26}{setup:>10.1f}", flush=True)
        out = root / "out"
        out.mkdir()
        base, rss, _ = measure([BIN, "export", "health_scores", "--as-of", today, "--out",
                                out / "health.csv", "--workspace", ws])
        print(f"{'baseline: export health':<26}{base:>10.1f}{rss:>14.0f}{1.0:>12.2f}", flush=True)
        for fmt in ("html", "pdf", "md"):
            secs, rss, _ = measure([BIN, "report", "weekly", "--as-of", today, "--format", fmt,
                                    "--out", out / f"weekly.{fmt}", "--workspace", ws])
            size = (out / f"weekly.{fmt}").stat().st_size
            print(f"{'weekly report ' + fmt:<26}{secs:>10.1f}{rss:>14.0f}{secs / base:>12.2f}"
                  f"  {size / 1024:,.0f} KiB", flush=True)
        decks = out / "decks"
        decks.mkdir()
        secs, rss, note = measure([sys.executable, "-c", DECKS_SNIPPET, ws, today, decks,
                                   str(DECKS)])
        print(f"{f'{DECKS} QBR decks':<26}{secs:>10.1f}{rss:>14.0f}{secs / base:>12.2f}"
              f"  {note.strip().splitlines()[-1]}", flush=True)
        print(f"load average after: {load()}")
    finally:
        if args.keep:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
