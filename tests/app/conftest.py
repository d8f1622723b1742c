"""A small hand-made world for the web app: three users and six accounts published on one day.

Numbers are chosen to be checked by hand: total ARR is 120,000 + 30,000 + 48,000 + 6,000 + 0
+ 99,999.96 = 303,999.96 USD over 6 accounts; Acme Corp (the largest) has a 24-month ARR
history and one child, Acme Europe.
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
from quarterdeck.testing.postgres import BACKEND_PARAMS, database_url_for

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


def build_world(url: str) -> None:
    """Migrate the database at `url`, add the users and publish the accounts of `AS_OF`."""
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
    """Sign `client` in as `email` through the login form."""
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD}, follow_redirects=False
    )
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
