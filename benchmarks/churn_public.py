"""Churn risk on a real, public churn data set: 7,043 telecom subscription customers with
contract, tenure, monthly charges and 16 service and billing attributes, and no product usage,
tickets or surveys (the IBM sample "Telco customer churn", Telco-Customer-Churn.csv, published
in many public repositories; it is not shipped here, pass its path).

    .venv/bin/python benchmarks/churn_public.py PATH/Telco-Customer-Churn.csv [--window 180]

The file is laid out in the data contract as a company whose data ends on END:
- accounts.csv: one account per customer, every attribute a custom column (gender,
  SeniorCitizen, Partner, Dependents, PhoneService, MultipleLines, InternetService,
  OnlineSecurity, OnlineBackup, DeviceProtection, TechSupport, StreamingTV, StreamingMovies,
  PaperlessBilling, PaymentMethod);
- subscriptions.csv: month-to-month customers one monthly row from their start; one- and
  two-year customers one row per term (12 or 24 months), the last term holding END or ending
  on the churn date; the price per interval is MonthlyCharges × interval; plan is the
  internet service and contract;
- the churned customers' churn dates are spread uniformly over the two years before END
  (seeded); each starts `tenure` months before its churn date (whole terms for contracts), a
  retained one `tenure` months before END. A churn is known on its day (no notice).

Measured as the check measures it: as of T = END − window days, Quarterdeck's churn risk within
the window (`churn_risk`, window_days = window) ranks the customers paying on T by who stops
paying in the window (AUC), against a plain logistic regression on the same observable columns
(term, ARR, tenure, days to renewal, every attribute one-hot) trained on the window before T.
Target: within 0.03 AUC of the plain model. Prints both, the model card's left-out features,
the load average and the time of each step.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

END = date(2026, 6, 30)
SPREAD_DAYS = 730
SEED = 7
TERMS = {"Month-to-month": 1, "One year": 12, "Two year": 24}
ATTRIBUTES = ("gender", "SeniorCitizen", "Partner", "Dependents", "PhoneService",
              "MultipleLines", "InternetService", "OnlineSecurity", "OnlineBackup",
              "DeviceProtection", "TechSupport", "StreamingTV", "StreamingMovies",
              "PaperlessBilling", "PaymentMethod")


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (clamped to the month's last day)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(y, m, d)
        except ValueError:
            continue
    raise AssertionError


def lay_out(source: Path, out: Path, *, end: date = END, seed: int = SEED) -> dict[str, int]:
    """Write accounts.csv and subscriptions.csv for the customers of `source` into `out`."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    accounts, subs = [], []
    counts = {"customers": 0, "churned": 0}
    with source.open(newline="") as fh:
        for row in csv.DictReader(fh):
            cid, tenure = row["customerID"], max(int(row["tenure"]), 1)
            term = TERMS[row["Contract"]]
            churned = row["Churn"] == "Yes"
            counts["customers"] += 1
            counts["churned"] += churned
            last = end - timedelta(days=rng.randrange(SPREAD_DAYS)) if churned else None
            terms = -(-tenure // term)  # whole terms for a contract, months for monthly
            start = months_before(last, terms * term) if churned else months_before(end, tenure)
            accounts.append({"account_id": cid, "name": f"Customer {cid}",
                             "created_at": f"{start.isoformat()}T00:00:00",
                             **{a: row[a] for a in ATTRIBUTES}})
            price = f"{float(row['MonthlyCharges']) * term:.2f}"
            plan = f"{row['InternetService']} {row['Contract']}".replace("No ", "No internet ")
            base = {"account_id": cid, "plan": plan, "quantity": "1", "unit_price": price,
                    "currency": "USD", "interval_months": term, "discount": "0"}
            if term == 1:
                subs.append({**base, "subscription_id": f"{cid}-1", "start_date": start,
                             "end_date": last or "", "canceled_at":
                             f"{last.isoformat()}T00:00:00" if last else ""})
                continue
            begin, n = start, 0
            while True:
                n += 1
                finish = months_before(begin, -term)
                ends_churn = churned and finish >= last
                subs.append({**base, "subscription_id": f"{cid}-{n}", "start_date": begin,
                             "end_date": finish, "contract_id": f"{cid}-k{n}",
                             "auto_renew": "true",
                             "canceled_at": f"{finish.isoformat()}T00:00:00" if ends_churn
                             else ""})
                if ends_churn or finish > end:
                    break
                begin = finish
    for name, rows in (("accounts", accounts), ("subscriptions", subs)):
        columns = list(dict.fromkeys(k for r in rows for k in r))
        with (out / f"{name}.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, columns)
            writer.writeheader()
            writer.writerows(rows)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path, help="Telco-Customer-Churn.csv")
    parser.add_argument("--window", type=int, default=180, help="days (default 180)")
    parser.add_argument("--keep", type=Path, help="keep the workspace in this folder")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the churn dates")
    args = parser.parse_args()

    from typer.testing import CliRunner

    from quarterdeck.cli.main import app
    from quarterdeck.health.churn_risk import churn_risk
    from quarterdeck.health.validation import auc
    from quarterdeck.testing.churn_baseline import plain_logistic_auc
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import connect

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    root = args.keep or Path(tempfile.mkdtemp(prefix="churn-public-"))
    started = time.perf_counter()
    counts = lay_out(args.csv, root / "company", seed=args.seed)
    print(f"laid out {counts['customers']:,} customers ({counts['churned']:,} churned over "
          f"{SPREAD_DAYS} days before {END}) in {time.perf_counter() - started:.1f} s")
    runner = CliRunner()
    for cli in (["init", str(root / "ws")],
                ["load", str(root / "company"), "--workspace", str(root / "ws")]):
        result = runner.invoke(app, cli, catch_exceptions=False)
        if result.exit_code != 0:
            raise SystemExit(result.output)
    con = connect(f"duckdb:///{root / 'ws' / 'data' / 'warehouse.duckdb'}")
    tables = canonical_tables(con)
    test_day = END - timedelta(days=args.window)
    t0 = time.perf_counter()
    plain, churned = plain_logistic_auc(tables, test_day - timedelta(days=args.window),
                                        test_day, args.window)
    t1 = time.perf_counter()
    risk = churn_risk(tables, as_of=test_day, base_currency="USD", window_days=args.window)
    t2 = time.perf_counter()
    ours = dict(zip(risk["account_id"].to_pylist(), risk["churn_probability_window"].to_pylist(),
                    strict=True))
    ids = sorted(a for a in churned if a in ours)
    y = np.array([churned[a] for a in ids])
    ours_auc = auc(y, np.array([ours[a] for a in ids]))
    print(f"as of {test_day}: {len(ids):,} paying customers, {int(y.sum()):,} stop paying in "
          f"the next {args.window} days")
    print(f"plain logistic (trained on the {args.window} days before): AUC {plain:.3f} "
          f"({t1 - t0:.1f} s)")
    print(f"Quarterdeck churn risk within {args.window} days:        AUC {ours_auc:.3f} "
          f"({t2 - t1:.1f} s)")
    print(f"difference: {ours_auc - plain:+.3f} (target: no worse than -0.030)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
