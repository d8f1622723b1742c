"""Benchmark of identity resolution on the demo company: precision, recall, time, memory.

    .venv/bin/python benchmarks/identity.py              # scale S: 300 accounts
    .venv/bin/python benchmarks/identity.py --scale M    # 2,000 accounts (the demo default)
    .venv/bin/python benchmarks/identity.py --scale L    # 20,000 accounts
    .venv/bin/python benchmarks/identity.py --accounts 100000 --years 1
    .venv/bin/python benchmarks/identity.py --company demo-company   # a demo written before
    .venv/bin/python benchmarks/identity.py --variants [--scale M|L]  # real-world duplicates

`--variants` injects each class of duplicate real systems make, and look-alike companies
that must stay apart, into a generated company (see benchmarks/identity_variants.py).

The demo company (`quarterdeck demo`) injects help-desk duplicates of about 2% of its
accounts, spelled another way ("ACME ANALYTICS, Inc.", "acme analytics inc", double spaces)
with the same, a `www.` or no domain, and records them in `truth/duplicates.parquet`.
Quarterdeck never reads the truth; this benchmark does, after the fact:

- load accounts and subscriptions into a fresh workspace (`quarterdeck load`, which resolves);
- re-run the resolution alone (`quarterdeck identity resolve`);
- export `account_resolution` and compare, pair by pair, the accounts put in one customer
  with the injected duplicates: precision = true pairs found / pairs merged, recall = true
  pairs found / true pairs.

Each phase runs as its own process; wall time and peak RSS (the process and its children,
sampled every 50 ms) are printed. Targets: precision and recall at least 0.95.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import tempfile
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import psutil
import pyarrow.parquet as pq
from identity_variants import run_incremental, run_variants
from machine_load import with_load
from run import BIN, SCALES, measure

TARGET = 0.95


def merged_pairs(resolution_csv: Path) -> set[tuple[str, str]]:
    """Every pair of accounts resolved into one customer."""
    members: dict[str, list[str]] = defaultdict(list)
    with resolution_csv.open() as fh:
        for row in csv.DictReader(fh):
            members[row["customer_id"]].append(row["account_id"])
    return {tuple(sorted(p)) for group in members.values() if len(group) > 1
            for p in combinations(group, 2)}


def true_pairs(truth: Path) -> set[tuple[str, str]]:
    rows = pq.read_table(truth, columns=["account_id", "duplicate_of_account_id"]).to_pylist()
    return {tuple(sorted((r["account_id"], r["duplicate_of_account_id"]))) for r in rows}


@with_load
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--accounts", type=int, help="accounts (overrides the scale)")
    parser.add_argument("--years", type=int, help="years of history (overrides the scale)")
    parser.add_argument("--company", type=Path,
                        help="a folder written by `quarterdeck demo` (skips generating one)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    parser.add_argument("--variants", action="store_true",
                        help="inject each class of real-world duplicate into a generated "
                        "company (scales S, M, L: 2,000, 20,000, 100,000 accounts)")
    parser.add_argument("--sparse", action="store_true",
                        help="with --variants: injected records hold only name and country")
    parser.add_argument("--incremental", action="store_true",
                        help="with --variants: a sync that changed 1%% of the accounts, "
                        "resolved incrementally and in full in the same run")
    args = parser.parse_args()
    if args.variants and args.incremental:
        run_incremental(args.scale, accounts=args.accounts)
        return
    if args.variants:
        run_variants(args.scale, accounts=args.accounts, sparse=args.sparse)
        return
    accounts, years = SCALES[args.scale]
    accounts, years = args.accounts or accounts, args.years or years
    root = Path(tempfile.mkdtemp(prefix="qd-bench-identity-"))
    if args.company:
        meta = json.loads((args.company / "demo.json").read_text())
        accounts, years = meta["accounts"], meta["years"]
    print(f"Quarterdeck identity benchmark: {accounts:,} accounts, {years} years, "
          f"{psutil.cpu_count()} cores")
    print(f"{'phase':<28}{'seconds':>10}{'peak RSS MB':>14}  figures", flush=True)
    try:
        ws, company = root / "ws", args.company or root / "company"
        subprocess.run([BIN, "init", ws], check=True, capture_output=True)
        if not args.company:
            secs, rss, _ = measure([BIN, "demo", "--out", company, "--accounts", str(accounts),
                                    "--years", str(years)])
            print(f"{'demo generation':<28}{secs:>10.1f}{rss:>14.0f}", flush=True)
        data = company / "data"
        rows = json.loads((company / "demo.json").read_text())["rows"]
        loaded = rows["data/accounts.parquet"] + rows["data/subscriptions.parquet"]
        secs, rss, _ = measure([BIN, "load", data / "accounts.parquet",
                                data / "subscriptions.parquet", "--workspace", ws])
        print(f"{'load (with resolution)':<28}{secs:>10.1f}{rss:>14.0f}  "
              f"{rows['data/accounts.parquet']:,} accounts, {loaded:,} rows", flush=True)
        secs, rss, out = measure([BIN, "identity", "resolve", "--workspace", ws])
        summary = out.strip().splitlines()[0]
        print(f"{'identity resolve':<28}{secs:>10.1f}{rss:>14.0f}  {summary}", flush=True)
        resolution = root / "account_resolution.csv"
        subprocess.run([BIN, "export", "account_resolution", "--out", resolution,
                        "--workspace", ws], check=True, capture_output=True)
        found, truth = merged_pairs(resolution), true_pairs(company / "truth" /
                                                            "duplicates.parquet")
        hits = len(found & truth)
        precision = hits / len(found) if found else 1.0
        recall = hits / len(truth) if truth else 1.0
        verdict = "met" if min(precision, recall) >= TARGET else "NOT MET"
        print(f"precision {precision:.3f} ({hits:,} of {len(found):,} merged pairs are true), "
              f"recall {recall:.3f} ({hits:,} of {len(truth):,} injected duplicates); "
              f"target {TARGET} {verdict}")
    finally:
        if args.keep:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
