"""A synthetic app database for the web benchmark: a company of N accounts and 40 CSMs, published
day after day through the real publish functions, as `quarterdeck run` leaves it, without the
warehouse (seeded: the same arguments build the same database).

For each of the last `days` days: the account snapshot with 24 months of ARR history per
account that ever paid (`publish_snapshot`), health scores with eight components and churn risk
(`publish_health`, with a data-quality report of 48 checks), and the book (`publish_operations`
with the shipped signals and playbooks: stages, alerts that open, are seen again and resolve
themselves, playbook runs and their tasks), and the renewal forecast of the next 180 days
(`publish_forecast`: each paying account's next contract renewal, or every monthly term end,
with its periods and exact intervals from `forecast_periods`). Then, as people would: a call
on one contract renewal in four of the next 90 days (`set_category`, at most 2,000), 40% of
the live alerts acknowledged, 60% of the tasks due before today closed, a note on one account
in three; and the account page's detail of the last day (`publish_account_detail`): about 30
timeline entries, 3 to 6 contacts, 1 to 3 subscription lines, up to 3 opportunities and 26
weeks of usage per account. Users: 40 CSMs, 5 managers (8 CSMs each), an ops and an admin,
password `PASSWORD`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, func, insert, select, update

CSMS, MANAGERS = 40, 5
PASSWORD = "a benchmark password of no value"
ADMIN, OPS = "admin@example.com", "ops@example.com"
CURRENCY = "USD"
# segment, share of accounts, median MRR
SEGMENTS = (("Enterprise", 0.1, 9000), ("Mid-Market", 0.3, 1800), ("SMB", 0.6, 300))
# status, share: paying customers, running trials, prospects, churned customers
STATUSES = (("active", 0.8), ("trial", 0.04), ("prospect", 0.06), ("churned", 0.1))
FEATURES = ("events_per_seat_30d", "usage_trend_30d", "active_users_per_seat",
            "features_used_30d", "days_since_last_event", "tickets_30d", "latest_nps",
            "days_since_last_meeting")
EPISODE_SIGNALS = ("usage_drop", "champion_left", "invoice_overdue", "ticket_surge",
                   "seats_full", "qbr_missing")
WORDS = ("Acme Blue Harbor North Summit Cedar Orbit Vertex Atlas Pioneer Quantum Silver Maple "
         "Granite Falcon Nimbus Aurora Beacon Crescent Delta Ember Fjord Golden Horizon Iron "
         "Juniper Keystone Lumen Meridian Nova Onyx Pacific Prairie Redwood Sierra Tidal "
         "Unity Vista Willow Zenith").split()
KINDS = ("Systems Logistics Health Labs Foods Energy Partners Software Retail Capital Media "
         "Robotics Analytics Clinics Freight Studios Networks Materials Bank Insurance").split()
TIMELINE_KINDS = (("ticket_opened", 8), ("meeting", 4), ("email", 6), ("call", 3),
                  ("nps_response", 2), ("csat_response", 2), ("qbr", 1), ("note", 2),
                  ("milestone", 1), ("subscription_started", 1), ("opportunity_won", 1),
                  ("cancellation_recorded", 0.2), ("contact_left", 0.3))


def seeded(seed: int, *parts: object) -> random.Random:
    """A generator of its own for one thing (an account, a day): the same parts give the same
    numbers whatever else was drawn before."""
    return random.Random(f"{seed}:{':'.join(map(str, parts))}")


def csm_email(i: int) -> str:
    return f"csm{i + 1:02d}@example.com"


def manager_email(i: int) -> str:
    return f"manager{i + 1}@example.com"


def manager_of(csm: int) -> str:
    return manager_email(csm % MANAGERS)


@dataclass(frozen=True)
class Account:
    """What stays the same about an account over the benchmark's days."""

    id: str
    name: str
    segment: str
    owner: int  # the CSM's number
    parent: str | None
    status: str
    mrr: Decimal
    term_months: int
    customer_since: date | None
    seats: int
    industry: str
    region: str
    country: str
    health: float  # the account's typical score
    risk: float  # its typical churn probability
    no_score: bool  # too little data for its model


def _pick(rng: random.Random, shares: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    x, total = rng.random(), 0.0
    for row in shares:
        total += row[1]
        if x < total:
            return row
    return shares[-1]


def company(n: int, today: date, seed: int) -> list[Account]:
    """The company's accounts (about one Enterprise account in ten has a parent)."""
    accounts: list[Account] = []
    enterprise: list[str] = []
    for i in range(n):
        rng = seeded(seed, "account", i)
        segment, _, median = _pick(rng, SEGMENTS)
        status = _pick(rng, STATUSES)[0]
        account_id = f"acct-{i + 1:06d}"
        paying_ever = status in ("active", "churned")
        parent = rng.choice(enterprise) if (segment == "Enterprise" and enterprise
                                            and rng.random() < 0.1) else None
        if segment == "Enterprise" and parent is None:
            enterprise.append(account_id)
        started = today - timedelta(days=rng.randint(10, 6 * 365)) if paying_ever else None
        risk = min(0.95, rng.betavariate(1.2, 12))
        accounts.append(Account(
            id=account_id, name=f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(KINDS)}",
            segment=segment, owner=rng.randrange(CSMS), parent=parent, status=status,
            mrr=Decimal(round(median * rng.lognormvariate(0, 0.6), 2)).quantize(Decimal("0.01"))
            if status == "active" else Decimal(0),
            term_months=rng.choice((1, 1, 12, 12, 12, 24, 36)) if paying_ever else 1,
            customer_since=started, seats=rng.randint(3, 400),
            industry=rng.choice(("Software", "Retail", "Healthcare", "Finance", "Logistics")),
            region=rng.choice(("NA", "EMEA", "APAC")), country=rng.choice(("US", "DE", "GB",
                                                                           "FR", "JP", "AU")),
            health=10 + 85 * rng.betavariate(3.2, 1.6), risk=risk, no_score=rng.random() < 0.02))
    return accounts


def renewal_on(a: Account, day: date) -> date | None:
    """The next contract anniversary after `day` of a paying account."""
    if a.status != "active" or a.customer_since is None:
        return None
    months = (day.year - a.customer_since.year) * 12 + day.month - a.customer_since.month
    step = a.term_months
    k = max(1, months // step)
    while True:
        m = a.customer_since.month - 1 + k * step
        renewal = date(a.customer_since.year + m // 12, m % 12 + 1,
                       min(a.customer_since.day, 28))
        if renewal > day:
            return renewal
        k += 1


def day_mrr(a: Account, d: int) -> Decimal:
    """The account's MRR on day index `d`: one paying account in ten expands once, on its
    own day."""
    if a.status != "active":
        return Decimal(0)
    rng = seeded(0, a.id, "expansion")
    if rng.random() < 0.1 and d >= rng.randint(-30, 30):
        return (a.mrr * Decimal("1.2")).quantize(Decimal("0.01"))
    return a.mrr


def score_on(a: Account, d: int) -> float:
    """The health score on day index `d`: the account's typical score with a weekly swing."""
    rng = seeded(0, a.id, "swing")
    swing, phase = rng.uniform(0, 14), rng.uniform(0, 7)
    return round(max(0.0, min(100.0, a.health + swing * ((d + phase) % 7 - 3) / 3)), 1)


def band(score: float | None) -> str | None:
    if score is None:
        return None
    return "red" if score < 40 else "yellow" if score < 70 else "green"


def risk_window_on(a: Account, d: int) -> float:
    return round(min(0.99, a.risk * (1.2 + 0.1 * ((d % 5) - 2))), 4)


def snapshot_tables(accounts: list[Account], day: date, d: int,
                    seed: int) -> tuple[pa.Table, pa.Table]:
    """The accounts and ARR history `publish_snapshot` takes for `day`."""
    cols: dict[str, list[Any]] = {k: [] for k in (
        "account_id", "name", "domain", "segment", "tier", "region", "country", "industry",
        "owner_email", "owner_name", "parent_account_id", "status", "mrr", "arr", "currency",
        "customer_since", "renewal_date", "events_30d", "active_users_30d", "open_tickets",
        "tickets_30d", "last_activity_at")}
    hist: dict[str, list[Any]] = {"account_id": [], "month": [], "arr": []}
    month_end = date(day.year, day.month, 1) - timedelta(days=1)
    months = []
    for _ in range(24):
        months.append(month_end)
        month_end = date(month_end.year, month_end.month, 1) - timedelta(days=1)
    months.reverse()
    for a in accounts:
        rng = seeded(seed, a.id, "day", d)
        mrr = day_mrr(a, d)
        arr = mrr * 12
        tier = "Tier 1" if arr >= 100000 else "Tier 2" if arr >= 20000 else "Tier 3"
        values = (a.id, a.name, f"{a.id}.example.com", a.segment, tier, a.region, a.country,
                  a.industry, csm_email(a.owner), f"CSM {a.owner + 1:02d}", a.parent, a.status,
                  mrr, arr, CURRENCY, a.customer_since, renewal_on(a, day),
                  rng.randint(0, 50 * a.seats) if a.status == "active" else 0,
                  rng.randint(0, a.seats) if a.status == "active" else 0, rng.randint(0, 6),
                  rng.randint(0, 9), datetime.combine(day, datetime.min.time(), UTC)
                  - timedelta(hours=rng.randint(1, 24 * 20)))
        for key, value in zip(cols, values, strict=True):
            cols[key].append(value)
        if a.customer_since is None:
            continue
        base = float(a.mrr if a.status == "active" else Decimal(rng.randint(100, 3000))) * 12
        churned_at = rng.randint(1, 20) if a.status == "churned" else 99
        for k, month in enumerate(months):
            alive = month >= a.customer_since and k < churned_at
            growth = 0.75 + 0.25 * k / 23
            hist["account_id"].append(a.id)
            hist["month"].append(month)
            hist["arr"].append(Decimal(round(base * growth, 2)).quantize(Decimal("0.01"))
                               if alive else Decimal(0))
    money = pa.decimal128(18, 2)
    types = {"mrr": money, "arr": money, "customer_since": pa.date32(),
             "renewal_date": pa.date32(), "last_activity_at": pa.timestamp("us", tz="UTC"),
             "parent_account_id": pa.string()}
    accounts_table = pa.table({k: pa.array(v, types.get(k)) for k, v in cols.items()})
    history = pa.table({"account_id": pa.array(hist["account_id"], pa.string()),
                        "month": pa.array(hist["month"], pa.date32()),
                        "arr": pa.array(hist["arr"], money)})
    return accounts_table, history


def health_tables(accounts: list[Account], day: date, d: int) -> tuple[pa.Table, pa.Table]:
    """Health scores and churn risk of the paying accounts, as the engine gives them."""
    h: dict[str, list[Any]] = {k: [] for k in ("account_id", "as_of", "model", "score", "band",
                                               "change_7d", "change_30d", "reason_1",
                                               "reason_2", "reason_3")}
    for f in FEATURES:
        h[f], h[f + "_points"] = [], []
    r: dict[str, list[Any]] = {k: [] for k in (
        "account_id", "as_of", "churn_probability", "horizon", "churn_probability_window",
        "window_days", "reasons_direction", "reason_1", "reason_2", "reason_3", "model",
        "model_version")}
    for a in accounts:
        if a.status != "active":
            continue
        rng = seeded(0, a.id, "health", d)
        score = None if a.no_score else score_on(a, d)
        weak = sorted(FEATURES, key=lambda _: rng.random())[:3]
        reasons = [f"{f.replace('_', ' ')} is weak" for f in weak] if score and score < 70 \
            else []
        for key, value in (("account_id", a.id), ("as_of", day), ("model", a.segment.lower()),
                           ("score", score), ("band", band(score)),
                           ("change_7d", None if score is None
                            else round(score - score_on(a, d - 7), 1)),
                           ("change_30d", None if score is None
                            else round(score - score_on(a, d - 30), 1))):
            h[key].append(value)
        for i in range(3):
            h[f"reason_{i + 1}"].append(reasons[i] if i < len(reasons) else None)
        for f in FEATURES:
            h[f].append(round(rng.uniform(0, 40), 2))
            h[f + "_points"].append(None if score is None and f != FEATURES[0]
                                    else round(rng.uniform(0, 100), 1))
        up = sorted(FEATURES, key=lambda _: rng.random())[:3]
        for key, value in (("account_id", a.id), ("as_of", day),
                           ("churn_probability", round(a.risk, 4)),
                           ("horizon", renewal_on(a, day)),
                           ("churn_probability_window", risk_window_on(a, d)),
                           ("window_days", 90), ("reasons_direction", "raises"),
                           ("reason_1", f"{up[0].replace('_', ' ')} raises the risk"),
                           ("reason_2", f"{up[1].replace('_', ' ')} raises the risk"),
                           ("reason_3", None), ("model", "logistic"),
                           ("model_version", day.isoformat())):
            r[key].append(value)
    types = {"as_of": pa.date32(), "horizon": pa.date32(), "score": pa.float64(),
             "change_7d": pa.float64(), "change_30d": pa.float64(), "window_days": pa.int64(),
             **{f: pa.float64() for f in FEATURES},
             **{f + "_points": pa.float64() for f in FEATURES},
             **{f"reason_{i}": pa.string() for i in (1, 2, 3)}}
    return (pa.table({k: pa.array(v, types.get(k)) for k, v in h.items()}),
            pa.table({k: pa.array(v, types.get(k)) for k, v in r.items()}))


def quality_report(day: date) -> Any:
    """A data-quality report of 48 checks over four sources, a few failing."""
    from quarterdeck.quality.report import CheckResult, QualityReport

    rows = []
    for s, source in enumerate(("files", "hubspot", "stripe", "zendesk")):
        for e, entity in enumerate(("accounts", "contacts", "subscriptions", "tickets")):
            for c, (check, rule) in enumerate((("completeness", "required"),
                                               ("accuracy", "valid_email"),
                                               ("orphans", "unknown_account"))):
                failed = (s + e + c) % 7
                status = "ok" if failed < 4 else "warning" if failed < 6 else "error"
                rows.append(CheckResult(source, entity, check, rule, "owner_email", 9000,
                                        failed * 12, "warning", 0.01, status,
                                        f"{failed * 12} of {9000 + failed * 12} rows fail",
                                        tuple(f"{entity}-{k}" for k in range(min(failed, 3)))))
    return QualityReport(as_of=day, rows=rows)


def stage_of(a: Account, day: date, d: int) -> str:
    if a.status != "active":
        return a.status
    renewal = renewal_on(a, day)
    started = (day - a.customer_since).days if a.customer_since else 0
    if band(None if a.no_score else score_on(a, d)) == "red" or risk_window_on(a, d) >= 0.3:
        return "at_risk"
    if started <= 90:
        return "onboarding"
    if a.term_months >= 12 and renewal and (renewal - day).days <= 120:
        return "renewal"
    return "adoption" if started <= 365 else "mature"


def book_tables(accounts: list[Account], day: date, d: int, signals: Any,
                seed: int) -> dict[str, pa.Table]:
    """The day's stages, fired signals and playbook triggers, in the engine's shapes."""
    from quarterdeck.playbooks.triggers import TRIGGERS_SCHEMA
    from quarterdeck.signals.evaluation import FIRED_SCHEMA

    stages, fired, triggers = [], [], []

    def fire(name: str, a: Account, key: str, owner: str) -> None:
        s = signals.signal(name)
        fired.append({"as_of": day, "signal": name, "kind": s.kind, "severity": s.severity,
                      "account_id": a.id, "dedup_key": key, "owner_email": owner,
                      "evidence": json.dumps({"arr": str(day_mrr(a, d) * 12)}),
                      "rule": s.text()})

    for a in accounts:
        renewal = renewal_on(a, day)
        stage = stage_of(a, day, d)
        score = None if a.no_score or a.status != "active" else score_on(a, d)
        mrr = day_mrr(a, d)
        since = a.customer_since
        onboarded = since is not None and (day - since).days > 60
        stages.append({
            "account_id": a.id, "stage": stage, "stage_rule": f"stage {stage}",
            "cs_segment": "high_touch" if mrr >= 5000 else "mid_touch" if mrr >= 1000
            else "tech_touch", "status": a.status, "segment": a.segment,
            "owner_email": csm_email(a.owner), "arr": float(mrr * 12), "customer_since": since,
            "renewal_date": renewal, "term_months": a.term_months, "health_band": band(score),
            "churn_probability": a.risk if a.status == "active" else None,
            "onboarding_complete": onboarded if since else None,
            "onboarding_completed_on": since + timedelta(days=45) if onboarded and since
            else None, "onboarding_on_time": onboarded if since else None,
            "first_value_on": since + timedelta(days=30) if onboarded and since else None,
            "time_to_value_days": 30 if onboarded else None,
            "last_qbr_on": day - timedelta(days=seeded(seed, a.id, "qbr").randint(5, 200))
            if a.segment == "Enterprise" else None,
            "kickoff_on": since + timedelta(days=3) if since else None,
            "go_live_on": since + timedelta(days=30) if onboarded and since else None,
            "active_team_on": since + timedelta(days=20) if onboarded and since else None})
        if a.status != "active":
            continue
        owner = csm_email(a.owner)
        rng = seeded(seed, a.id, "episode")
        if rng.random() < 0.06:  # one episode of a signal holding for some days
            name = rng.choice(EPISODE_SIGNALS)
            start, length = rng.randint(-20, 20), rng.randint(3, 20)
            if start <= d < start + length and (name != "qbr_missing"
                                                or a.segment == "Enterprise"):
                fire(name, a, f"{name}:{a.id}", owner)
        if risk_window_on(a, d) >= 0.3:
            fire("high_churn_risk", a, f"high_churn_risk:{a.id}", owner)
        if stage == "at_risk" and renewal and (renewal - day).days <= 90 \
                and band(score) == "red":
            fire("renewal_at_risk", a, f"renewal_at_risk:{a.id}:{renewal}", manager_of(a.owner))
        if stage == "at_risk":
            triggers.append({"playbook": "risk_recovery", "trigger": "stage",
                             "account_id": a.id, "trigger_key": "stage=at_risk",
                             "anchor_date": None})
        if stage == "onboarding":
            triggers.append({"playbook": "onboarding", "trigger": "stage", "account_id": a.id,
                             "trigger_key": "stage=onboarding", "anchor_date": since})
        if a.term_months >= 12 and renewal and (renewal - day).days <= 120:
            triggers.append({"playbook": "renewal", "trigger": "condition",
                             "account_id": a.id, "trigger_key": f"renewal_date={renewal}",
                             "anchor_date": renewal})
    team = [{"email": csm_email(i), "name": f"CSM {i + 1:02d}", "role": "csm",
             "manager_email": manager_of(i), "capacity_accounts": 450,
             "capacity_arr": 4_000_000} for i in range(CSMS)]
    team += [{"email": manager_email(i), "name": f"Manager {i + 1}", "role": "manager",
              "manager_email": None, "capacity_accounts": None, "capacity_arr": None}
             for i in range(MANAGERS)]
    keys = list(stages[0])
    return {"stages": pa.Table.from_pylist(stages, schema=pa.schema(
                [(k, _stage_type(k)) for k in keys])),
            "fired": pa.Table.from_pylist(fired, schema=FIRED_SCHEMA.to_pyarrow()),
            "triggers": pa.Table.from_pylist(triggers, schema=TRIGGERS_SCHEMA.to_pyarrow()),
            "team": pa.Table.from_pylist(team)}


def _stage_type(name: str) -> pa.DataType:
    if name.endswith(("_on", "_since", "_date")):
        return pa.date32()
    if name in ("arr", "churn_probability"):
        return pa.float64()
    if name in ("term_months", "time_to_value_days"):
        return pa.int64()
    if name in ("onboarding_complete", "onboarding_on_time"):
        return pa.bool_()
    return pa.string()


def detail_tables(accounts: list[Account], day: date, seed: int) -> dict[str, pa.Table]:
    """The account page's detail of `day`: timeline, contacts, subscriptions, opportunities
    and weekly usage of every account."""
    kinds = [k for k, _ in TIMELINE_KINDS]
    weights = [w for _, w in TIMELINE_KINDS]
    t: dict[str, list[Any]] = {k: [] for k in ("account_id", "occurred_at", "kind", "subject",
                                               "value", "currency", "related_on", "ref_id")}
    c: dict[str, list[Any]] = {k: [] for k in ("account_id", "contact_id", "name", "email",
                                               "title", "persona", "created_on", "left_on")}
    s: dict[str, list[Any]] = {k: [] for k in (
        "account_id", "subscription_id", "plan", "quantity", "currency", "interval_months",
        "start_date", "end_date", "contract_id", "auto_renew", "trial", "canceled_on",
        "mrr_local", "mrr", "status")}
    o: dict[str, list[Any]] = {k: [] for k in ("account_id", "opportunity_id", "kind",
                                               "amount_arr", "currency", "stage",
                                               "close_date", "outcome")}
    u: dict[str, list[Any]] = {k: [] for k in ("account_id", "week_start", "events",
                                               "avg_daily_active_users")}
    midnight = datetime.combine(day, datetime.min.time(), UTC)
    monday = day - timedelta(days=day.weekday())
    for a in accounts:
        rng = seeded(seed, a.id, "detail")
        entries = rng.randint(20, 40) if a.customer_since else rng.randint(2, 8)
        for k in range(entries):
            kind = rng.choices(kinds, weights)[0]
            value = {"ticket_opened": round(rng.uniform(0.1, 9), 1), "nps_response":
                     float(rng.randint(0, 10)), "csat_response": float(rng.randint(1, 5)),
                     "subscription_started": float(a.mrr), "opportunity_won":
                     float(a.mrr * 3)}.get(kind)
            subject = {"ticket_opened": rng.choice(("low", "normal", "high", "urgent")),
                       "subscription_started": "Team plan", "opportunity_won": "expansion",
                       "contact_left": "A. Champion", "cancellation_recorded": "Team plan",
                       "nps_response": "Useful every day"}.get(kind, f"{kind} about adoption")
            for key, v in (("account_id", a.id), ("occurred_at", midnight - timedelta(
                    minutes=rng.randint(0, 365 * 24 * 60))), ("kind", kind),
                    ("subject", subject), ("value", value),
                    ("currency", CURRENCY if kind in ("subscription_started",
                                                      "opportunity_won") else None),
                    ("related_on", day + timedelta(days=30)
                     if kind == "cancellation_recorded" else None),
                    ("ref_id", f"{a.id}-t{k}")):
                t[key].append(v)
        for k in range(rng.randint(3, 6)):
            for key, v in (("account_id", a.id), ("contact_id", f"{a.id}-c{k}"),
                           ("name", f"Contact {k} of {a.name}"),
                           ("email", f"contact{k}@{a.id}.example.com"),
                           ("title", rng.choice(("VP Operations", "IT admin", "Analyst"))),
                           ("persona", ("champion", "decision_maker", "admin", "user",
                                        "user", "user")[k]),
                           ("created_on", a.customer_since or day - timedelta(days=30)),
                           ("left_on", day - timedelta(days=rng.randint(1, 300))
                            if rng.random() < 0.1 else None)):
                c[key].append(v)
        if a.customer_since is None:
            continue
        for k in range(rng.randint(1, 3)):
            mrr = (a.mrr / (k + 1)).quantize(Decimal("0.01"))
            for key, v in (("account_id", a.id), ("subscription_id", f"{a.id}-s{k}"),
                           ("plan", ("Team", "Business", "Add-on")[k]),
                           ("quantity", Decimal(a.seats)), ("currency", CURRENCY),
                           ("interval_months", a.term_months),
                           ("start_date", a.customer_since + timedelta(days=k * 90)),
                           ("end_date", None), ("contract_id", f"{a.id}-k"),
                           ("auto_renew", True), ("trial", False), ("canceled_on", None),
                           ("mrr_local", mrr), ("mrr", mrr),
                           ("status", "active" if a.status == "active" else "ended")):
                s[key].append(v)
        for k in range(rng.randint(0, 3)):
            for key, v in (("account_id", a.id), ("opportunity_id", f"{a.id}-o{k}"),
                           ("kind", ("renewal", "expansion", "new")[k]),
                           ("amount_arr", (a.mrr * 12).quantize(Decimal("0.01"))),
                           ("currency", CURRENCY), ("stage", "Proposal"),
                           ("close_date", day + timedelta(days=rng.randint(-200, 200))),
                           ("outcome", rng.choice(("open", "won", "lost")))):
                o[key].append(v)
        if a.status == "active":
            for w in range(26):
                users = max(0.0, a.seats * 0.3 * rng.uniform(0.6, 1.2))
                for key, v in (("account_id", a.id),
                               ("week_start", monday - timedelta(weeks=25 - w)),
                               ("events", int(users * 40)),
                               ("avg_daily_active_users", round(users, 1))):
                    u[key].append(v)
    money = pa.decimal128(18, 2)
    types = {"occurred_at": pa.timestamp("us", tz="UTC"), "value": pa.float64(),
             "currency": pa.string(), "related_on": pa.date32(), "created_on": pa.date32(),
             "left_on": pa.date32(), "quantity": pa.decimal128(18, 6), "start_date": pa.date32(),
             "end_date": pa.date32(), "canceled_on": pa.date32(), "mrr_local": money,
             "mrr": money, "amount_arr": money, "close_date": pa.date32(),
             "week_start": pa.date32(), "avg_daily_active_users": pa.float64(),
             "interval_months": pa.int64(), "events": pa.int64(), "auto_renew": pa.bool_(),
             "trial": pa.bool_()}

    def table(columns: dict[str, list[Any]]) -> pa.Table:
        return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in columns.items()})

    return {"timeline": table(t), "contacts": table(c), "subscriptions": table(s),
            "opportunities": table(o), "usage_weekly": table(u)}


def add_users(engine: Engine) -> None:
    from quarterdeck.appdb import add_user

    for i in range(CSMS):
        add_user(engine, csm_email(i), f"CSM {i + 1:02d}", "csm", PASSWORD)
    for i in range(MANAGERS):
        add_user(engine, manager_email(i), f"Manager {i + 1}", "manager", PASSWORD)
    add_user(engine, OPS, "Ops Person", "ops", PASSWORD)
    add_user(engine, ADMIN, "Admin Person", "admin", PASSWORD)


FORECAST_DAYS = 180
CALLS = ("commit", "commit", "best_case", "at_risk", "churn_expected")


def forecast_table(accounts: list[Account], day: date, d: int) -> pa.Table:
    """The forecast `quarterdeck run` would publish on `day`: the decisions of the next
    `FORECAST_DAYS` days with P(renew) from the account's churn risk, chained for a monthly
    account's later terms; one contract renewal in fifty already cancelled."""
    rows = []
    end = day + timedelta(days=FORECAST_DAYS)
    for a in accounts:
        first = renewal_on(a, day)
        if first is None:
            continue
        arr = day_mrr(a, d) * 12
        risk = risk_window_on(a, d)
        monthly = a.term_months == 1
        dates = [first]
        while monthly and (nxt := renewal_on(a, dates[-1])) <= end:
            dates.append(nxt)
        reached = 1.0
        for number, when in enumerate((x for x in dates if x <= end), 1):
            cancelled = not monthly and seeded(0, a.id, "cancelled").random() < 0.02
            p = 0.0 if cancelled else round(1 - (risk / 6 if monthly else risk), 6)
            rows.append({
                "renewal_id": f"{a.id}@{when.isoformat()}", "account_id": a.id,
                "segment": a.segment, "owner_email": csm_email(a.owner),
                "term": "monthly" if monthly else "contract", "term_months": a.term_months,
                "renewal_date": when, "decision_number": number, "arr_at_stake": arr,
                "cancellation_known": cancelled, "p_renew": p, "p_reached": round(reached, 6),
                "expected_arr": (arr * Decimal(repr(reached * p))).quantize(Decimal("0.01")),
                "gross_factor": 0.97, "net_factor": 1.04,
                "model_days_before": 30 if (when - day).days <= 30 else 60
                if (when - day).days <= 60 else 90, "category": None})
            reached *= p
    money = pa.decimal128(38, 2)
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("renewal_id", pa.string()), ("account_id", pa.string()), ("segment", pa.string()),
        ("owner_email", pa.string()), ("term", pa.string()), ("term_months", pa.int32()),
        ("renewal_date", pa.date32()), ("decision_number", pa.int32()),
        ("arr_at_stake", money), ("cancellation_known", pa.bool_()), ("p_renew", pa.float64()),
        ("p_reached", pa.float64()), ("expected_arr", money), ("gross_factor", pa.float64()),
        ("net_factor", pa.float64()), ("model_days_before", pa.int32()),
        ("category", pa.string())]))


def call_renewals(engine: Engine, forecast: pa.Table, today: date) -> int:
    """CSMs call one contract renewal in four of the next 90 days (at most 2,000)."""
    from quarterdeck.appdb.publish_forecast import set_category

    calls = 0
    for r in forecast.to_pylist():
        rng = seeded(0, r["renewal_id"], "call")
        if (r["term"] == "contract" and (r["renewal_date"] - today).days <= 90
                and rng.random() < 0.25 and calls < 2000):
            set_category(engine, r["renewal_id"], rng.choice(CALLS), actor=r["owner_email"],
                         note="heard from the champion on our last call")
            calls += 1
    return calls


def people_work(engine: Engine, accounts: list[Account], today: date, seed: int) -> None:
    """What people do between runs: acknowledge alerts, close tasks, log notes."""
    from quarterdeck.appdb.database import session
    from quarterdeck.appdb.operations_models import AccountNote, Alert, AlertEvent, Task

    with session(engine) as db:
        live = db.execute(select(Alert.id, Alert.fired_on, Alert.owner_email)
                          .where(Alert.state == "open")).all()
        acked = [(i, fired, owner) for i, fired, owner in live if i % 5 < 2]
        for i, fired, owner in acked:
            db.execute(update(Alert).where(Alert.id == i).values(
                state="acknowledged", state_changed_by=owner or ADMIN,
                acknowledged_at=datetime.combine(min(today, fired + timedelta(days=1)),
                                                 datetime.min.time(), UTC)))
        if acked:
            db.execute(insert(AlertEvent), [
                {"alert_id": i, "on": min(today, fired + timedelta(days=1)),
                 "actor": owner or ADMIN, "from_state": "open", "to_state": "acknowledged",
                 "note": "looking into it"} for i, fired, owner in acked])
        db.execute(update(Task).where((Task.state == "open") & (Task.due_on < today)
                                      & (Task.id % 10 < 6)).values(
            state="done", closed_on=Task.due_on, closed_by=Task.owner_email,
            outcome_note="done as planned"))
        notes = []
        for a in accounts:
            rng = seeded(seed, a.id, "notes")
            if rng.random() < 1 / 3:
                notes.append({"account_id": a.id, "kind": rng.choice(("note", "meeting", "call")),
                              "body": f"Spoke with {a.name} about their goals for the quarter.",
                              "occurred_on": today - timedelta(days=rng.randint(0, 90)),
                              "author": csm_email(a.owner)})
        for start in range(0, len(notes), 5000):
            db.execute(insert(AccountNote), notes[start:start + 5000])


def build(url: str, accounts_n: int, today: date, days: int, seed: int = 7,
          progress: Any = print) -> dict[str, int]:
    """Build the benchmark's app database at `url` (see the module); row counts by table."""
    from quarterdeck.appdb import make_engine, migrate, publish_snapshot
    from quarterdeck.appdb.models import Base
    from quarterdeck.appdb.publish_account_detail import publish_account_detail
    from quarterdeck.appdb.publish_forecast import PUBLISHED_GRAINS, publish_forecast
    from quarterdeck.appdb.publish_health import publish_health
    from quarterdeck.appdb.publish_operations import publish_operations
    from quarterdeck.forecast.forecast_periods import forecast_periods
    from quarterdeck.lifecycle.book import default_book

    engine = make_engine(url)
    migrate(engine)
    add_users(engine)
    accounts = company(accounts_n, today, seed)
    book = default_book()
    for d in range(-days + 1, 1):
        day = today + timedelta(days=d)
        snapshot, history = snapshot_tables(accounts, day, d, seed)
        publish_snapshot(engine, as_of=day, accounts=snapshot, arr_history=history,
                         run_started_at=datetime.combine(day + timedelta(days=1),
                                                         datetime.min.time(), UTC))
        scores, risk = health_tables(accounts, day, d)
        publish_health(engine, as_of=day, health_scores=scores, churn_risk=risk,
                       quality=quality_report(day))
        tables = book_tables(accounts, day, d, book.signals, seed)
        publish_operations(engine, as_of=day, stages=tables["stages"], fired=tables["fired"],
                           triggers=tables["triggers"], team=tables["team"],
                           signals=book.signals, playbooks=book.playbooks,
                           milestone_names=book.milestone_names)
        forecast = forecast_table(accounts, day, d)
        publish_forecast(engine, as_of=day, forecast=forecast, periods={
            g: forecast_periods(forecast, grain=g) for g in PUBLISHED_GRAINS})
        progress(f"published {day}: {snapshot.num_rows:,} accounts, {history.num_rows:,} ARR "
                 f"months, {scores.num_rows:,} scores, {tables['fired'].num_rows:,} signals, "
                 f"{forecast.num_rows:,} renewal decisions")
    call_renewals(engine, forecast, today)
    people_work(engine, accounts, today, seed)
    publish_account_detail(engine, as_of=today, tables=detail_tables(accounts, today, seed))
    with engine.connect() as connection:
        counts = {t.name: connection.scalar(select(func.count()).select_from(t))
                  for t in Base.metadata.sorted_tables}
    engine.dispose()
    return {k: v for k, v in counts.items() if v}
