"""Pages keep what they compute from a published day in memory; the moment anything is
published again, or someone changes the book, the next page shows it: a new day, the same day
published again with other numbers, a health publish on its own, a closed task, a renamed
owner. Kept results are never served stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from quarterdeck.app import create_app
from quarterdeck.appdb import make_engine, publish_snapshot
from quarterdeck.appdb.book_actions import acknowledge_alert, close_task
from quarterdeck.appdb.data_versions import HEALTH, SNAPSHOT, cached
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import User
from quarterdeck.appdb.operations_models import Alert, Task
from quarterdeck.appdb.publish_health import publish_health
from quarterdeck.appdb.publish_quality import publish_quality
from quarterdeck.quality.report import CheckResult, QualityReport
from tests.app.conftest import (
    AS_OF,
    accounts_table,
    build_world,
    churn_risk_table,
    health_table,
    history_table,
    sign_in,
)
from tests.app.test_book_pages import ANA, publish_book

NEXT_DAY = AS_OF + timedelta(days=1)
RUN = datetime(2024, 7, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path) -> Iterator:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    build_world(url)
    publish_book(url)
    app = create_app(url, secret_key="test-secret", workspace_name="Example Co")
    yield app
    app.state.engine.dispose()


def _with(table: pa.Table, account: str, **values: object) -> pa.Table:
    """`table` with some columns of one account's row replaced."""
    row = pc.equal(table["account_id"], account)
    for name, value in values.items():
        column = table[name]
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pc.if_else(row, pa.scalar(value, column.type), column))
    return table


def _api(client: TestClient, **params: str) -> dict:
    response = client.get("/api/accounts", params=params)
    assert response.status_code == 200
    return response.json()


def test_a_new_day_replaces_the_list_its_totals_and_its_menus(app) -> None:
    client = sign_in(TestClient(app))
    before = _api(client)
    assert before["as_of"] == AS_OF.isoformat()
    assert "Umbrella Health" not in client.get("/accounts").text  # churned: not paying
    # The next day Umbrella pays again and Acme doubles.
    accounts = _with(_with(accounts_table(), "umbrella", status="active",
                           mrr=Decimal("1000.00"), arr=Decimal("12000.00")),
                     "acme", mrr=Decimal("20000.00"), arr=Decimal("240000.00"))
    engine = make_engine(str(app.state.engine.url))
    publish_snapshot(engine, as_of=NEXT_DAY, accounts=accounts, arr_history=history_table(),
                     run_started_at=RUN)
    engine.dispose()
    after = _api(client)
    assert after["as_of"] == NEXT_DAY.isoformat()
    assert after["total"] == before["total"] + 1
    assert Decimal(after["total_arr"]) == Decimal(before["total_arr"]) + 120000 + 12000
    page = client.get("/accounts").text
    assert "Umbrella Health" in page
    assert "Jul 1, 2024" in page


def test_the_same_day_published_again_shows_its_new_numbers(app) -> None:
    client = sign_in(TestClient(app))
    assert [a["name"] for a in _api(client, band="red")["accounts"]] == ["Initech"]
    assert _api(client, q="hooli")["total"] == 1
    engine = app.state.engine
    publish_snapshot(engine, as_of=AS_OF, accounts=_with(accounts_table(), "hooli",
                                                         name="Pied Piper"),
                     arr_history=history_table(), run_started_at=RUN)
    assert _api(client, q="hooli")["total"] == 0
    assert [a["name"] for a in _api(client, q="piper")["accounts"]] == ["Pied Piper"]
    # Health alone published again for the same day: Initech is green now.
    publish_health(engine, as_of=AS_OF, churn_risk=churn_risk_table(),
                   health_scores=_with(health_table(), "initech", score=75.0, band="green"))
    assert _api(client, band="red")["accounts"] == []
    menus = client.get("/accounts").text
    assert 'band-chip red' in menus


def test_a_renamed_owner_is_named_anew_at_once(app) -> None:
    client = sign_in(TestClient(app))
    assert "Ana Ruiz" in client.get("/accounts").text
    with session(app.state.engine) as db:
        db.execute(update(User).where(User.email == ANA).values(name="Ana Ruiz-Diaz"))
    page = client.get("/accounts").text
    assert "Ana Ruiz-Diaz" in page
    assert {a["owner_name"] for a in _api(client)["accounts"]
            if a["owner_email"] == ANA} == {"Ana Ruiz-Diaz"}


def test_home_and_operations_follow_the_book(app) -> None:
    client = sign_in(TestClient(app))
    home = client.get("/api/home").json()
    assert "Diagnose the risk with the account team" in [
        t["title"] for t in home["tasks_due_soon"] + home["tasks_overdue"]]
    assert client.get("/api/ops").json()[0]["median_alert_response_days"] is None
    with session(app.state.engine) as db:
        task = db.scalar(select(Task.id).where((Task.account_id == "acme")
                                               & (Task.key == "diagnose")))
        alert = db.scalar(select(Alert.id).where(Alert.account_id == "acme"))
    close_task(app.state.engine, task, actor=ANA, outcome="root cause found", on=AS_OF)
    acknowledge_alert(app.state.engine, alert, actor=ANA, on=AS_OF)
    home = client.get("/api/home").json()
    assert "Diagnose the risk with the account team" not in [
        t["title"] for t in home["tasks_due_soon"] + home["tasks_overdue"]]
    assert "Diagnose the risk with the account team" not in client.get("/").text
    ana = client.get("/api/ops").json()[0]
    assert (ana["group"], ana["median_alert_response_days"]) == (ANA, 0.0)


def test_a_quality_report_published_again_is_the_one_shown(app) -> None:
    client = sign_in(TestClient(app))
    assert client.get("/api/quality").json()["checks"] == []
    check = CheckResult("files", "accounts", "completeness", "required", "name", 9, 1,
                        "error", 0.0, "error", "1 of 10 accounts has no name", ("a7",))
    publish_quality(app.state.engine, QualityReport(as_of=AS_OF, rows=[check]))
    report = client.get("/api/quality").json()
    assert report["counts"]["error"] == 1
    assert "1 of 10 accounts has no name" in client.get("/quality").text


def test_a_result_kept_under_old_counts_is_not_served(app) -> None:
    # Below the pages: the kept result itself follows the counts.
    engine = app.state.engine
    assert cached(engine, "probe", (SNAPSHOT, HEALTH), lambda: "old") == "old"
    publish_health(engine, as_of=AS_OF, health_scores=health_table(),
                   churn_risk=churn_risk_table())
    assert cached(engine, "probe", (SNAPSHOT, HEALTH), lambda: "new") == "new"
    assert date.today() >= AS_OF  # the world is in the past: nothing here depends on today
