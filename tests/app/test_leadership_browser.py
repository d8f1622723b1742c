"""The leadership page in real headless Chromium: a leader signs in, sees the month's ARR
bridge as a waterfall and the retention trends drawn, follows a figure to its definition and
picks an earlier day without JavaScript; nothing overflows a phone's width. Screenshots go to
$QUARTERDECK_SCREENSHOTS (default: the test's temporary folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from quarterdeck.app import create_app
from quarterdeck.testing.live_server import serve
from tests.app.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.app.test_leadership_page import publish_leadership

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('leadership-browser') / 'app.db'}"
    publish_leadership(url)
    app = create_app(url, secret_key="browser-test", workspace_name="Example Co")
    with serve(app) as base:
        yield base
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("QUARTERDECK_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _signed_in(browser: Browser, url: str, password: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900},
                            java_script_enabled=False)
    page.goto(url + "/login")
    page.fill("input[name=email]", "admin@example.com")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    return page


def test_a_leader_reads_the_bridge_and_trends_and_picks_a_day(live_url: str, browser: Browser,
                                                              password: str,
                                                              shots: Path) -> None:
    from playwright.sync_api import expect

    page = _signed_in(browser, live_url, password, 1280)
    page.click("nav.mainnav a:text('Leadership')")
    expect(page.locator("h1")).to_have_text("Leadership")
    waterfall = page.locator("svg.waterfall")
    expect(waterfall.locator("rect.bar")).to_have_count(8)  # start, 6 movements, end
    expect(waterfall.locator("rect.bar.up")).to_have_count(1)  # expansion
    expect(waterfall.locator("rect.bar.down")).to_have_count(2)  # contraction, churn
    assert waterfall.bounding_box()["height"] > 150
    bars = [b for b in (waterfall.locator("rect.bar").nth(i).bounding_box() for i in range(8))]
    assert bars[-1]["height"] > 0 and bars[0]["height"] > bars[2]["height"]
    trends = page.locator("svg.trend")
    expect(trends).to_have_count(2)
    expect(trends.first.locator("circle.point.nrr")).to_have_count(1)  # June only: May has no
    expect(page.locator("svg.stacked rect.bar")).to_have_count(1)  # cohort; 1 logo churned
    page.screenshot(path=shots / "leadership.png", full_page=True)

    page.locator("#retention-title").scroll_into_view_if_needed()
    page.locator("a.def-link[href='#def-nrr']").first.click()
    assert page.url.endswith("#def-nrr")
    expect(page.locator("#def-nrr")).to_be_in_viewport()

    page.select_option("select[name=as_of]", "2024-05-31")
    page.get_by_role("button", name="Show").click()
    assert page.url.endswith("/leadership?as_of=2024-05-31")
    expect(page.locator(".page-head")).to_contain_text("Figures as of May 31, 2024")
    expect(page.locator("svg.waterfall")).to_have_count(0)


def test_the_leadership_page_fits_a_phone(live_url: str, browser: Browser, password: str,
                                          shots: Path) -> None:
    page = _signed_in(browser, live_url, password, 375)
    page.goto(live_url + "/leadership")
    assert page.locator("svg.waterfall").bounding_box()["width"] <= 375
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=shots / "phone-leadership.png", full_page=True)
    assert overflow <= 0, f"/leadership is {overflow}px wider than a phone"
