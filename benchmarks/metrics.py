"""Benchmark of the revenue metrics: Quarterdeck's engine (DuckDB) against a pandas reference.

    .venv/bin/python benchmarks/metrics.py              # scale S: 2,000 accounts, 5 years
    .venv/bin/python benchmarks/metrics.py --scale L    # 20,000 accounts, 5 years
    .venv/bin/python benchmarks/metrics.py --scale XL   # 100,000 accounts, 5 years
    .venv/bin/python benchmarks/metrics.py --scale L --money18    # money as DECIMAL(18,2)
    .venv/bin/python benchmarks/metrics.py --scale L --profile    # where the engine's time goes

A demo company (fixed seed) is generated and its accounts, subscriptions, fx_rates and
invoices are loaded into a fresh workspace (usage events are neither generated nor loaded:
no revenue metric reads them). Then, each in its own process and measured separately:

- Quarterdeck: MRR movements per account and day, the monthly ARR bridge and trailing
  12-month retention at every month end, materialised as Arrow tables; cold (a new process
  and connection) and warm (the same again in that process);
- pandas: the same canonical tables read into pandas, then the same three results computed
  by `benchmarks/pandas_reference.py`, which tests/benchmarks checks gives the same numbers;
- whole processes, timed from outside: the three `quarterdeck export` commands one after the
  other (each a new process: imports, workspace, warehouse, query, Parquet file), and one
  Python process importing pandas, reading the tables and computing the three results.

Each measured phase runs `--repeat` times (default 2) in fresh processes; the best time is
reported with its peak RSS (the process's resident memory sampled every 20 ms during the
phase). Targets: 20,000 accounts × 5 years in under 10 s on 2 cores, at least 10× faster than
pandas.
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
from datetime import date
from pathlib import Path
from typing import Any

import psutil
from machine_load import with_load

SCALES = {"S": (2000, 5), "L": (20000, 5), "XL": (100000, 5)}  # accounts, years
SEED = 11
ENTITIES = ("accounts", "subscriptions", "fx_rates", "invoices")
TARGET_SECONDS = 10.0
TARGET_RATIO = 10.0
HERE = Path(__file__).resolve().parent


class Peak:
    """Wall time and peak RSS (MB) of this process while the block runs."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.rss_mb = 0.0

    def __enter__(self) -> Peak:
        process = psutil.Process()
        self._done = threading.Event()
        self.rss_mb = process.memory_info().rss / 2**20

        def sample() -> None:
            while not self._done.is_set():
                self.rss_mb = max(self.rss_mb, process.memory_info().rss / 2**20)
                time.sleep(0.02)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._started
        self._done.set()
        self._thread.join()
        self.rss_mb = max(self.rss_mb, psutil.Process().memory_info().rss / 2**20)


# --- phases, each run in a child process --------------------------------------------------


def set_money(precision: int) -> None:
    """Money columns as DECIMAL(precision, 2): 38 as Quarterdeck has them (128-bit integers
    in DuckDB), 18 to try 64-bit ones. Sums of DECIMAL(18,2) are DECIMAL(38,2) in DuckDB and
    are cast back, as every amount here fits 16 digits."""
    import ibis
    import ibis.expr.datatypes as dt

    from quarterdeck.metrics import account_mrr, mrr_bridge, mrr_movements, retention
    from quarterdeck.warehouse import subscription_mrr

    money = dt.Decimal(precision, 2)
    for module in (subscription_mrr, account_mrr, mrr_movements, mrr_bridge, retention):
        module.MONEY = money
    account_mrr._ZERO = ibis.literal(0, money)


def use_money18() -> None:
    set_money(18)


def phase_generate(out: Path, accounts: int, years: int) -> dict:
    import quarterdeck.demo.generator as generator

    # The revenue metrics never read usage events: generate none (the other entities come
    # out the same, as they do not depend on the events).
    generator.event_chunks = lambda *args, **kwargs: iter(())
    with Peak() as p:
        summary = generator.generate_demo(out, accounts=accounts, years=years, seed=SEED)
    rows = {Path(k).stem: v for k, v in summary.rows.items() if k.startswith("data/")}
    return {"seconds": p.seconds, "rss_mb": p.rss_mb, "today": summary.today.isoformat(),
            "rows": {name: rows[name] for name in ENTITIES}}


def phase_load(company: Path, ws_root: Path) -> dict:
    from quarterdeck.ingest import load_into_workspace
    from quarterdeck.workspace.init import init_workspace
    from quarterdeck.workspace.workspace import open_workspace

    init_workspace(ws_root)
    ws = open_workspace(ws_root)
    with Peak() as p:
        report = load_into_workspace(ws, [company / "data" / f"{e}.parquet" for e in ENTITIES])
    if not report.ok:
        raise SystemExit(f"loading failed: {report}")
    return {"seconds": p.seconds, "rss_mb": p.rss_mb}


def engine_expressions(tables: dict, as_of: date, base_currency: str) -> dict:
    """The three results by name, each as a function building its Ibis expression, asked of
    one set of inputs as a report asks for several metrics: the first builds the accounts'
    change days (a query), the others read them again, as the pandas reference computes its
    three results from one set of changes. Building the bridge runs a query too: the first
    paying day, where its periods start."""
    from quarterdeck.metrics.registry import MetricInputs, MetricOptions, metric

    day = MetricOptions(as_of=as_of, base_currency=base_currency, grain="day")
    month = MetricOptions(as_of=as_of, base_currency=base_currency, grain="month",
                          window_months=12)
    inputs = MetricInputs(tables, day)
    return {"movements": lambda: metric("mrr_movements", inputs, day),
            "bridge": lambda: metric("mrr_bridge", inputs, month),
            "retention": lambda: metric("retention", inputs, month)}


def run_engine(con: Any, as_of: date, base_currency: str) -> dict:
    """Build and materialise the three results: [seconds, rows] of each step, and the
    seconds spent building expressions (Ibis, and the queries building runs: the first
    metric's inputs hold the subscription rows, with their exchange rates checked, and the
    accounts' change days)."""
    from quarterdeck.warehouse.canonical import canonical_tables

    out = {}
    tables = canonical_tables(con)
    building = 0.0
    for name, build in engine_expressions(tables, as_of, base_currency).items():
        started = time.perf_counter()
        expr = build()
        building += time.perf_counter() - started
        result = expr.to_pyarrow()
        out[name] = [time.perf_counter() - started, result.num_rows]
    out["of which building"] = [building, 0]
    return out


def phase_engine(ws_root: Path, as_of: date, money18: bool) -> dict:
    if money18:
        use_money18()
    import quarterdeck.metrics.registry  # noqa: F401  (imports are not measured)
    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(ws_root)
    base = ws.settings.base_currency
    result = {}
    with Peak() as cold:
        con = open_warehouse(ws, read_only=True)
        result["cold parts"] = run_engine(con, as_of, base)
    with Peak() as warm:
        result["warm parts"] = run_engine(con, as_of, base)
    result.update(cold=[cold.seconds, cold.rss_mb], warm=[warm.seconds, warm.rss_mb])
    return result


def phase_pandas(ws_root: Path, as_of: date) -> dict:
    sys.path.insert(0, str(HERE))
    import pandas_reference as ref

    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(ws_root)
    with Peak() as read:
        con = open_warehouse(ws, read_only=True)
        tables = ref.read_tables(con)
        con.disconnect()
    with Peak() as compute:
        r = ref.compute(tables, as_of=as_of, base_currency=ws.settings.base_currency)
    rows = {"movements": len(r.movements), "bridge": len(r.bridge),
            "retention": len(r.retention)}
    del r
    # The same, with the bridge and retention read from a table of every account every day.
    with Peak() as daily:
        ref.compute(tables, as_of=as_of, base_currency=ws.settings.base_currency, daily=True)
    return {"read": [read.seconds, read.rss_mb], "compute": [compute.seconds, compute.rss_mb],
            "compute daily": [daily.seconds, daily.rss_mb], "rows": rows}


def phase_pandas_process(ws_root: Path, as_of: date) -> dict:
    """Read and compute, as one analyst's script would: timed from outside, imports included."""
    sys.path.insert(0, str(HERE))
    import pandas_reference as ref

    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(ws_root)
    con = open_warehouse(ws, read_only=True)
    tables = ref.read_tables(con)
    con.disconnect()
    ref.compute(tables, as_of=as_of, base_currency=ws.settings.base_currency)
    return {}


CLI_EXPORTS = (("mrr_movements", "day"), ("mrr_bridge", "month"), ("retention", "month"))


def cli_exports(ws: Path, as_of: str, out: Path) -> float:
    """Wall seconds of the three `quarterdeck export` commands, one process each."""
    cli = Path(sys.executable).with_name("quarterdeck")
    started = time.perf_counter()
    for name, grain in CLI_EXPORTS:
        subprocess.run([str(cli), "export", name, "--as-of", as_of, "--grain", grain,
                        "--format", "parquet", "--out", str(out / f"{name}.parquet")],
                       cwd=ws, check=True, capture_output=True)
    return time.perf_counter() - started


def timed_child(*args: str) -> float:
    started = time.perf_counter()
    run_child(*args)
    return time.perf_counter() - started


def phase_profile(ws_root: Path, as_of: date, money18: bool, out_dir: Path) -> dict:
    """Warm timings of the building blocks, and DuckDB's own profile of each result."""
    if money18:
        use_money18()
    from quarterdeck.metrics.account_mrr import account_mrr_changes, currency_changes
    from quarterdeck.metrics.registry import MetricInputs, MetricOptions
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.warehouse.subscription_mrr import subscription_mrr
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(ws_root)
    base = ws.settings.base_currency
    con = open_warehouse(ws, read_only=True)
    tables = canonical_tables(con)
    inputs = MetricInputs(tables, MetricOptions(as_of=as_of, base_currency=base))
    month_ends = inputs.daily.filter(inputs.daily.date.isin(_month_ends(inputs.start, as_of)))
    blocks = {
        "subscription_mrr": subscription_mrr(tables["subscriptions"], tables["fx_rates"],
                                             as_of=as_of, base_currency=base),
        "currency_changes": currency_changes(tables, as_of=as_of, base_currency=base),
        "account_mrr_changes": account_mrr_changes(tables, as_of=as_of, base_currency=base),
        "account_mrr_daily (every day)": inputs.daily,
        "account_mrr_daily (month ends)": month_ends,
        **{name: build() for name, build in engine_expressions(tables, as_of, base).items()},
    }
    # The first paying day, where the bridge's and retention's periods start: the registry
    # reads it from account_mrr_daily (one query per metric); it also is the first change day
    # with MRR > 0, which needs no calendar.
    changes = blocks["account_mrr_changes"]
    blocks["first paying day (daily)"] = inputs.daily.date.min().as_table()
    blocks["first paying day (changes)"] = (
        changes.filter(changes.mrr_after > 0).date.min().as_table())
    timings = {}
    for name, expr in blocks.items():
        expr.to_pyarrow()  # warm up
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            rows = expr.to_pyarrow().num_rows
            best = min(best, time.perf_counter() - started)
        timings[name] = [best, rows]
    operators, split = {}, {}
    raw = con.con
    for name in ("movements", "bridge", "retention"):
        con._run_pre_execute_hooks(blocks[name])  # registers the in-memory tables it reads
        started = time.perf_counter()
        sql = con.compile(blocks[name])
        compiled = time.perf_counter() - started
        started = time.perf_counter()
        raw.execute(sql).to_arrow_table()
        split[name] = [compiled, time.perf_counter() - started, len(sql)]
        path = out_dir / f"profile-{name}.json"
        raw.execute("PRAGMA enable_profiling = 'json'")
        raw.execute(f"PRAGMA profiling_output = '{path}'")
        raw.execute(sql).to_arrow_table()
        raw.execute("PRAGMA disable_profiling")
        operators[name] = _top_operators(json.loads(path.read_text()))
    variants = {} if money18 else _engine_variants(con, as_of, base)
    con._run_pre_execute_hooks(inputs.daily)
    scans = {} if money18 else _scan_money(raw, con.compile(inputs.daily))
    return {"blocks": timings, "split": split, "operators": operators, "variants": variants,
            "scans": scans}


def _scan_money(raw: Any, daily_sql: str, rounds: int = 3) -> dict:
    """account_mrr_daily materialised (a temporary table) with MRR as DECIMAL(38,2) and as
    DECIMAL(18,2), and the best of `rounds` of two scans of each, taking turns."""
    raw.execute(f"CREATE OR REPLACE TEMP TABLE daily38 AS {daily_sql}")
    raw.execute("CREATE OR REPLACE TEMP TABLE daily18 AS SELECT account_id, date, "
                "CAST(mrr AS DECIMAL(18,2)) AS mrr, customer FROM daily38")
    queries = {
        "total MRR per day": "SELECT date, sum(mrr) FROM {t} GROUP BY date",
        "MRR at month ends": "SELECT date, sum(mrr), count(*) FROM {t} "
                             "WHERE date = last_day(date) GROUP BY date",
    }
    out = {}
    for name, sql in queries.items():
        best = {"daily38": float("inf"), "daily18": float("inf")}
        for _ in range(rounds):
            for table in best:
                started = time.perf_counter()
                raw.execute(sql.format(t=table)).fetchall()
                best[table] = min(best[table], time.perf_counter() - started)
        out[name] = [best["daily38"], best["daily18"]]
    rows = raw.execute("SELECT count(*) FROM daily38").fetchone()[0]
    raw.execute("DROP TABLE daily38; DROP TABLE daily18")
    return {"rows": rows, "queries": out}


def _engine_variants(con: Any, as_of: date, base_currency: str,
                     rounds: int = 3) -> dict:
    """The whole engine phase (warm) as it is and with money as DECIMAL(18,2), taking turns
    round after round so that a change of machine load hits them alike; the best round of
    each."""
    variants = {"as it is": 38, "money DECIMAL(18,2)": 18}
    times: dict = {name: [] for name in variants}
    try:
        for _ in range(rounds):
            for name, precision in variants.items():
                set_money(precision)
                started = time.perf_counter()
                run_engine(con, as_of, base_currency)
                times[name].append(time.perf_counter() - started)
    finally:
        set_money(38)
    return {name: [min(t), t] for name, t in times.items()}


def _month_ends(first: date, as_of: date) -> list[date]:
    from quarterdeck.metrics.periods import periods_between

    return [min(p.end, as_of) for p in periods_between(first, as_of, "month")]


def _top_operators(profile: dict, top: int = 6) -> list[list]:
    """The operators of a DuckDB JSON profile taking the most time: [seconds, rows, name]."""
    found = []

    def walk(node: dict) -> None:
        name = node.get("operator_name") or node.get("operator_type") or node.get("name")
        info = node.get("extra_info") or {}
        detail = ""
        if isinstance(info, dict):
            detail = " ".join(str(v) for k, v in info.items()
                              if k in ("Aggregates", "Function", "Join Type", "Conditions",
                                       "Groups", "Projections"))
        if name:
            found.append([node.get("operator_timing", 0.0),
                          node.get("operator_cardinality", 0), f"{name} {detail}"[:100]])
        for child in node.get("children", []):
            walk(child)

    walk(profile)
    return sorted(found, reverse=True)[:top]


PHASES = {"generate", "load", "engine", "pandas", "pandas-process", "profile"}


def child_main(args: argparse.Namespace) -> None:
    as_of = date.fromisoformat(args.as_of) if args.as_of else None
    if args.child == "generate":
        out = phase_generate(Path(args.company), args.accounts, args.years)
    elif args.child == "load":
        out = phase_load(Path(args.company), Path(args.workspace))
    elif args.child == "engine":
        out = phase_engine(Path(args.workspace), as_of, args.money18)
    elif args.child == "pandas":
        out = phase_pandas(Path(args.workspace), as_of)
    elif args.child == "pandas-process":
        out = phase_pandas_process(Path(args.workspace), as_of)
    else:
        out = phase_profile(Path(args.workspace), as_of, args.money18, Path(args.out))
    print("RESULT " + json.dumps(out), flush=True)


# --- the parent: runs the phases and reports ------------------------------------------------


def run_child(*args: str) -> dict:
    return run_script_child(Path(__file__), *args)


def run_script_child(script: Path, *args: str) -> dict:
    """Run one phase of the benchmark `script` in a process of its own; its RESULT line."""
    cmd = [sys.executable, str(script.resolve()), "--child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def row(name: str, seconds: float, rss_mb: float, note: str = "") -> None:
    print(f"{name:<34}{seconds:>9.2f}{rss_mb:>13.0f}  {note}", flush=True)


def best_of(runs: list[dict], key: str) -> tuple[float, float, str]:
    """The fastest of `runs` for `key` ([seconds, rss]), its RSS, and every time."""
    times = [r[key][0] for r in runs]
    best = min(runs, key=lambda r: r[key][0])[key]
    return best[0], best[1], "runs " + ", ".join(f"{t:.2f}" for t in times)


def company_ready(company: Path, accounts: int, years: int) -> dict | None:
    meta = company / "demo.json"
    if not meta.exists():
        return None
    m = json.loads(meta.read_text())
    if (m["accounts"], m["years"], m["seed"]) != (accounts, years, SEED):
        return None
    return m


def prepare_workspace(child: Any, show: Any, company: Path, ws: Path, accounts: int,
                      years: int) -> str:
    """The demo company generated in `company` (or reused when it holds this scale) and its
    four revenue entities loaded into a new workspace `ws`, each step run by `child` and shown
    by `show`; the company's today."""
    meta = company_ready(company, accounts, years)
    if meta is None:
        g = child("generate", "--company", str(company), "--accounts", str(accounts),
                  "--years", str(years))
        show("demo generation (no events)", g["seconds"], g["rss_mb"],
             ", ".join(f"{v:,} {k}" for k, v in g["rows"].items()))
        today = g["today"]
    else:
        today = meta["today"]
        print(f"(demo company reused from {company})")
    loaded = child("load", "--company", str(company), "--workspace", str(ws))
    show("load 4 entities", loaded["seconds"], loaded["rss_mb"], ", ".join(ENTITIES))
    return today


@with_load
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each measured phase; the best is reported")
    parser.add_argument("--money18", action="store_true",
                        help="also measure Quarterdeck with money as DECIMAL(18,2)")
    parser.add_argument("--profile", action="store_true",
                        help="time the engine's building blocks and list its costliest "
                             "operators")
    parser.add_argument("--company", type=Path,
                        help="folder for the demo company, reused when it already holds one "
                             "of this scale (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    for hidden in ("--workspace", "--as-of", "--out"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--accounts", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--years", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return

    accounts, years = SCALES[args.scale]
    root = Path(tempfile.mkdtemp(prefix="qd-metrics-bench-"))
    company = args.company or root / "company"
    ws = root / "ws"
    try:
        print(f"Quarterdeck metrics benchmark, scale {args.scale}: {accounts:,} accounts, "
              f"{years} years, seed {SEED}, {psutil.cpu_count()} cores, "
              f"best of {args.repeat} runs per measured phase")
        print(f"{'phase':<34}{'seconds':>9}{'peak RSS MB':>13}  notes", flush=True)
        today = prepare_workspace(run_child, row, company, ws, accounts, years)

        variants = [("", [])] + ([(" DECIMAL(18,2)", ["--money18"])] if args.money18 else [])
        engine_best = {}
        # The variants take turns, so that a change of machine load hits them alike.
        by_variant: dict = {label: [] for label, _ in variants}
        for _ in range(args.repeat):
            for label, flags in variants:
                by_variant[label].append(
                    run_child("engine", "--workspace", str(ws), "--as-of", today, *flags))
        for label, _ in variants:
            runs = by_variant[label]
            for kind in ("cold", "warm"):
                secs, rss, note = best_of(runs, kind)
                fastest = min(runs, key=lambda r: r[kind][0])[f"{kind} parts"]
                parts = ", ".join(f"{k} {v[0]:.2f}" for k, v in fastest.items())
                row(f"quarterdeck{label} {kind}", secs, rss, f"{note}; {parts}")
                engine_best[label, kind] = secs
            counts = runs[0]["warm parts"]
        rows_note = ", ".join(f"{counts[k][1]:,} {k} rows"
                              for k in ("movements", "bridge", "retention"))
        print(f"{'':<34}{'':>22}  {rows_note}")

        runs = [run_child("pandas", "--workspace", str(ws), "--as-of", today)
                for _ in range(args.repeat)]
        read, read_rss, read_note = best_of(runs, "read")
        row("pandas read tables", read, read_rss, read_note)
        compute, compute_rss, compute_note = best_of(runs, "compute")
        row("pandas compute", compute, compute_rss, compute_note)
        secs, rss, note = best_of(runs, "compute daily")
        row("pandas compute, daily table", secs, rss,
            f"{note}; bridge and retention read from every account-day")
        if runs[0]["rows"] != {k: counts[k][1] for k in runs[0]["rows"]}:
            print(f"  row counts differ: pandas {runs[0]['rows']}")

        # Whole processes, timed from outside, taking turns.
        exports, script = [], []
        for _ in range(args.repeat):
            exports.append(cli_exports(ws, today, root))
            script.append(timed_child("pandas-process", "--workspace", str(ws),
                                      "--as-of", today))
        row("quarterdeck export ×3 (CLI)", min(exports), 0,
            "runs " + ", ".join(f"{t:.2f}" for t in exports)
            + "; movements, bridge, retention to Parquet, a process each")
        row("pandas script (process)", min(script), 0,
            "runs " + ", ".join(f"{t:.2f}" for t in script)
            + "; imports, read tables, compute the three")

        print()
        for label, _ in variants:
            cold, warm = engine_best[label, "cold"], engine_best[label, "warm"]
            verdict = "meets" if cold < TARGET_SECONDS else "misses"
            print(f"quarterdeck{label}: cold {cold:.2f} s ({verdict} the "
                  f"{TARGET_SECONDS:.0f} s target), warm {warm:.2f} s")
            for what, ratio in (("pandas compute / quarterdeck warm", compute / warm),
                                ("pandas read + compute / quarterdeck cold",
                                 (read + compute) / cold)):
                faster = (f"quarterdeck {ratio:.1f}x faster" if ratio >= 1
                          else f"pandas {1 / ratio:.1f}x faster")
                print(f"  {what}: {ratio:.2f} ({faster}; target {TARGET_RATIO:.0f})")
        ratio = min(script) / min(exports)
        faster = (f"quarterdeck {ratio:.1f}x faster" if ratio >= 1
                  else f"pandas {1 / ratio:.1f}x faster")
        print(f"  pandas script / quarterdeck export ×3, wall: {ratio:.2f} ({faster})")

        if args.profile:
            for label, flags in variants:
                p = run_child("profile", "--workspace", str(ws), "--as-of", today,
                              "--out", str(root), *flags)
                print(f"\nprofile{label}: building blocks, warm, best of 2")
                for name, (secs, nrows) in p["blocks"].items():
                    print(f"  {name:<32}{secs:>8.2f} s {nrows:>13,} rows")
                for name, (compiled, executed, chars) in p["split"].items():
                    print(f"  {name}: Ibis compile {compiled:.2f} s, DuckDB execution "
                          f"{executed:.2f} s ({chars:,} characters of SQL)")
                if p["variants"]:
                    print("  the engine phase (warm; the variants take turns, best of 3):")
                for name, (secs, every) in p["variants"].items():
                    runs = ", ".join(f"{t:.2f}" for t in every)
                    print(f"    {name:<40}{secs:>8.2f} s   (runs {runs})")
                if p["scans"]:
                    print(f"  account_mrr_daily materialised ({p['scans']['rows']:,} rows), "
                          "scans, best of 3: DECIMAL(38,2) vs DECIMAL(18,2)")
                    for name, (wide, narrow) in p["scans"]["queries"].items():
                        print(f"    {name:<40}{wide:>8.2f} s {narrow:>8.2f} s")
                for name, ops in p["operators"].items():
                    print(f"  costliest operators of {name} (DuckDB profile, seconds, rows):")
                    for secs, nrows, op in ops:
                        print(f"    {secs:>7.2f} {nrows:>13,}  {op}")
    finally:
        if args.keep:
            print(f"kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
