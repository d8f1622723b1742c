"""The weekly reports kept in the app database, read in the web app: the latest first, any past
one by id, downloads in every format with the reader's own actions first, figures linked to
their definitions, and unknown ids refused as a page or as JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.appdb import make_engine
from quarterdeck.reports.store import save_report
from quarterdeck.reports.weekly_report import Retention, WeeklyReport
from tests.app.conftest import build_world, sign_in
from tests.reports.conftest import action, bridge

WEEKS = (date(2024, 6, 23), date(2024, 6, 30))


def weekly(as_of: date, nrr: float) -> WeeklyReport:
    """A small report of `as_of`: Ben's action outranks Ana's two."""
    return WeeklyReport(
        company="Example Co", as_of=as_of, currency="USD",
        week=bridge("2024-W26", date(2024, 6, 24), as_of),
        quarter=bridge("2024-Q2", date(2024, 4, 1), as_of),
        retention=Retention(window_start=date(2023, 6, 30), cohort_customers=5, nrr=nrr,
                            grr=0.91, logo_churn=0.2, revenue_churn=0.05, target_nrr=1.05,
                            target_grr=0.9),
        health_moves=[], renewals_decided=[], renewals_due=[], alerts=[], ops=[], quality=[],
        actions=[action("ana@example.com", "acme", "48000"),
                 action("ben@example.com", "initech", "90000"),
                 action("ana@example.com", "acme-eu", "1000")])


def keep_reports(url: str) -> list[int]:
    """Keep the weekly reports of `WEEKS`; their ids, oldest first."""
    engine = make_engine(url)
    ids = [save_report(engine, weekly(day, nrr)) for day, nrr in zip(WEEKS, (1.01, 1.07),
                                                                        strict=True)]
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def reports_app(tmp_path_factory) -> Iterator[tuple[FastAPI, list[int]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'app.db'}"
    build_world(url)
    ids = keep_reports(url)
    app = create_app(url, secret_key="test-secret", workspace_name="Example Co")
    yield app, ids
    app.state.engine.dispose()


def client_of(app: FastAPI, email: str = "ana@example.com") -> TestClient:
    return sign_in(TestClient(app), email)


def test_the_list_shows_the_latest_report_first(reports_app) -> None:
    app, (older, latest) = reports_app
    html = client_of(app).get("/reports").text
    assert "Report as of <strong>Jun 30, 2024</strong>" in html
    assert html.index(f'href="/reports/{latest}"') < html.index(f'href="/reports/{older}"')
    assert "107.0%" in html and "101.0%" not in html  # the latest week's NRR
    for fmt in ("pdf", "md", "html"):
        assert f'href="/reports/{latest}.{fmt}"' in html


def test_a_past_report_shows_as_it_was_built(reports_app) -> None:
    app, (older, _) = reports_app
    html = client_of(app).get(f"/reports/{older}").text
    assert "Report as of <strong>Jun 23, 2024</strong>" in html and "101.0%" in html
    assert f'href="/reports/{older}" aria-current="page"' in html


def test_the_readers_own_actions_come_first(reports_app) -> None:
    app, (_, latest) = reports_app
    ana = client_of(app).get(f"/reports/{latest}").text
    assert ana.index("Account acme") < ana.index("Account initech")
    assert "ana@example.com (you)" in ana
    ben = client_of(app, "ben@example.com").get(f"/reports/{latest}").text
    assert ben.index("Account initech") < ben.index("Account acme")


def test_every_figure_links_to_a_definition_on_the_page(reports_app) -> None:
    app, (_, latest) = reports_app
    html = client_of(app).get(f"/reports/{latest}").text
    targets = set(re.findall(r'class="def-link" href="#def-([a-z_]+)"', html))
    defined = set(re.findall(r'<dt id="def-([a-z_]+)"', html))
    assert {"arr_bridge", "new", "churn", "nrr", "grr", "forecast", "priority",
            "next_best_actions"} <= targets
    assert targets <= defined
    assert "quarterdeck export retention --as-of 2024-06-30" in html
    # laid out by the app: no page of its own and no inline style sheet the policy refuses
    article = html[html.index('<article class="panel weekly-report"'):]
    assert "<html" not in article and "<style" not in article and "<svg" in article


def test_downloads_in_every_format_with_the_readers_actions_first(reports_app) -> None:
    app, (_, latest) = reports_app
    client = client_of(app)
    md = client.get(f"/reports/{latest}.md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"] == (
        'attachment; filename="weekly-report-2024-06-30.md"')
    actions = md.text.split("*Next best actions*:")[1].strip().splitlines()
    assert "Account acme" in actions[0]
    page = client.get(f"/reports/{latest}.html")
    assert page.text.startswith("<!doctype html>") and "<style>" in page.text
    assert "copy for ana@example.com" in page.text
    pdf = client.get(f"/reports/{latest}.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"


def test_the_api_lists_reports_and_returns_one(reports_app) -> None:
    app, (older, latest) = reports_app
    client = client_of(app)
    listed = client.get("/api/reports").json()
    assert [(r["id"], r["as_of"]) for r in listed] == [(latest, "2024-06-30"),
                                                       (older, "2024-06-23")]
    assert listed[0]["downloads"]["pdf"] == f"/reports/{latest}.pdf"
    one = client.get(f"/api/reports/{older}").json()
    assert one["as_of"] == "2024-06-23" and one["retention"]["nrr"] == 1.01


def test_unknown_ids_and_formats_are_refused(reports_app) -> None:
    app, _ = reports_app
    client = client_of(app)
    page = client.get("/reports/999")
    assert page.status_code == 404 and "<!doctype html>" in page.text.lower()
    assert "No stored report 999" in page.text
    assert client.get("/reports/999.pdf").status_code == 404
    api = client.get("/api/reports/999")
    assert api.status_code == 404 and api.json()["error"] == "NotFound"
    assert client.get("/reports/1.docx").status_code == 400
    assert client.get("/reports/abc").status_code == 400
    assert client.get("/api/reports/abc").status_code == 422


def test_no_report_kept_yet_says_how_to_make_one(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    build_world(url)
    app = create_app(url, secret_key="test-secret")
    client = client_of(app)
    html = client.get("/reports").text
    assert "No weekly report kept yet" in html and "quarterdeck report weekly" in html
    assert client.get("/api/reports").json() == []
    app.state.engine.dispose()


def test_a_viewer_reads_reports_and_a_stranger_is_sent_to_sign_in(reports_app) -> None:
    app, (_, latest) = reports_app
    assert TestClient(app).get("/reports", follow_redirects=False).status_code == 303
    assert TestClient(app).get("/api/reports").status_code == 401
    assert TestClient(app).get(f"/reports/{latest}.pdf",
                               follow_redirects=False).status_code == 303
