"""The app in real headless Chromium: sign in, list, filter, open an account, see its chart,
its health and its churn risk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from quarterdeck.app import create_app
from quarterdeck.testing.live_server import serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def live_url(sqlite_world_url: str) -> Iterator[str]:
    """The app over the hand-made world, served by uvicorn on a free local port."""
    app = create_app(sqlite_world_url, secret_key="browser-test", workspace_name="Example Co")
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_sign_in_filter_and_open_an_account(
    live_url: str, browser: Browser, password: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_url + "/accounts")
    expect(page).to_have_url(live_url + "/login?next=%2Faccounts")

    page.fill("input[name=email]", "ana@example.com")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.screenshot(path=tmp_path / "login.png")

    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(live_url + "/accounts")
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(5)  # paying customers; Umbrella (churned) is one tab away
    page.click(".status-tabs a:text('All accounts')")
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text("Acme Corp")
    expect(page.locator(".stats")).to_contain_text("$304,000")
    expect(page.locator("table.data thead")).to_contain_text("Health")
    expect(rows.first.locator("td.health")).to_contain_text("82.5")
    expect(rows.first.locator("td.health .band.green")).to_be_visible()
    expect(page.locator("tr", has_text="Initech").locator(".band.red")).to_have_text("Red")
    expect(page.locator("tr", has_text="Initech").locator("td.risk")).to_have_text("62%")
    no_score = page.locator("tr", has_text="Globex").locator(".no-score")
    expect(no_score).to_have_attribute("title", "no health model for segment mid-market")
    page.screenshot(path=tmp_path / "accounts.png", full_page=True)

    page.click("th a:text('Health')")  # worst first
    expect(rows.first).to_contain_text("Initech")
    page.click("a.band-chip.red")
    expect(rows).to_have_count(1)
    expect(page.locator("select[name=band]")).to_have_value("red")
    page.click("a:text('Clear')")

    page.select_option("select[name=segment]", "enterprise")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(3)
    page.fill("input[name=q]", "europe")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    page.screenshot(path=tmp_path / "filtered.png", full_page=True)

    page.click("a:text('Clear')")
    page.click("a:text('Acme Corp')")
    expect(page).to_have_url(live_url + "/accounts/acme")
    expect(page.locator("h1")).to_contain_text("Acme Corp")
    chart = page.locator('svg[aria-label="ARR by month"]')
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(24)
    expect(page.locator('svg[aria-label="Average daily active users by week"]')).to_be_visible()
    timeline = page.locator("#timeline .timeline-item")
    expect(timeline).to_have_count(5)
    expect(timeline.first).to_contain_text("Contact left: Cara")
    page.click("#timeline nav a:text('Support')")
    expect(timeline).to_have_count(2)
    expect(page.locator("#timeline")).to_be_in_viewport()
    expect(page.locator("section", has=page.locator("#contacts-title")).locator(".badge.good")
           ).to_have_text("champion")
    expect(page.get_by_text("Acme Europe GmbH")).to_be_visible()
    health = page.locator(".health-panel")
    expect(health.locator(".big-number")).to_have_text("82.5")
    expect(health.locator(".bars li")).to_have_count(5)
    expect(page.locator(".risk-panel .big-number")).to_have_text("4%")
    page.screenshot(path=tmp_path / "account.png", full_page=True)
    assert (tmp_path / "account.png").stat().st_size > 10_000

    page.set_viewport_size({"width": 375, "height": 800})
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.screenshot(path=tmp_path / "account-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(live_url + "/accounts/initech")
    expect(page.locator(".health-panel .reasons li")).to_have_count(3)
    expect(page.locator(".risk-panel")).to_contain_text("Sep 30, 2024")
    page.screenshot(path=tmp_path / "account-at-risk.png", full_page=True)

    page.goto(live_url + "/accounts/acme-eu")
    expect(page.locator(".health-panel")).to_contain_text(
        "Too little data for the enterprise health model.")
    page.screenshot(path=tmp_path / "account-no-score.png", full_page=True)

    page.click("text=Sign out")
    expect(page).to_have_url(live_url + "/login")
    page.close()


def test_sign_out_kills_the_session_for_good(
    live_url: str, browser: Browser, password: str, tmp_path: Path
) -> None:
    """Sign in, copy the session cookie, sign out: a browser holding the copied cookie is sent
    to the login form. No page breaks the content security policy on the way."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy"
            in m.text else None)
    page.goto(live_url + "/login")
    page.fill("input[name=email]", "ana@example.com")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(live_url + "/accounts")
    page.goto(live_url + "/accounts/acme")
    expect(page.locator('svg[aria-label="ARR by month"]')).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == "quarterdeck_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.click("text=Sign out")
    expect(page).to_have_url(live_url + "/login")
    page.screenshot(path=tmp_path / "signed-out.png")

    thief = browser.new_context()
    thief.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    stolen = thief.new_page()
    stolen.goto(live_url + "/accounts")
    expect(stolen).to_have_url(live_url + "/login?next=%2Faccounts")
    expect(stolen.locator("h1")).to_have_text("Sign in")
    assert refused == []
    thief.close()
    context.close()


def test_an_admins_top_bar_is_one_row_on_a_laptop_screen(
    live_url: str, browser: Browser, password: str, tmp_path: Path
) -> None:
    """Nine links for an admin, the workspace's name and the user: one row at 1280 px, none
    broken in two; a phone wraps them instead of widening the page."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_url + "/login")
    page.fill("input[name=email]", "admin@example.com")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("nav.mainnav a:text('Audit log')")).to_be_visible()
    links = page.locator("nav.mainnav a")
    assert links.count() == 9
    tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
    assert len(tops) == 1, f"the links wrap onto {len(tops)} rows"
    heights = {round(links.nth(i).bounding_box()["height"]) for i in range(links.count())}
    assert len(heights) == 1  # no link broken over two lines
    page.screenshot(path=tmp_path / "admin-top-bar-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()
