"""Benchmark of running the book: lifecycle stages, signals, playbooks, alerts and tasks.

    .venv/bin/python benchmarks/operations.py              # scale S: 2,000 accounts, 3 years
    .venv/bin/python benchmarks/operations.py --scale M    # 20,000 accounts, about 100M events

A demo company is generated, loaded and run once through the documented CLI (`quarterdeck
demo`, `load`, `run --as-of` the demo's today), which materialises `account_usage_daily` and
`account_daily` and saves the churn model. The health scores of today and the day before,
and today's churn risk, are computed once in a process of their own. Then, each in its own
process, with the days D1 = today - 1 and D2 = today:

- evaluate book: `evaluate_book` as of D2 materialised to Arrow as `operations_stage` does
  it: the stages once, then the signals and playbook triggers read from them
  (`book_from_stages`); the same as of D1, untimed, gives the first day's input;
- publish first day: `publish_operations` of D1 into a fresh app database (everything new);
- publish next day: `publish_operations` of D2 into that database (the steady state: most
  alerts seen again, few opened or resolved);
- operations stage: the pipeline's `operations_stage` as of D2 (evaluation, Arrow, publish)
  into a copy of the database as it stood after D1, as `quarterdeck run` does every day;
- evaluate lazy, when named in `--phases`: the three tables of `evaluate_book` each
  materialised from the canonical tables, so the facts are computed three times (what the
  pipeline did before it materialised the stages).

Each phase prints the process's wall time, the time of the measured call inside it, its peak
RSS (the process and its children, sampled every 50 ms) and a same-process baseline: a plain
DuckDB `GROUP BY account_id` count over every warehouse table the book reads, timed before
and after the call; the ratio (call / baseline, higher is slower) holds its meaning on a
shared machine, as does the call's CPU time (all threads). Target: each phase under 10 s at
20,000 accounts on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil
from run import BIN, measure

SCALES = {"S": 2000, "M": 20000}  # accounts
YEARS = 3
TARGET_SECONDS = 10.0
#: Warehouse tables the book reads; the baseline counts each one's rows per account.
BASELINE_TABLES = ("accounts", "subscriptions", "invoices", "contacts", "activities",
                   "tickets", "account_usage_daily", "account_daily")
BOOK_FILES = ("stages", "fired", "triggers", "team")


@dataclass(frozen=True)
class Bench:
    """A benchmark workspace: the company's days and where each phase reads and writes."""

    root: Path
    today: date

    @property
    def ws(self) -> Path:
        return self.root / "ws"

    @property
    def days(self) -> tuple[date, date]:
        return self.today - timedelta(days=1), self.today

    def book_dir(self, day: date) -> Path:
        return self.root / "book" / day.isoformat()

    def inputs(self, kind: str, day: date) -> Path:
        return self.root / "inputs" / f"{kind}-{day.isoformat()}.parquet"

    def app_db(self, name: str) -> Path:
        return self.root / "app" / f"{name}.db"


def prepare(root: Path, accounts: int, years: int = YEARS) -> tuple[Bench, list[tuple]]:
    """Generate, load and run the demo company in `root` through the CLI; returns the
    workspace and the measured setup rows (name, seconds, peak RSS MB, note)."""
    company = root / "company"
    subprocess.run([BIN, "init", root / "ws"], check=True, capture_output=True)
    rows = []
    secs, rss, _ = measure([BIN, "demo", "--out", company, "--accounts", str(accounts),
                            "--years", str(years)])
    meta = json.loads((company / "demo.json").read_text())
    events = sum(v for k, v in meta["rows"].items() if Path(k).name.startswith("events"))
    rows.append(("demo generation", secs, rss, f"{events:,} events"))
    bench = Bench(root, date.fromisoformat(meta["today"]))
    secs, rss, _ = measure([BIN, "load", company / "data", "--workspace", bench.ws])
    rows.append(("load", secs, rss, ""))
    secs, rss, _ = measure([BIN, "run", "--as-of", meta["today"], "--workspace", bench.ws])
    rows.append(("quarterdeck run", secs, rss, "daily tables, health, churn model, publish"))
    return bench, rows


def run_phase(bench: Bench, name: str) -> tuple[float, float, dict[str, Any]]:
    """Run phase `name` in a process of its own: (wall seconds, peak RSS MB, its figures)."""
    secs, rss, out = measure([sys.executable, __file__, "--phase", name, "--root", bench.root,
                              "--today", bench.today.isoformat()])
    return secs, rss, json.loads(out.strip().splitlines()[-1])


def copy_app_db(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite app database (its write-ahead log included)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


# Phases: each runs in a fresh process (`--phase`) and returns its figures as JSON.

def _open(bench: Bench) -> tuple[Any, Any, dict]:
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(bench.ws)
    con = open_warehouse(ws)
    return ws, con, canonical_tables(con)


def _baseline(con: Any, tables: dict) -> float:
    """Seconds of a plain GROUP BY account_id count over each table the book reads."""
    present = set(con.list_tables())
    started = time.perf_counter()
    for name in BASELINE_TABLES:
        t = tables[name] if name in tables else con.table(name) if name in present else None
        if t is not None:
            con.to_pyarrow(t.group_by("account_id").agg(n=t.count()))
    return time.perf_counter() - started


def _timed(con: Any, tables: dict, call: Any) -> tuple[Any, dict[str, float]]:
    """Run `call()` between two baselines; its result and the seconds of each."""
    before = _baseline(con, tables)
    started, cpu = time.perf_counter(), time.process_time()
    result = call()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = _baseline(con, tables)
    return result, {"seconds": seconds, "cpu_s": cpu, "baseline_s": (before + after) / 2}


def _day_inputs(bench: Bench, ws: Any, con: Any, tables: dict) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from quarterdeck.health.churn_risk import churn_risk
    from quarterdeck.health.model_store import NoSavedModel, churn_models_dir, load_model
    from quarterdeck.pipeline import health_stage

    usage = con.table("account_usage_daily")
    try:  # trained by `quarterdeck run` as of D2; a tiny company may have none
        model = load_model(churn_models_dir(ws.data_dir))
    except NoSavedModel:
        model = None
    bench.inputs("health", bench.today).parent.mkdir(parents=True, exist_ok=True)
    figures = {}
    for day in bench.days:
        health = health_stage(ws, tables, day, usage)
        pq.write_table(health, bench.inputs("health", day))
        figures[day.isoformat()] = {"health": health.num_rows}
    if model is not None:
        churn = churn_risk(tables, as_of=bench.today, base_currency=ws.settings.base_currency,
                           model=model, usage=usage, window_days=ws.settings.churn.window_days)
        # A model of today may not score yesterday (it would look ahead): yesterday's book
        # takes today's probabilities, which move little in a day.
        for day in bench.days:
            pq.write_table(churn, bench.inputs("churn", day))
        figures["churn"] = churn.num_rows
    return figures


def _read_inputs(bench: Bench, day: date) -> tuple[Any, Any]:
    """The day's health scores and churn risk (None without a churn model)."""
    import pyarrow.parquet as pq

    churn = bench.inputs("churn", day)
    return (pq.read_table(bench.inputs("health", day)),
            pq.read_table(churn) if churn.exists() else None)


def _evaluate(bench: Bench, day: date, ws: Any, con: Any, tables: dict, *,
              lazy: bool = False) -> dict[str, Any]:
    """The book of `day` to Arrow as operations_stage does it: the stages materialised once,
    the signals and triggers read from them (`book_from_stages`); `lazy`: each of the three
    computed from the canonical tables (the facts three times), to compare."""
    import ibis
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from quarterdeck.lifecycle.book import book_from_stages, evaluate_book

    health, churn = _read_inputs(bench, day)

    def evaluate() -> dict[str, Any]:
        book = evaluate_book(
            tables, ws.book, as_of=day, base_currency=ws.settings.base_currency,
            tiers=[(t.name, t.min_arr) for t in ws.tiers.tiers],
            health=ibis.memtable(health.select(["account_id", "score", "band", "change_7d",
                                                "change_30d"])),
            churn=None if churn is None else ibis.memtable(churn.select(
                ["account_id", "churn_probability", "churn_probability_window"])),
            daily=con.table("account_daily"), usage=con.table("account_usage_daily"))
        stages = con.to_pyarrow(book.stages)
        if not lazy:
            book = book_from_stages(ibis.memtable(stages), ws.book, team=tables["team"])
        return {"stages": stages, "fired": con.to_pyarrow(book.fired),
                "triggers": con.to_pyarrow(book.triggers),
                "team": con.to_pyarrow(tables["team"])}

    out, figures = _timed(con, tables, evaluate)
    folder = bench.book_dir(day)
    folder.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        pq.write_table(out[name], folder / f"{name}.parquet")
    stages = out["stages"]
    by_stage = pc.value_counts(stages["stage"]).to_pylist()
    return {**figures, "accounts": stages.num_rows, "fired": out["fired"].num_rows,
            "triggers": out["triggers"].num_rows,
            "stages": {r["values"]: r["counts"] for r in by_stage}}


def _counts(result: Any) -> dict[str, int]:
    return {k: getattr(result, k) for k in (
        "stages", "alerts_opened", "alerts_resolved", "playbooks_started",
        "playbooks_cancelled", "tasks_created", "tasks_done")}


def _app_totals(engine: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from quarterdeck.appdb.operations_models import Alert, PlaybookRun, Task

    with engine.connect() as db:
        return {"live_alerts": db.scalar(select(func.count()).select_from(Alert).where(
                    Alert.state.in_(("open", "acknowledged")))),
                "active_runs": db.scalar(select(func.count()).select_from(PlaybookRun).where(
                    PlaybookRun.state == "active")),
                "open_tasks": db.scalar(select(func.count()).select_from(Task).where(
                    Task.state == "open"))}


def _engine(path: Path) -> Any:
    from quarterdeck.appdb.database import make_engine, migrate

    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)  # the schema is there before the clock starts, as in `quarterdeck run`
    return engine


def _publish(bench: Bench, day: date, db: Path, ws: Any, con: Any,
             tables: dict) -> dict[str, Any]:
    import ibis
    import pyarrow.parquet as pq

    from quarterdeck.appdb.publish_operations import publish_operations
    from quarterdeck.playbooks.evidence import task_evidence

    book = {n: pq.read_table(bench.book_dir(day) / f"{n}.parquet") for n in BOOK_FILES}
    engine = _engine(db)

    def evidence(open_tasks: Any) -> Any:
        return con.to_pyarrow(task_evidence(tables, ibis.memtable(open_tasks), as_of=day))

    result, figures = _timed(con, tables, lambda: publish_operations(
        engine, as_of=day, stages=book["stages"], fired=book["fired"],
        triggers=book["triggers"], team=book["team"], signals=ws.book.signals,
        playbooks=ws.book.playbooks, milestone_names=ws.book.milestone_names,
        evidence=evidence))
    totals = _app_totals(engine)
    engine.dispose()
    return {**figures, **_counts(result), **totals, "fired": book["fired"].num_rows}


def _operations_stage(bench: Bench, db: Path, ws: Any, con: Any,
                      tables: dict) -> dict[str, Any]:
    from quarterdeck.pipeline import operations_stage

    day = bench.today
    health, churn = _read_inputs(bench, day)
    engine = _engine(db)
    result, figures = _timed(con, tables, lambda: operations_stage(
        ws, con, tables, day, engine, health=health, churn=churn,
        daily=con.table("account_daily"), usage=con.table("account_usage_daily")))
    totals = _app_totals(engine)
    engine.dispose()
    return {**figures, **_counts(result), **totals}


def phase(name: str, bench: Bench) -> dict[str, Any]:
    """Run one phase in this process; returns its figures."""
    ws, con, tables = _open(bench)
    first, second = bench.days
    if name == "inputs":
        return _day_inputs(bench, ws, con, tables)
    if name == "evaluate_first":
        return _evaluate(bench, first, ws, con, tables)
    if name == "evaluate_book":
        return _evaluate(bench, second, ws, con, tables)
    if name == "evaluate_lazy":
        return _evaluate(bench, second, ws, con, tables, lazy=True)
    if name == "publish_first_day":
        bench.app_db("book").parent.mkdir(parents=True, exist_ok=True)
        bench.app_db("book").unlink(missing_ok=True)
        return _publish(bench, first, bench.app_db("book"), ws, con, tables)
    if name == "publish_next_day":
        return _publish(bench, second, bench.app_db("book"), ws, con, tables)
    if name == "operations_stage":
        return _operations_stage(bench, bench.app_db("stage"), ws, con, tables)
    raise SystemExit(f"unknown phase {name!r}")


# The runner.

def _print(name: str, secs: float, rss: float, note: str, inner: str = "") -> None:
    print(f"{name:<22}{secs:>8.1f}{inner:>9}{rss:>9.0f}  {note}", flush=True)


def _note(name: str, f: dict[str, Any]) -> str:
    ratio = (f"CPU {f['cpu_s']:.1f} s, ×{f['seconds'] / f['baseline_s']:.1f} baseline "
             f"({f['baseline_s']:.2f} s)")
    if name.startswith("evaluate"):
        stages = ", ".join(f"{k} {v:,}" for k, v in sorted(f["stages"].items(),
                                                          key=lambda kv: -kv[1]))
        return (f"{ratio}; {f['accounts']:,} accounts ({stages}); {f['fired']:,} signals "
                f"fired; {f['triggers']:,} playbook triggers")
    seen = f"{f['fired'] - f['alerts_opened']:,} re-seen or held back, " if "fired" in f else ""
    return (f"{ratio}; {f['stages']:,} stages; alerts {f['alerts_opened']:,} opened, {seen}"
            f"{f['alerts_resolved']:,} resolved; runs {f['playbooks_started']:,} started, "
            f"{f['playbooks_cancelled']:,} cancelled; tasks {f['tasks_created']:,} created, "
            f"{f['tasks_done']:,} done; now {f['live_alerts']:,} live alerts, "
            f"{f['active_runs']:,} active runs, {f['open_tasks']:,} open tasks")


PHASES = ("evaluate_book", "publish_first_day", "publish_next_day", "operations_stage",
          "evaluate_lazy")
DEFAULT_PHASES = PHASES[:-1]  # evaluate_lazy, a comparison, runs when named


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    parser.add_argument("--reuse", type=Path, help="a workspace root kept by --keep: skip "
                        "generating, loading and running the company")
    parser.add_argument("--phases", default=",".join(DEFAULT_PHASES),
                        help=f"the measured phases to run, comma-separated, of {PHASES}")
    parser.add_argument("--phase", help=argparse.SUPPRESS)  # a child process runs one phase
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--today", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, Bench(args.root, args.today)), default=str))
        return
    accounts, scale, years = SCALES[args.scale], args.scale, YEARS
    root = args.reuse or Path(tempfile.mkdtemp(prefix="qd-bench-ops-"))
    if args.reuse:
        meta = json.loads((root / "company" / "demo.json").read_text())
        accounts, scale, years = meta["accounts"], "of the kept workspace", meta["years"]
    load = psutil.getloadavg()
    print(f"Quarterdeck operations benchmark, scale {scale}: {accounts:,} accounts, "
          f"{years} years, {psutil.cpu_count()} cores, load average {load[0]:.1f} "
          f"{load[1]:.1f} {load[2]:.1f} at the start")
    print(f"{'phase':<22}{'wall s':>8}{'call s':>9}{'RSS MB':>9}  figures", flush=True)
    try:
        if args.reuse:
            today = json.loads((root / "company" / "demo.json").read_text())["today"]
            bench = Bench(root, date.fromisoformat(today))
        else:
            bench, rows = prepare(root, accounts)
            for row in rows:
                _print(*row)
        done = {"inputs": bench.inputs("health", bench.today),
                "evaluate_first": bench.book_dir(bench.days[0]) / "stages.parquet"}
        for name in ("inputs", "evaluate_first"):
            if args.reuse and done[name].exists():
                continue  # a kept workspace has them already
            secs, rss, figures = run_phase(bench, name)
            _print(name.replace("_", " "), secs, rss, "setup: health of both days, churn risk "
                   "of today" if name == "inputs" else f"setup: the book of {bench.days[0]}")
        worst = 0.0
        for name in [p for p in PHASES if p in args.phases.split(",")]:
            if name == "operations_stage":
                copy_app_db(bench.app_db("after_first_day"), bench.app_db("stage"))
            secs, rss, figures = run_phase(bench, name)
            if name == "publish_first_day":
                copy_app_db(bench.app_db("book"), bench.app_db("after_first_day"))
            if name != "evaluate_lazy":  # a comparison, not a step of the pipeline
                worst = max(worst, figures["seconds"])
            _print(name.replace("_", " "), secs, rss, _note(name, figures),
                   f"{figures['seconds']:.1f}")
        load = psutil.getloadavg()
        verdict = "within" if worst <= TARGET_SECONDS else "over"
        print(f"slowest call {worst:.1f} s: {verdict} the {TARGET_SECONDS:.0f} s target; "
              f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end", flush=True)
    finally:
        if args.keep or args.reuse:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
