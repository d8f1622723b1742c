"""A small hand-made world for the web app: three users and six accounts published on one day.

Acme's account detail (published for AS_OF): a subscription started 2024-01-01 at 10,000.00
MRR, an urgent ticket solved in 2.5 days, an NPS 9 with a comment, a QBR, a champion (Cara)
who left on 2024-06-10, a current admin (Dan), an open expansion opportunity for 30,000 ARR,
two weeks of usage (3.0 and 4.5 average daily active users).

Numbers are chosen to be checked by hand: total ARR is 120,000 + 30,000 + 48,000 + 6,000 + 0
+ 99,999.96 = 303,999.96 USD over 6 accounts; Acme Corp (the largest) has a 24-month ARR
history and one child, Acme Europe.

Health and churn risk are published for the same day (and an older day, which the app must not
show). Every health model here weighs its five components equally, so a score is the mean of
the points: Acme (100 + 85 + 100 + 60 + 67.5) / 5 = 82.5 green, Hooli 330 / 5 = 66.0 yellow,
Initech 142 / 5 = 28.4 red. Acme Europe has too little data for a score, Globex's segment has
no health model, and Umbrella, no longer paying, has no row at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.appdb import add_user, make_engine, migrate, publish_snapshot
from quarterdeck.appdb.publish_account_detail import publish_account_detail
from quarterdeck.appdb.publish_health import publish_health
from quarterdeck.testing.postgres import BACKEND_PARAMS, database_url_for
from quarterdeck.testing.web_client import post_login

AS_OF = date(2024, 6, 30)
PASSWORD = "a long enough test password"
USERS = [
    ("admin@example.com", "Dana Admin", "admin"),
    ("ana@example.com", "Ana Ruiz", "csm"),
    ("ben@example.com", "Ben Okafor", "csm"),
]
# account_id, name, segment, tier, owner, parent, status, MRR, renewal, open tickets
# fmt: off
ACCOUNTS = [
    ("acme", "Acme Corp", "enterprise", "gold", "ana@example.com", None, "active",
     "10000.00", date(2024, 8, 15), 2),
    ("acme-eu", "Acme Europe GmbH", "enterprise", "silver", "ana@example.com", "acme", "active",
     "2500.00", date(2024, 8, 15), 0),
    ("globex", "Globex", "mid-market", "silver", "ben@example.com", None, "active",
     "4000.00", date(2025, 1, 31), 1),
    ("initech", "Initech", "smb", "bronze", "ben@example.com", None, "at_risk",
     "500.00", date(2024, 9, 1), 4),
    ("umbrella", "Umbrella Health", "mid-market", "silver", "ana@example.com", None, "churned",
     "0.00", None, 0),
    ("hooli", "Hooli", "enterprise", "gold", None, None, "active",
     "8333.33", date(2025, 4, 30), 1),
]
# fmt: on
TOTAL_ARR = Decimal("303999.96")

OLDER = date(2024, 6, 23)  # an earlier health publish the pages must not show
COMPONENTS = ("events_per_seat_30d", "usage_trend_30d", "urgent_tickets_30d", "latest_nps",
              "days_since_last_meeting")
# account_id, model, score, band, change 7d, change 30d, reasons,
# (value, points) per component of COMPONENTS (None: no data)
# fmt: off
HEALTH = [
    ("acme", "enterprise", 82.5, "green", 1.5, 4.0, [],
     [(31.7, 100.0), (0.08, 85.0), (0, 100.0), (7, 60.0), (24, 67.5)]),
    ("hooli", "enterprise", 66.0, "yellow", -3.5, -9.0,
     ["usage down 12% in 30 days", "latest NPS 6", "1 urgent ticket in 30 days"],
     [(28.2, 95.0), (-0.12, 40.0), (1, 50.0), (6, 45.0), (9, 100.0)]),
    ("initech", "smb", 28.4, "red", -6.1, -20.3,
     ["usage down 62% in 30 days", "3 urgent tickets in 30 days", "latest NPS 3"],
     [(3.4, 40.0), (-0.62, 0.0), (3, 0.0), (3, 2.0), (9, 100.0)]),
    ("acme-eu", "enterprise", None, None, None, None, [],
     [(34.4, 100.0), None, None, None, None]),
    # mid-market has no health model: the values are there, but nothing scores them
    ("globex", None, None, None, None, None, [],
     [(21.0, None), (0.02, None), (0, None), (8, None), (30, None)]),
]
# account_id, probability, horizon, reasons
CHURN_RISK = [
    ("acme", 0.04, date(2024, 8, 15), []),
    ("hooli", 0.18, date(2025, 4, 30), ["latest NPS 6", "usage down 12% in 30 days"]),
    ("initech", 0.62, date(2024, 9, 30),
     ["usage down 62% in 30 days", "3 urgent tickets in 30 days", "latest NPS 3"]),
    ("acme-eu", 0.11, date(2024, 8, 15), ["no data: latest_nps"]),
    ("globex", 0.087, date(2025, 1, 31), []),
]
# fmt: on
CHURN_MODEL = ("logistic", "2024-06-30")


def accounts_table() -> pa.Table:
    """The six accounts as the pipeline would publish them."""
    rows = ACCOUNTS
    n = len(rows)
    mrr = [Decimal(r[7]) for r in rows]
    return pa.table(
        {
            "account_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "domain": [f"{r[0]}.example" for r in rows],
            "segment": [r[2] for r in rows],
            "tier": [r[3] for r in rows],
            "region": ["EMEA" if r[0] == "acme-eu" else "NA" for r in rows],
            "country": ["DE" if r[0] == "acme-eu" else "US" for r in rows],
            "industry": ["Manufacturing"] * n,
            "owner_email": [r[4] for r in rows],
            # the team file names only Ben; Ana's name comes from her user account
            "owner_name": ["Ben Wyatt" if r[4] == "ben@example.com" else None for r in rows],
            "parent_account_id": [r[5] for r in rows],
            "status": [r[6] for r in rows],
            "mrr": pa.array(mrr, pa.decimal128(18, 2)),
            "arr": pa.array([m * 12 for m in mrr], pa.decimal128(18, 2)),
            "currency": ["USD"] * n,
            "customer_since": [date(2021, 3, 1)] * n,
            "renewal_date": pa.array([r[8] for r in rows], pa.date32()),
            "events_30d": [1520, 310, 840, 12, 0, 2200],
            "active_users_30d": [48, 9, 22, 2, 0, 61],
            "open_tickets": [r[9] for r in rows],
            "tickets_30d": [3, 0, 1, 6, 0, 2],
            "last_activity_at": pa.array(
                [datetime(2024, 6, 29, 15, 0, tzinfo=UTC)] * n, pa.timestamp("us", tz="UTC")
            ),
        }
    )


def history_table() -> pa.Table:
    """Acme grows from 60,000 to 120,000 ARR over 24 months (2,500 a month, with a dip)."""
    months = [date(2022 + (6 + i) // 12, (6 + i) % 12 + 1, 1) for i in range(24)]
    acme = [Decimal(60000 + 2500 * (i + 1)) for i in range(24)]
    acme[10] -= Decimal(15000)
    globex = [Decimal(48000)] * 3
    return pa.table(
        {
            "account_id": ["acme"] * 24 + ["globex"] * 3,
            "month": pa.array(months + months[-3:], pa.date32()),
            "arr": pa.array(acme + globex, pa.decimal128(18, 2)),
        }
    )


def _reason_columns(reasons: list[list[str]]) -> dict[str, list[str | None]]:
    return {f"reason_{i + 1}": [r[i] if i < len(r) else None for r in reasons]
            for i in range(3)}


def health_table(as_of: date = AS_OF, shift: float = 0.0) -> pa.Table:
    """The health scores of `HEALTH` as `health_scores` gives them (scores moved by `shift`)."""
    rows = HEALTH
    columns: dict[str, object] = {
        "account_id": [r[0] for r in rows],
        "as_of": pa.array([as_of] * len(rows), pa.date32()),
        "model": [r[1] for r in rows],
        "score": pa.array([None if r[2] is None else r[2] + shift for r in rows], pa.float64()),
        "band": [r[3] for r in rows],
        "change_7d": pa.array([r[4] for r in rows], pa.float64()),
        "change_30d": pa.array([r[5] for r in rows], pa.float64()),
        **_reason_columns([r[6] for r in rows]),
    }
    for i, feature in enumerate(COMPONENTS):
        parts = [r[7][i] or (None, None) for r in rows]
        columns[feature] = pa.array([p[0] for p in parts], pa.float64())
        columns[f"{feature}_points"] = pa.array([p[1] for p in parts], pa.float64())
    return pa.table(columns)


def churn_risk_table(as_of: date = AS_OF, shift: float = 0.0) -> pa.Table:
    """The churn risk of `CHURN_RISK` as `churn_risk` gives it."""
    rows = CHURN_RISK
    return pa.table({
        "account_id": [r[0] for r in rows],
        "as_of": pa.array([as_of] * len(rows), pa.date32()),
        "churn_probability": pa.array([r[1] + shift for r in rows], pa.float64()),
        "horizon": pa.array([r[2] for r in rows], pa.date32()),
        **_reason_columns([r[3] for r in rows]),
        "model": [CHURN_MODEL[0]] * len(rows),
        "model_version": [CHURN_MODEL[1]] * len(rows),
    })


def _ts(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def detail_tables(account: str = "acme") -> dict[str, pa.Table]:
    timeline = pa.Table.from_pylist([
        {"account_id": account, "occurred_at": _ts("2024-01-01"), "kind": "subscription_started",
         "subject": "Enterprise", "value": 10000.0, "currency": "USD", "related_on": None,
         "ref_id": "s1"},
        {"account_id": account, "occurred_at": _ts("2024-06-01"), "kind": "ticket_opened",
         "subject": "urgent", "value": 2.5, "currency": None, "related_on": None, "ref_id": "t1"},
        {"account_id": account, "occurred_at": _ts("2024-05-10"), "kind": "nps_response",
         "subject": "Saves us hours", "value": 9.0, "currency": None, "related_on": None,
         "ref_id": "r1"},
        {"account_id": account, "occurred_at": _ts("2024-04-15"), "kind": "qbr",
         "subject": "Q2 review", "value": None, "currency": None, "related_on": None,
         "ref_id": "q1"},
        {"account_id": account, "occurred_at": _ts("2024-06-10"), "kind": "contact_left",
         "subject": "Cara", "value": None, "currency": None, "related_on": None, "ref_id": "c1"},
    ], schema=pa.schema([("account_id", pa.string()), ("occurred_at", pa.timestamp("us")),
                         ("kind", pa.string()), ("subject", pa.string()),
                         ("value", pa.float64()), ("currency", pa.string()),
                         ("related_on", pa.date32()), ("ref_id", pa.string())]))
    contacts = pa.Table.from_pylist([
        {"account_id": account, "contact_id": "c1", "name": "Cara", "email": "cara@acme.com",
         "title": "Head of Ops", "persona": "champion", "created_on": date(2023, 1, 1),
         "left_on": date(2024, 6, 10)},
        {"account_id": account, "contact_id": "c2", "name": "Dan", "email": "dan@acme.com",
         "title": "IT admin", "persona": "admin", "created_on": date(2023, 1, 1),
         "left_on": None},
    ])
    subscriptions = pa.Table.from_pylist([
        {"account_id": account, "subscription_id": "s1", "plan": "Enterprise",
         "quantity": Decimal("100"), "currency": "USD", "interval_months": 12,
         "start_date": date(2024, 1, 1), "end_date": None, "contract_id": "k1",
         "auto_renew": True, "trial": False, "canceled_on": None,
         "mrr_local": Decimal("10000.00"), "mrr": Decimal("10000.00"), "status": "active"},
    ])
    opportunities = pa.Table.from_pylist([
        {"account_id": account, "opportunity_id": "o1", "kind": "expansion",
         "amount_arr": Decimal("30000"), "currency": "USD", "stage": "Proposal",
         "close_date": date(2024, 8, 15), "outcome": "open"},
    ])
    usage = pa.Table.from_pylist([
        {"account_id": account, "week_start": date(2024, 6, 17), "events": 120,
         "avg_daily_active_users": 3.0},
        {"account_id": account, "week_start": date(2024, 6, 24), "events": 200,
         "avg_daily_active_users": 4.5},
    ])
    return {"timeline": timeline, "contacts": contacts, "subscriptions": subscriptions,
            "opportunities": opportunities, "usage_weekly": usage}


def build_world(url: str) -> None:
    """Migrate the database at `url`, add the users and publish the accounts of `AS_OF`
    with their health and churn risk."""
    engine = make_engine(url)
    migrate(engine)
    for email, name, role in USERS:
        add_user(engine, email, name, role, PASSWORD)
    publish_snapshot(
        engine,
        as_of=AS_OF,
        accounts=accounts_table(),
        arr_history=history_table(),
        run_started_at=datetime(2024, 7, 1, 2, 0, tzinfo=UTC),
    )
    publish_health(engine, as_of=OLDER, health_scores=health_table(OLDER, shift=-5.0),
                   churn_risk=churn_risk_table(OLDER, shift=0.01))
    publish_health(engine, as_of=AS_OF, health_scores=health_table(),
                   churn_risk=churn_risk_table())
    publish_account_detail(engine, as_of=AS_OF, tables=detail_tables())
    engine.dispose()


@pytest.fixture(scope="session", params=BACKEND_PARAMS)
def world_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a database holding the world, once per backend."""
    path: Path = tmp_path_factory.mktemp(f"world-{request.param}")
    with database_url_for(request.param, path) as url:
        build_world(url)
        yield url


@pytest.fixture(scope="session")
def app(world_url: str) -> Iterator[FastAPI]:
    """The web app over the world."""
    app = create_app(world_url, secret_key="test-secret", workspace_name="Example Co")
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """A browser-like client that is not signed in."""
    return TestClient(app)


def sign_in(client: TestClient, email: str = "ana@example.com") -> TestClient:
    """Sign `client` in as `email` through the login form (with the form's CSRF token)."""
    response = post_login(client, email, PASSWORD)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def signed_in(client: TestClient) -> TestClient:
    """A client signed in as Ana, a CSM."""
    return sign_in(client)


@pytest.fixture
def sign_in_as() -> Callable[[TestClient, str], TestClient]:
    """Sign a client in as any user of the world: `sign_in_as(client, "ben@example.com")`."""
    return sign_in


@pytest.fixture(scope="session")
def password() -> str:
    """The password of every user of the world."""
    return PASSWORD


@pytest.fixture(scope="session")
def sqlite_world_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file holding the world, for tests that need a real server process."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite-world') / 'app.db'}"
    build_world(url)
    return url
