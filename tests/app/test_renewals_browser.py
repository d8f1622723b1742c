"""Renewals and weekly reports in real headless Chromium: a CSM signs in, makes a call on a
renewal of their own from the renewals page and finds it kept after a reload, then reads the
latest weekly report; neither page overflows a phone's width. Screenshots go to
$QUARTERDECK_SCREENSHOTS (default: the test's temporary folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from quarterdeck.app import create_app
from quarterdeck.testing.live_server import serve
from tests.app.conftest import build_world
from tests.app.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.app.test_renewals_page import publish_renewals
from tests.app.test_reports_page import keep_reports

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('renewals-browser') / 'app.db'}"
    build_world(url)
    publish_renewals(url)
    keep_reports(url)
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


def _signed_in(browser: Browser, url: str, password: str, width: int,
               email: str = "ana@example.com") -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    return page


def test_a_csm_calls_their_renewal_and_reads_the_weekly_report(
        live_url: str, browser: Browser, password: str, shots: Path) -> None:
    from playwright.sync_api import expect

    page = _signed_in(browser, live_url, password, 1280)
    page.get_by_role("link", name="Renewals").click()
    expect(page.locator("h1")).to_have_text("Renewals")
    expect(page.locator("#as-of")).to_contain_text("Jun 30, 2024")
    expect(page.locator("#headline-expected")).to_have_text("$134,400")
    expect(page.locator("#headline-committed")).to_have_text("$0")
    acme = page.locator('tr[data-renewal="acme@2024-08-15"]')
    acme.locator("select[name=category]").select_option("commit")
    acme.locator("input[name=note]").fill("Order form signed")
    acme.get_by_role("button", name="Save").click()
    expect(page).to_have_url(live_url + "/renewals#renewal-1")

    page.reload()
    acme = page.locator('tr[data-renewal="acme@2024-08-15"]')
    expect(acme.locator(".badge.call-commit")).to_have_text("Commit")
    expect(acme.locator(".call-note")).to_have_text("Order form signed")
    expect(acme.locator("select[name=category]")).to_have_value("commit")
    expect(page.locator("#headline-committed")).to_have_text("$120,000")
    # Ben's renewals show with everyone's, but Ana cannot call them
    page.click("#show-all")
    expect(page.locator('tr[data-renewal="initech@2024-09-01"]')).to_contain_text("At risk")
    expect(page.locator('tr[data-renewal="initech@2024-09-01"] form')).to_have_count(0)
    page.screenshot(path=shots / "renewals.png", full_page=True)

    page.get_by_role("link", name="Reports").click()
    expect(page.locator("#as-of")).to_contain_text("Jun 30, 2024")
    report = page.locator("article.weekly-report")
    expect(report.locator("h1")).to_contain_text("weekly operating report")
    expect(report.locator("h3").filter(has_text="(you)")).to_have_text("ana@example.com (you)")
    report.get_by_role("link", name="Net revenue retention (NRR)").click()
    expect(page).to_have_url(live_url + "/reports#def-nrr")
    page.screenshot(path=shots / "reports.png", full_page=True)


@pytest.mark.parametrize("path", ["/renewals?owner=all", "/reports"])
def test_renewals_and_reports_fit_a_phone(live_url: str, browser: Browser, password: str,
                                          shots: Path, path: str) -> None:
    page = _signed_in(browser, live_url, password, 375)
    page.goto(live_url + path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    name = path.strip("/").split("?")[0]
    page.screenshot(path=shots / f"phone-{name}.png", full_page=True)
    assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
