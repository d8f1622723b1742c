"""The book in real headless Chromium: a CSM signs in to their home, acknowledges an alert,
closes a task with its outcome and logs a meeting on the account page; a leader reads the
operations page; nothing overflows a phone's width. Screenshots go to
$QUARTERDECK_SCREENSHOTS (default: the test's temporary folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from quarterdeck.app import create_app
from quarterdeck.lifecycle.book import default_book
from quarterdeck.testing.live_server import serve
from tests.app.conftest import build_world
from tests.app.test_book_pages import publish_book
from tests.app.test_browser import CHROMIUM, CHROMIUM_ARGS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('book-browser') / 'app.db'}"
    build_world(url)
    publish_book(url)
    app = create_app(url, secret_key="browser-test", workspace_name="Example Co")
    app.state.playbooks = default_book().playbooks
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


def _sign_in(page: Page, url: str, email: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_a_csm_works_their_book_from_home(live_url: str, browser: Browser, password: str,
                                         shots: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, live_url, "ana@example.com", password)
    page.goto(live_url + "/")
    expect(page.locator("h1")).to_have_text("My book")
    alerts = page.locator("section[aria-labelledby=alerts-title] .book-item")
    expect(alerts).to_have_count(1)
    expect(alerts.first).to_contain_text("usage drop")
    page.screenshot(path=shots / "home.png", full_page=True)

    alerts.first.get_by_role("button", name="Acknowledge").click()
    expect(page).to_have_url(live_url + "/")
    expect(alerts.first).to_contain_text("acknowledged")
    expect(alerts.first.get_by_role("button", name="Acknowledge")).to_have_count(0)

    task = page.locator("section[aria-labelledby=tasks-title] .book-item",
                        has_text="Diagnose the risk")
    task.locator("input[name=outcome]").fill("Root cause: the admin left")
    task.get_by_role("button", name="Done").click()
    expect(page.locator("section[aria-labelledby=tasks-title]")).not_to_contain_text(
        "Diagnose the risk")

    page.click("a:text('Acme Corp')")
    expect(page.locator("#book-title")).to_contain_text("at risk")
    page.select_option("select[name=kind]", "meeting")
    page.fill("input[name=body]", "Met the new VP of Ops")
    page.get_by_role("button", name="Log").click()
    expect(page.locator("ul.notes")).to_contain_text("Met the new VP of Ops")
    page.screenshot(path=shots / "account-book.png", full_page=True)


def test_a_leader_reads_the_operations_page(live_url: str, browser: Browser, password: str,
                                            shots: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, live_url, "admin@example.com", password)
    page.goto(live_url + "/operations")
    expect(page.locator("tr.total")).to_contain_text("4")
    expect(page.locator("tr", has_text="ana@example.com").locator(".badge")).to_have_text("over")
    page.click("a:text('By segment')")
    expect(page).to_have_url(live_url + "/operations?by=segment")
    expect(page.locator("#definitions")).to_contain_text("Playbook execution")
    page.screenshot(path=shots / "operations.png", full_page=True)


@pytest.mark.parametrize("path", ["/", "/operations", "/accounts/acme", "/accounts", "/quality"])
def test_book_pages_fit_a_phone(live_url: str, browser: Browser, password: str, shots: Path,
                                path: str) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 740})
    _sign_in(page, live_url, "admin@example.com", password)
    page.goto(live_url + path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    name = path.strip("/").replace("/", "-") or "home"
    page.screenshot(path=shots / f"phone-{name}.png", full_page=True)
    assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
