"""The data-quality page in real headless Chromium: problems first, passing checks folded
away, and a stale source's warning on the health score it feeds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest

from quarterdeck.app import create_app
from quarterdeck.appdb import add_user, make_engine, migrate, publish_snapshot
from quarterdeck.appdb.publish_health import publish_health
from quarterdeck.quality.report import QualityReport
from quarterdeck.testing.live_server import serve
from quarterdeck.testing.quality_worlds import AS_OF, check_world, stale_help_desk
from tests.app.conftest import accounts_table, health_table, history_table
from tests.app.test_browser import CHROMIUM, CHROMIUM_ARGS

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PASSWORD = "a long enough test password"
STALE = "tickets from files are 9 days old (expected every 1d)"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a published snapshot, health scores and a quality report with a stale
    help desk."""
    report: QualityReport = check_world(stale_help_desk(), definitions={"rules": [
        {"kind": "has_owner", "entity": "accounts", "field": "owner_email"}]})
    folder = tmp_path_factory.mktemp("quality-browser")
    engine = make_engine(f"sqlite:///{folder / 'app.db'}")
    migrate(engine)
    add_user(engine, "ana@example.com", "Ana Ruiz", "csm", PASSWORD)
    publish_snapshot(engine, as_of=AS_OF, accounts=accounts_table(),
                     arr_history=history_table(), run_started_at=datetime(2024, 7, 1, tzinfo=UTC))
    scores = health_table()
    scores = scores.append_column("data_warnings", pa.array(
        [f"{STALE}: feeds urgent_tickets_30d" if a == "hooli" else None
         for a in scores["account_id"].to_pylist()], pa.string()))
    publish_health(engine, as_of=AS_OF, health_scores=scores, churn_risk=None, quality=report)
    engine.dispose()
    app = create_app(f"sqlite:///{folder / 'app.db'}", secret_key="browser-test",
                     workspace_name="Example Co")
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_the_report_shows_problems_first_and_the_stale_source_on_the_score(
        live_url: str, browser: Browser, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_url + "/login")
    page.fill("input[name=email]", "ana@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(live_url + "/accounts")

    page.click("nav >> text=Data quality")
    expect(page).to_have_url(live_url + "/quality")
    expect(page.locator("h1")).to_have_text("Data quality")
    problems = page.locator("table.data").first.locator("tbody tr")
    expect(problems.first).to_contain_text(STALE)
    expect(problems.first.locator(".band")).to_have_text("error")
    # the finding wraps inside the page instead of running off to the right
    box = problems.first.locator("td.finding").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280
    passing = page.locator("details.passing")
    expect(passing.locator("table")).to_be_hidden()
    passing.locator("summary").click()
    expect(passing.locator("table")).to_be_visible()
    expect(passing).to_contain_text("unknown_account")
    page.screenshot(path=tmp_path / "quality.png", full_page=True)

    page.goto(live_url + "/accounts/hooli")
    expect(page.get_by_text("Data warning")).to_be_visible()
    expect(page.get_by_text(f"{STALE}: feeds urgent_tickets_30d")).to_be_visible()
    page.goto(live_url + "/accounts/acme")
    expect(page.get_by_text("Data warning")).to_have_count(0)
