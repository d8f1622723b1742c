"""The report published to the app database, on the /quality page and at /api/quality; the
stale inputs a health score read, on the account page and in the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from quarterdeck.app import create_app
from quarterdeck.appdb import add_user, make_engine, migrate, publish_snapshot
from quarterdeck.appdb.models import DataQualityCheck, HealthScore
from quarterdeck.appdb.publish import PublishError
from quarterdeck.appdb.publish_health import publish_health
from quarterdeck.appdb.publish_quality import publish_quality
from quarterdeck.health.definitions import DEFAULT_HEALTH_MODELS_PATH, load_health_models
from quarterdeck.quality.report import QualityReport
from quarterdeck.quality.stale_inputs import health_data_warnings, with_data_warnings
from quarterdeck.testing.quality_worlds import AS_OF, check_world, stale_help_desk
from quarterdeck.testing.web_client import post_login
from tests.app.conftest import accounts_table, health_table, history_table

PASSWORD = "a long enough test password"
STALE = "tickets from files are 9 days old (expected every 1d)"


@pytest.fixture(scope="module")
def report() -> QualityReport:
    return check_world(stale_help_desk(), definitions={"rules": [
        {"kind": "has_owner", "entity": "accounts", "field": "owner_email"}]})


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    add_user(engine, "ana@example.com", "Ana Ruiz", "csm", PASSWORD)
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(str(engine.url), secret_key="test-secret", workspace_name="Example Co")
    with TestClient(app) as client:
        response = post_login(client, "ana@example.com", PASSWORD)
        assert response.status_code == 303
        yield client
    app.state.engine.dispose()


def _published(engine: Engine, as_of: date = AS_OF) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).where(
            DataQualityCheck.as_of == as_of)).scalar()


def test_publishing_replaces_the_report_of_the_day(engine: Engine, report: QualityReport):
    assert publish_quality(engine, report) == len(report.rows)
    assert publish_quality(engine, report) == len(report.rows)
    assert _published(engine) == len(report.rows)
    smaller = QualityReport(AS_OF, report.stale)
    publish_quality(engine, smaller)
    assert _published(engine) == 1


def test_the_page_shows_the_report_grouped_by_source_problems_first(
        engine: Engine, report: QualityReport, client: TestClient):
    publish_quality(engine, report)
    page = client.get("/quality")
    assert page.status_code == 200
    html = page.text
    assert "Data quality" in html and 'href="/quality" aria-current="page"' in html
    assert STALE in html and "newest 2024-06-20 14:00 UTC" in html
    problems, _, passing = html.partition("checks ok</summary>")
    assert STALE in problems and "unknown_account" in passing
    assert f">{report.count('error')}<" in html.replace(" ", "").replace("\n", "")


def test_the_page_before_any_report_says_how_to_get_one(client: TestClient):
    page = client.get("/quality")
    assert page.status_code == 200 and "No data-quality report yet" in page.text


def test_the_api_returns_the_same_rows_and_filters_them(
        engine: Engine, report: QualityReport, client: TestClient):
    publish_quality(engine, report)
    body = client.get("/api/quality").json()
    assert body["as_of"] == "2024-06-30" and body["sources"] == ["files"]
    assert body["counts"] == {s: report.count(s) for s in ("error", "warning", "ok")}
    assert len(body["checks"]) == len(report.rows)
    first = body["checks"][0]
    assert (first["status"], first["entity"], first["check"], first["detail"]) == (
        "error", "tickets", "freshness", STALE)
    assert first["newest_at"].startswith("2024-06-20T14:00:00")
    errors = client.get("/api/quality", params={"status": "error"}).json()
    assert [c["entity"] for c in errors["checks"]] == ["tickets"]
    assert client.get("/api/quality", params={"as_of": "2024-01-01"}).json()["checks"] == []


def test_the_api_needs_a_signed_in_user(engine: Engine):
    app = create_app(str(engine.url), secret_key="test-secret")
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/quality").status_code == 401
        assert anonymous.get("/quality", follow_redirects=False).status_code == 303
    app.state.engine.dispose()


def test_a_model_reading_a_stale_input_carries_its_warning(report: QualityReport):
    models = load_health_models(DEFAULT_HEALTH_MODELS_PATH)
    warnings = health_data_warnings(models, report)
    assert warnings == {"default": f"{STALE}: feeds csat_90d, urgent_tickets_30d"}
    scores = pa.table({"account_id": ["a", "b"], "model": ["default", None]})
    assert with_data_warnings(scores, models, report)["data_warnings"].to_pylist() == [
        warnings["default"], None]
    fresh = check_world(stale_help_desk(), as_of=date(2024, 6, 21))
    assert health_data_warnings(models, fresh) == {}


def test_health_scores_carry_their_warnings_to_the_account_page_and_api(
        engine: Engine, report: QualityReport, client: TestClient):
    publish_snapshot(engine, as_of=AS_OF, accounts=accounts_table(),
                     arr_history=history_table(), run_started_at=datetime(2024, 7, 1, tzinfo=UTC))
    scores = health_table()
    scores = scores.append_column("data_warnings", pa.array(
        [f"{STALE}: feeds urgent_tickets_30d" if a == "hooli" else None
         for a in scores["account_id"].to_pylist()], pa.string()))
    publish_health(engine, as_of=AS_OF, health_scores=scores, churn_risk=None, quality=report)
    assert _published(engine) == len(report.rows)  # in the same transaction
    health = client.get("/api/accounts/hooli").json()["health"]
    assert health["data_warnings"] == [f"{STALE}: feeds urgent_tickets_30d"]
    assert client.get("/api/accounts/acme").json()["health"]["data_warnings"] == []
    page = client.get("/accounts/hooli").text
    assert "Data warning" in page and f"{STALE}: feeds urgent_tickets_30d" in page
    assert "Data warning" not in client.get("/accounts/acme").text
    with engine.connect() as connection:
        stored = connection.execute(select(HealthScore.data_warnings).where(
            HealthScore.account_id == "hooli")).scalar()
    assert stored == f"{STALE}: feeds urgent_tickets_30d"


def test_a_report_of_another_day_is_not_published_with_the_health_scores(
        engine: Engine, report: QualityReport):
    with pytest.raises(PublishError, match="as of 2024-06-30 published as of 2024-07-01"):
        publish_health(engine, as_of=date(2024, 7, 1), quality=report, churn_risk=None,
                       health_scores=health_table(date(2024, 7, 1)))
    assert _published(engine) == 0
