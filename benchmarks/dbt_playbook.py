"""Benchmark of monthly MRR: Quarterdeck against dbt Labs' mrr-playbook run with dbt-duckdb.

    .venv/bin/python benchmarks/dbt_playbook.py --playbook DIR --dbt-utils DIR   # S: 2,000 accounts
    .venv/bin/python benchmarks/dbt_playbook.py --playbook DIR --dbt-utils DIR --scale XL \\
        --company /tmp/qd-company-xl                     # 100,000 accounts, company kept for reuse

`--playbook` is a checkout of github.com/dbt-labs/mrr-playbook; `--dbt-utils` a checkout of
dbt_utils 0.9.x, used as a local package (without it `dbt deps` fetches 0.9.x from the dbt
hub). Neither is ever written to: the playbook is copied to a temporary folder and adapted
there (`ADAPTATIONS`, each with its reason), once as written and once with its one slow join
rewritten for DuckDB (`JOIN_REWRITTEN`; `--join` picks one). dbt runs from a virtualenv of
its own (`--dbt-venv`, created on first use), never the project's.

A demo company (seed 11, no usage events) is loaded into a fresh workspace, as
benchmarks/metrics.py does. Its subscription rows become the playbook's seed
`subscription_periods` (`subscription_periods` below), loaded straight into dbt's DuckDB
file (or by `dbt seed` with `--dbt-seed`). Then, taking turns round after round, best of
`--repeat`:

- Quarterdeck's engine: `mrr_bridge` and `mrr_movements` at month grain, materialised as
  Arrow tables, cold (a new process and connection) and warm (again in that process);
- Quarterdeck's CLI: `quarterdeck export mrr_bridge --grain month` (a whole process);
- dbt: `dbt run` of the playbook's four models (a whole process), with each model's
  execution time from target/run_results.json.

Last, the playbook's `mrr` and Quarterdeck's `account_mrr_daily` on the first day of each
month are compared month by month: total MRR and active customers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
from machine_load import with_load
from metrics import SEED, Peak, phase_generate, phase_load, prepare_workspace, run_script_child
from run import BIN, measure

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from quarterdeck.workspace.workspace import Workspace

SCALES = {"S": (2000, 5), "L": (20000, 5), "XL": (100000, 5)}  # accounts, years
DBT_VENV = Path.home() / ".cache" / "quarterdeck-benchmarks" / "dbt-venv"
# dbt-core 1.12 first; 1.11 where 1.12 cannot be built (its parser package downloads a wheel
# from GitHub while installing). DuckDB is pinned to the project's, so both sides run the
# same engine and the warehouse file dbt writes can be read here.
DBT_REQUIREMENTS = (("dbt-core>=1.12,<1.13", "dbt-duckdb>=1.11,<1.12"),
                    ("dbt-core>=1.11,<1.12", "dbt-duckdb>=1.11,<1.12"))
MODELS = ("util_months", "customer_revenue_by_month", "customer_churn_month", "mrr")
# The types `dbt seed` gives the CSV. DOUBLE, not DECIMAL, matters: customer_churn_month's
# `0::float` is 32-bit in DuckDB, and a union of DECIMAL with FLOAT is FLOAT (cents lost).
SEED_COLUMNS = {"subscription_id": "VARCHAR", "customer_id": "VARCHAR", "start_date": "DATE",
                "end_date": "DATE", "monthly_amount": "DOUBLE"}


# --- the seed: Quarterdeck's subscription rows as the playbook's subscription periods -------


def first_of_month_on_or_after(day: ir.DateValue) -> ir.DateValue:
    """The first day of a month on or after `day` (an Ibis date): 2024-03-01 → 2024-03-01,
    2024-03-02 → 2024-04-01."""
    import ibis

    following = (day.truncate("M") + ibis.interval(months=1)).cast("date")
    return ibis.ifelse(day.day() == 1, day, following)


def subscription_periods(tables: Mapping[str, ir.Table], *, as_of: date,
                         base_currency: str) -> ir.Table:
    """The playbook's seed from Quarterdeck's canonical tables: one period per subscription
    row that is not a trial, started by `as_of`, of an account known then, with
    monthly_amount its MRR in the base currency (`subscription_mrr`, to the cent).

    The playbook reads a period on the first day of each month only (start_date ≤ month <
    end_date), and asks for dates on the first of a month: both dates are moved to the first
    of a month on or after them, which keeps every first of a month a row runs on, and no
    other. A row still running at `as_of` ends the day after (the first day it is not known to
    run), so at the first of the month after as_of's. A row running on no first of a month
    (start and end in one month) is left out: no month of the playbook's would see it.

    Example: 100.00 a month from 2024-01-15 to 2024-04-10 → 2024-02-01 to 2024-05-01, 100.00
    (running on the first of February, March and April).
    """
    from quarterdeck.metrics.dimensions import known_accounts
    from quarterdeck.warehouse.subscription_mrr import subscription_mrr

    rows = subscription_mrr(tables["subscriptions"], tables["fx_rates"], as_of=as_of,
                            base_currency=base_currency)
    rows = rows.join(known_accounts(tables["accounts"], as_of).select("account_id"),
                     "account_id")
    rows = rows.filter(~rows.trial)
    end = rows.end_date.fill_null(as_of + timedelta(days=1))
    periods = rows.select(subscription_id=rows.subscription_id, customer_id=rows.account_id,
                          start_date=first_of_month_on_or_after(rows.start_date),
                          end_date=first_of_month_on_or_after(end),
                          monthly_amount=rows.mrr)
    periods = periods.filter(periods.start_date < periods.end_date)
    return periods.order_by(["customer_id", "start_date", "subscription_id"])


# --- the playbook, adapted in a copy ---------------------------------------------------------


@dataclass(frozen=True)
class Adaptation:
    """One change to a file of the playbook: `old` (found at least once) becomes `new`."""

    path: str
    old: str
    new: str
    why: str


class PlaybookMismatch(ValueError):
    """The playbook checkout does not hold the text an adaptation expects."""


PACKAGE_PINNED = "  - package: dbt-labs/dbt_utils\n    version: 0.8.0"
ADAPTATIONS = (
    Adaptation("dbt_project.yml", "source-paths:", "model-paths:",
               "renamed in dbt 1.0 (read with a deprecation warning by dbt 1.11)"),
    Adaptation("dbt_project.yml", "data-paths:", "seed-paths:",
               "renamed in dbt 1.0 (read with a deprecation warning by dbt 1.11)"),
    Adaptation("dbt_project.yml", "\nseeds:", "\nmodels:\n  +materialized: table\n\nseeds:",
               "the models are views (dbt's default): `dbt run` would only create views and "
               "compute nothing; as tables the work is done by `dbt run`, and timed"),
    Adaptation("models/customer_churn_month.sql", "dateadd(month, 1, date_month)::date",
               "{{ dbt.dateadd('month', 1, 'date_month') }}::date",
               "Snowflake's dateadd(month, …): dbt's cross-database macro instead"),
    Adaptation("models/utils/util_months.sql", "start_date=\"'2018-01-01'\"",
               "start_date=\"cast('2018-01-01' as date)\"",
               "DuckDB does not add an interval to an untyped string literal"),
    Adaptation("models/utils/util_months.sql", "date_trunc('month', current_date)",
               "date_trunc('month', cast('\" ~ var('today') ~ \"' as date))",
               "the month spine ends at the benchmark's as-of date, not at the machine's "
               "date, so that the result does not depend on the day it runs"),
)


def package_adaptation(dbt_utils: Path | None) -> Adaptation:
    """dbt_utils 0.9.x instead of the pinned 0.8.0: from `dbt_utils` (a local checkout) when
    given, else from the dbt hub."""
    why = ("dbt_utils 0.8.x renders its own datediff (date_spine) in Snowflake syntax on DuckDB; "
           "0.9.x calls dbt's, which dbt-duckdb implements; 1.0 removed surrogate_key")
    if dbt_utils is not None:
        return Adaptation("packages.yml", PACKAGE_PINNED, f"  - local: {dbt_utils}", why)
    return Adaptation("packages.yml", PACKAGE_PINNED,
                      '  - package: dbt-labs/dbt_utils\n    version: [">=0.9.0", "<1.0.0"]', why)


# Not needed to run, only to run fast: DuckDB plans the left join on `(month < end_date or
# end_date is null)` as a nested-loop join of every customer-month with every period, whose
# time grows with their product; the same condition with coalesce is a hash join on
# customer_id. The benchmark runs the playbook both ways (`--join`).
JOIN_REWRITTEN = Adaptation(
    "models/customer_revenue_by_month.sql",
    "(customer_months.date_month < subscription_periods.end_date\n"
    "                or subscription_periods.end_date is null)",
    "customer_months.date_month < coalesce(subscription_periods.end_date, 'infinity'::date)",
    "the same condition, which DuckDB runs as a hash join on customer_id instead of a "
    "nested-loop join of every customer-month with every period")
JOINS = {"as written": (), "join rewritten": (JOIN_REWRITTEN,)}


def adapt_project(project: Path, dbt_utils: Path | None,
                  more: tuple[Adaptation, ...] = ()) -> list[Adaptation]:
    """Apply every adaptation, then `more`, to the playbook copy in `project`; the ones
    applied, in order.

    Raises PlaybookMismatch naming the file and the text when one is not found, so that a
    checkout of another version fails clearly rather than running something else.
    """
    applied = []
    for a in (*ADAPTATIONS, package_adaptation(dbt_utils), *more):
        path = project / a.path
        text = path.read_text() if path.exists() else ""
        if a.old not in text:
            raise PlaybookMismatch(f"{a.path}: {a.old!r} not found; is {project} a copy of "
                                   "dbt-labs/mrr-playbook?")
        path.write_text(text.replace(a.old, a.new))
        applied.append(a)
    return applied


def profiles_yml(database: Path) -> str:
    """The dbt profile the playbook names (`playbook`): DuckDB in the file `database`. One
    dbt thread: the four models are a chain; DuckDB itself uses every core."""
    return (f"playbook:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
            f"      path: {database}\n      threads: 1\n")


# --- the comparison ------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthsCompared:
    """How many months both sides agree on, and where they differ most."""

    months: int
    equal_mrr: int
    equal_customers: int
    largest_mrr_difference: tuple[str, Decimal]  # (month, playbook − Quarterdeck)
    largest_customer_difference: tuple[str, int]


def compare_months(quarterdeck: Mapping[str, tuple[Decimal, int]],
                   playbook: Mapping[str, tuple[Decimal, int]]) -> MonthsCompared:
    """Month by month (ISO first days): total MRR and active customers of both sides, a month
    missing on one side counting as 0 and 0 there."""
    months = sorted(set(quarterdeck) | set(playbook))
    zero = (Decimal(0), 0)
    mrr = {m: playbook.get(m, zero)[0] - quarterdeck.get(m, zero)[0] for m in months}
    customers = {m: playbook.get(m, zero)[1] - quarterdeck.get(m, zero)[1] for m in months}
    worst_mrr = max(months, key=lambda m: abs(mrr[m]), default="")
    worst_customers = max(months, key=lambda m: abs(customers[m]), default="")
    return MonthsCompared(
        months=len(months),
        equal_mrr=sum(1 for m in months if mrr[m] == 0),
        equal_customers=sum(1 for m in months if customers[m] == 0),
        largest_mrr_difference=(worst_mrr, mrr.get(worst_mrr, Decimal(0))),
        largest_customer_difference=(worst_customers, customers.get(worst_customers, 0)))


PLAYBOOK_MONTHS = """
    select strftime(date_month, '%Y-%m-%d') as month,
           sum(cast(mrr as decimal(38, 2))) as mrr,
           count(distinct case when is_active then customer_id end) as customers,
           count(*) filter (where is_active) as active_rows
    from mrr where date_month <= ? group by all order by 1"""
PLAYBOOK_SHAPE = """
    select (select count(*) from mrr) as mrr_rows,
           (select count(*) from (select 1 from mrr group by customer_id, date_month
                                  having count(*) > 1)) as months_with_several_rows,
           (select count(*) from customer_churn_month) as churn_rows"""


# --- phases, each run in a child process --------------------------------------------------


def _warehouse(ws_root: Path) -> tuple[Workspace, BaseBackend]:
    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(ws_root)
    return ws, open_warehouse(ws, read_only=True)


def monthly_results(con: BaseBackend, as_of: date, base_currency: str) -> dict[str, int]:
    """The monthly ARR bridge and MRR movements by month, materialised: rows of each."""
    from quarterdeck.metrics.registry import MetricOptions, metric
    from quarterdeck.warehouse.canonical import canonical_tables

    tables = canonical_tables(con)
    month = MetricOptions(as_of=as_of, base_currency=base_currency, grain="month")
    return {name: metric(name, tables, month).to_pyarrow().num_rows
            for name in ("mrr_bridge", "mrr_movements")}


def phase_engine(ws_root: Path, as_of: date) -> dict:
    import quarterdeck.metrics.registry  # noqa: F401  (imports are not measured)

    with Peak() as cold:
        ws, con = _warehouse(ws_root)
        rows = monthly_results(con, as_of, ws.settings.base_currency)
    with Peak() as warm:
        monthly_results(con, as_of, ws.settings.base_currency)
    return {"cold": [cold.seconds, cold.rss_mb], "warm": [warm.seconds, warm.rss_mb],
            "rows": rows}


def phase_seed(ws_root: Path, as_of: date, csv: Path, databases: list[Path]) -> dict:
    """Write the seed CSV from the warehouse, and load it into each of `databases`."""
    import duckdb
    import pyarrow.csv as pacsv

    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.subscription_mrr import check_rates, subscription_mrr

    with Peak() as convert:
        ws, con = _warehouse(ws_root)
        base = ws.settings.base_currency
        tables = canonical_tables(con)
        check_rates(con, subscription_mrr(tables["subscriptions"], tables["fx_rates"],
                                          as_of=as_of, base_currency=base), base)
        periods = subscription_periods(tables, as_of=as_of, base_currency=base).to_pyarrow()
        pacsv.write_csv(periods, csv, pacsv.WriteOptions(quoting_style="needed"))
    out = {"convert": [convert.seconds, convert.rss_mb], "periods": periods.num_rows,
           "customers": len(set(periods["customer_id"].to_pylist())),
           "first start": min(periods["start_date"].to_pylist()).isoformat()}
    columns = ", ".join(f"'{k}': '{v}'" for k, v in SEED_COLUMNS.items())
    for database in databases:
        with Peak() as load:
            db = duckdb.connect(str(database))
            db.execute("create or replace table main.subscription_periods as select * from "
                       f"read_csv(?, header = true, columns = {{{columns}}})", [str(csv)])
            db.close()
        out["load"] = [load.seconds, load.rss_mb]
    return out


def phase_check(ws_root: Path, as_of: date, database: Path) -> dict:
    """Both sides month by month, up to as_of's month: [month, mrr, customers(, rows)]."""
    import duckdb

    from quarterdeck.metrics.registry import MetricOptions, metric
    from quarterdeck.warehouse.canonical import canonical_tables

    ws, con = _warehouse(ws_root)
    daily = metric("account_mrr_daily", canonical_tables(con),
                   MetricOptions(as_of=as_of, base_currency=ws.settings.base_currency))
    firsts = daily.filter(daily.date.day() == 1)
    totals = firsts.group_by("date").agg(mrr=firsts.mrr.sum(),
                                         customers=firsts.customer.cast("int64").sum())
    quarterdeck = [[r["date"].isoformat(), str(r["mrr"]), r["customers"]]
                   for r in totals.order_by("date").to_pyarrow().to_pylist()]
    db = duckdb.connect(str(database), read_only=True)
    playbook = [[m, str(v), c, rows] for m, v, c, rows in
                db.execute(PLAYBOOK_MONTHS, [as_of.replace(day=1)]).fetchall()]
    shape = dict(zip(("mrr rows", "customer-months with several rows", "churn rows"),
                     db.execute(PLAYBOOK_SHAPE).fetchone(), strict=True))
    return {"quarterdeck": quarterdeck, "playbook": playbook, "shape": shape}


PHASES = {"generate", "load", "engine", "seed", "check"}


def child_main(args: argparse.Namespace) -> None:
    as_of = date.fromisoformat(args.as_of) if args.as_of else None
    ws = Path(args.workspace) if args.workspace else None
    databases = [Path(d) for d in args.database or []]
    if args.child == "generate":
        out = phase_generate(Path(args.company), args.accounts, args.years)
    elif args.child == "load":
        out = phase_load(Path(args.company), ws)
    elif args.child == "engine":
        out = phase_engine(ws, as_of)
    elif args.child == "seed":
        out = phase_seed(ws, as_of, Path(args.csv), databases)
    else:
        out = phase_check(ws, as_of, databases[0])
    print("RESULT " + json.dumps(out), flush=True)


# --- dbt: its virtualenv and its runs ------------------------------------------------------


def dbt_executable(venv: Path) -> tuple[Path | None, str]:
    """The `dbt` of `venv`, installing dbt-duckdb there first if needed; (None, why) when it
    cannot be had."""
    dbt = venv / "bin" / "dbt"
    if dbt.exists():
        return dbt, f"reused {venv}"
    if not (venv / "pyvenv.cfg").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    failures = []
    for requirements in DBT_REQUIREMENTS:
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *requirements,
               f"duckdb=={version('duckdb')}"]
        proc = subprocess.run(pip, capture_output=True, text=True)
        if proc.returncode == 0:
            earlier = f" ({'; '.join(failures)})" if failures else ""
            return dbt, f"installed {', '.join(requirements)} in {venv}{earlier}"
        # The cause (e.g. "RuntimeError: failed to download …") rather than pip's summary.
        lines = ([x for x in proc.stderr.splitlines() if "Error:" in x]
                 or [x for x in proc.stderr.splitlines() if "error" in x.lower()])
        failures.append(f"{', '.join(requirements)} failed: "
                        f"{(lines or ['pip failed'])[-1].strip()}")
    return None, "dbt could not be installed: " + "; ".join(failures)


def dbt_versions(dbt: Path) -> str:
    """The versions of dbt-core, dbt-duckdb and DuckDB beside the `dbt` executable."""
    names = ("dbt-core", "dbt-duckdb", "duckdb")
    probe = f"from importlib.metadata import version as v; print(*(v(n) for n in {names!r}))"
    found = subprocess.run([str(dbt.parent / "python"), "-c", probe], capture_output=True,
                           text=True).stdout.split()
    return ", ".join(f"{n} {v}" for n, v in zip(names, found, strict=False))


class Dbt:
    """The adapted playbook in a folder of its own, and dbt commands run on it."""

    def __init__(self, executable: Path, project: Path, as_of: date) -> None:
        self.executable, self.project = executable, project
        self.profiles = project / "profiles"
        self.database = project / "playbook.duckdb"
        # The playbook's "today": the day after as_of, when the month of as_of is complete.
        self.vars = json.dumps({"today": (as_of + timedelta(days=1)).isoformat()})
        self.env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                    "DO_NOT_TRACK": "1", "DBT_LOG_PATH": str(project / "logs")}

    def command(self, *args: str) -> list[str]:
        return [str(self.executable), "--no-use-colors", "--no-version-check", *args,
                "--project-dir", str(self.project), "--profiles-dir", str(self.profiles),
                "--vars", self.vars]

    def measured(self, *args: str) -> tuple[float, float, str]:
        """(seconds, peak RSS MB, output) of `dbt ARGS`; SystemExit with the output on failure."""
        return measure(self.command(*args), env=self.env)

    def run_results(self) -> dict[str, float]:
        """Each model's execution time in the last run, by model name."""
        results = json.loads((self.project / "target" / "run_results.json").read_text())
        return {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results["results"]}


def set_up_dbt(args: argparse.Namespace, root: Path, as_of: date) -> dict[str, Dbt]:
    """The adapted playbook, a copy per join variant asked for (`JOINS`), with dbt installed
    and its packages in place; none (and why, printed) when the dbt side cannot run."""
    if args.playbook is None or not (args.playbook / "dbt_project.yml").exists():
        print(f"dbt side skipped: no mrr-playbook checkout at {args.playbook} (--playbook)")
        return {}
    if args.dbt_utils is not None and not (args.dbt_utils / "dbt_project.yml").exists():
        print(f"dbt side skipped: no dbt_utils checkout at {args.dbt_utils} (--dbt-utils)")
        return {}
    dbt, how = dbt_executable(args.dbt_venv)
    print(f"dbt: {how}")
    if dbt is None:
        print("dbt side skipped")
        return {}
    print(f"dbt: {dbt_versions(dbt)} (Quarterdeck's DuckDB {version('duckdb')})")
    runners = {}
    for name in JOIN_CHOICES[args.join]:
        project = root / f"mrr-playbook-{name.replace(' ', '-')}"
        shutil.copytree(args.playbook, project, ignore=shutil.ignore_patterns(
            ".git", "target", "dbt_modules", "dbt_packages", "logs"))
        try:
            applied = adapt_project(project, args.dbt_utils, JOINS[name])
        except PlaybookMismatch as mismatch:
            print(f"dbt side skipped: {mismatch}")
            return {}
        shown = applied[len(applied) - len(JOINS[name]):] if runners else applied
        print(f"playbook adapted in a copy, {name}:" + ("" if shown else " as above"))
        for a in shown:
            print(f"  {a.path}: {a.old.strip()!r} → {a.new.strip()!r}")
        runner = Dbt(dbt, project, as_of)
        runner.profiles.mkdir()
        (runner.profiles / "profiles.yml").write_text(profiles_yml(runner.database))
        try:
            seconds, rss, _ = runner.measured("deps")
        except SystemExit as failed:
            print(f"dbt side skipped: dbt deps failed\n{tail(failed)}")
            return {}
        row(f"dbt deps, {name}", seconds, rss, str(args.dbt_utils or "from the dbt hub"))
        runners[name] = runner
    return runners


JOIN_CHOICES = {"both": tuple(JOINS), "as-written": ("as written",),
                "rewritten": ("join rewritten",)}


# --- the parent: runs the phases and reports ------------------------------------------------


def run_child(*args: str) -> dict:
    return run_script_child(Path(__file__), *args)


def row(name: str, seconds: float, rss_mb: float, note: str = "") -> None:
    print(f"{name:<36}{seconds:>9.2f}{rss_mb:>13.0f}  {note}", flush=True)


def best(runs: list[list[float]]) -> tuple[float, float, str]:
    """The fastest of [seconds, rss] runs, its RSS, and every time."""
    fastest = min(runs, key=lambda r: r[0])
    return fastest[0], fastest[1], "runs " + ", ".join(f"{r[0]:.2f}" for r in runs)


def tail(text: str, lines: int = 12) -> str:
    return "\n".join("    " + x for x in str(text).strip().splitlines()[-lines:])


def report_check(check: dict, as_of: date, name: str) -> None:
    quarterdeck = {m: (Decimal(v), c) for m, v, c in check["quarterdeck"]}
    playbook = {m: (Decimal(v), c) for m, v, c, _ in check["playbook"]}
    compared = compare_months(quarterdeck, playbook)
    (mrr_month, mrr_diff), (count_month, count_diff) = (compared.largest_mrr_difference,
                                                        compared.largest_customer_difference)
    print(f"\nequality, {name}, months up to {as_of:%Y-%m} (the playbook's mrr against "
          "Quarterdeck's account_mrr_daily on the first day of each month):")
    print(f"  total MRR equal in {compared.equal_mrr} of {compared.months} months; largest "
          f"difference " + (f"{mrr_diff:+,.2f} ({mrr_month})" if mrr_diff else "none"))
    print(f"  active customers equal in {compared.equal_customers} of {compared.months} "
          f"months; largest difference " + (f"{count_diff:+,} ({count_month})" if count_diff
                                            else "none"))
    active_rows = {m: rows for m, _, _, rows in check["playbook"]}
    extra = sum(active_rows[m] - playbook[m][1] for m in active_rows)
    shape = check["shape"]
    print(f"  playbook: {shape['mrr rows']:,} mrr rows, {shape['churn rows']:,} churn rows; "
          f"{shape['customer-months with several rows']:,} customer-months with several rows "
          f"({extra:,} active rows more than active customers over these months)")
    if check["quarterdeck"]:
        last = check["quarterdeck"][-1]
        print(f"  {last[0]}: Quarterdeck {Decimal(last[1]):,.2f} MRR, {last[2]:,} customers")


def seed_playbooks(args: argparse.Namespace, runners: dict[str, Dbt], ws: Path,
                   today: str, root: Path) -> None:
    """Write the seed, load it into every copy's database (or `dbt seed` it) and parse each
    project; a copy whose seed or parse fails is dropped from `runners`, saying why."""
    csv = root / "subscription_periods.csv"
    direct = [] if args.dbt_seed else [
        x for r in runners.values() for x in ("--database", str(r.database))]
    seed = run_child("seed", "--workspace", str(ws), "--as-of", today, "--csv", str(csv),
                     *direct)
    row("seed: subscription rows to CSV", *seed["convert"],
        f"{seed['periods']:,} periods of {seed['customers']:,} customers, first start "
        f"{seed['first start']}")
    if not args.dbt_seed:
        row("seed: DuckDB read_csv into dbt's file", *seed["load"], "each copy")
    for name, runner in list(runners.items()):
        shutil.copy(csv, runner.project / "data" / "subscription_periods.csv")
        try:
            if args.dbt_seed:
                row(f"seed: dbt seed, {name}", *runner.measured("seed")[:2])
            row(f"dbt parse, {name}", *runner.measured("parse")[:2], "not compared")
        except SystemExit as failed:
            print(f"dbt {name} skipped: the seed or the parse failed\n{tail(failed)}")
            del runners[name]


def measured_rounds(repeat: int, ws: Path, today: str, root: Path,
                    runners: dict[str, Dbt]) -> tuple[list, list, dict[str, list]]:
    """`repeat` rounds of Quarterdeck's engine, its CLI and each dbt copy's `dbt run`, taking
    turns so that a change of machine load hits them alike."""
    engine, cli = [], []
    dbt_runs: dict[str, list] = {name: [] for name in runners}
    for _ in range(repeat):
        engine.append(run_child("engine", "--workspace", str(ws), "--as-of", today))
        cli.append(list(measure([str(BIN), "export", "mrr_bridge", "--grain", "month",
                                 "--as-of", today, "--workspace", str(ws), "--out",
                                 str(root / "mrr_bridge.csv")])[:2]))
        for name, runner in list(runners.items()):
            try:
                seconds, rss, _ = runner.measured("run")
                dbt_runs[name].append(([seconds, rss], runner.run_results()))
            except SystemExit as failed:
                print(f"dbt run, {name}, failed\n{tail(failed)}")
                del runners[name]
    return engine, cli, dbt_runs


def report_times(engine: list, cli: list, dbt_runs: dict[str, list]) -> None:
    rows = engine[0]["rows"]
    kinds = {}
    for kind in ("cold", "warm"):
        kinds[kind], rss, note = best([r[kind] for r in engine])
        row(f"quarterdeck engine {kind}", kinds[kind], rss, note)
    print(f"{'':<58}{rows['mrr_bridge']:,} bridge rows, {rows['mrr_movements']:,} "
          "movement rows")
    cli_seconds, rss, note = best(cli)
    row("quarterdeck export mrr_bridge", cli_seconds, rss, f"{note}; the whole command")
    for name, runs in dbt_runs.items():
        if not runs:
            continue
        dbt_seconds, rss, note = best([r[0] for r in runs])
        row(f"dbt run, {name}", dbt_seconds, rss, f"{note}; the whole command")
        models = min(runs, key=lambda r: r[0][0])[1]
        for model in MODELS:
            print(f"  {model:<34}{models.get(model, float('nan')):>9.2f}")
        in_models = sum(models.values())
        print(f"  {'models together':<34}{in_models:>9.2f}")
        for what, ratio in (
                ("dbt run / quarterdeck export (whole commands)", dbt_seconds / cli_seconds),
                ("dbt models / quarterdeck engine warm", in_models / kinds["warm"]),
                ("dbt models / quarterdeck engine cold", in_models / kinds["cold"])):
            faster = (f"Quarterdeck {ratio:.1f}x faster" if ratio >= 1
                      else f"dbt {1 / ratio:.1f}x faster")
            print(f"  {what}: {ratio:.2f} ({faster})")


@with_load
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--playbook", type=Path, help="a checkout of dbt-labs/mrr-playbook")
    parser.add_argument("--dbt-utils", type=Path,
                        help="a checkout of dbt_utils 0.9.x, used as a local package "
                             "(default: `dbt deps` from the dbt hub)")
    parser.add_argument("--dbt-venv", type=Path, default=DBT_VENV,
                        help="virtualenv for dbt-duckdb, created when missing "
                             "(default: %(default)s)")
    parser.add_argument("--join", choices=JOIN_CHOICES, default="both",
                        help="run the playbook as written, with its one slow join rewritten "
                             "for DuckDB, or both (default)")
    parser.add_argument("--dbt-seed", action="store_true",
                        help="load the seed with `dbt seed` (timed) instead of DuckDB's "
                             "read_csv")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each measured phase; the best is reported")
    parser.add_argument("--company", type=Path,
                        help="folder for the demo company, reused when it already holds one "
                             "of this scale (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    for hidden in ("--workspace", "--as-of", "--csv"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--database", action="append", help=argparse.SUPPRESS)
    parser.add_argument("--accounts", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--years", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    for name in ("playbook", "dbt_utils", "company"):
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())

    accounts, years = SCALES[args.scale]
    root = Path(tempfile.mkdtemp(prefix="qd-dbt-bench-"))
    company = args.company or root / "company"
    ws = root / "ws"
    try:
        print(f"Monthly MRR, Quarterdeck against the dbt mrr-playbook, scale {args.scale}: "
              f"{accounts:,} accounts, {years} years, seed {SEED}, {psutil.cpu_count()} cores, "
              + (f"best of {args.repeat} runs" if args.repeat > 1 else "one run")
              + " per measured phase")
        print(f"{'phase':<36}{'seconds':>9}{'peak RSS MB':>13}  notes", flush=True)
        today = prepare_workspace(run_child, row, company, ws, accounts, years)
        runners = set_up_dbt(args, root, date.fromisoformat(today))
        if runners:
            seed_playbooks(args, runners, ws, today, root)
        engine, cli, dbt_runs = measured_rounds(args.repeat, ws, today, root, runners)
        report_times(engine, cli, dbt_runs)
        for name, runner in runners.items():
            check = run_child("check", "--workspace", str(ws), "--as-of", today,
                              "--database", str(runner.database))
            report_check(check, date.fromisoformat(today), name)
    finally:
        if args.keep:
            print(f"kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
