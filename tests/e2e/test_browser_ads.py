"""The local /integrations page with a TikTok Ads account, in headless Chromium: add it,
connect it through the emulator's TikTok for Business consent, submit a test lead, backfill.

Slow, so marked `browser` and run once, on SQLite only; the app's background jobs run (the
backfill worker). Chromium and the page fixtures are those of test_browser_connect.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from tests.conftest import make_settings
from tests.e2e.test_browser_connect import (  # noqa: F401 - fixtures
    Screenshot,
    chromium,
    chromium_executable,
    page,
    screenshot,
)
from tests.live_server import LiveServer, delete_all_rows, serve

pytestmark = pytest.mark.browser


@pytest.fixture
async def ads_live_server(sqlite_database_url: str) -> AsyncIterator[LiveServer]:
    try:
        with serve(
            lambda url: make_settings(
                database_url=sqlite_database_url,
                api_base_url=url,
                frontend_url=url,
                background_jobs_enabled=True,
                leads_backfill_interval_seconds=0.2,
                leads_backfill_poll_seconds=0.01,
            )
        ) as server:
            yield server
    finally:
        await delete_all_rows(make_settings(database_url=sqlite_database_url))


async def test_an_ads_account_connects_receives_a_test_lead_and_backfills_from_the_page(
    ads_live_server: LiveServer,
    page: Page,  # noqa: F811
    screenshot: Screenshot,  # noqa: F811
) -> None:
    server = ads_live_server
    await page.goto(f"{server.url}/integrations")
    await expect(page.locator("#ads-accounts")).to_contain_text("No TikTok Ads accounts yet.")
    await page.locator("#ads-account-name").fill("Lead ads")
    await page.locator("#add-ads-account").click()
    card = page.locator("div.account.ads", has_text="Lead ads")
    await expect(card).to_have_attribute("data-status", "pending")
    await screenshot("ads-account-added")

    await card.locator("button.connect").click()
    await page.wait_for_url(re.compile("^" + re.escape(f"{server.url}/_tiktok/portal/auth?")))
    await screenshot("business-consent")
    await page.locator("#approve").click()
    await page.wait_for_url(re.compile(re.escape(f"{server.url}/integrations?connected=true")))
    await expect(card).to_have_attribute("data-status", "connected")
    advertisers = card.locator("ul.advertisers li")
    await expect(advertisers).to_have_count(3)
    await expect(advertisers.first).to_contain_text("lead webhooks on")
    await screenshot("ads-connected")

    await advertisers.first.locator("button.test-lead").click()
    await expect(page.locator("#banner")).to_contain_text("A test lead was submitted")
    rows = page.locator("#leads tr[data-lead-id]")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("webhook")
    await screenshot("test-lead")

    await card.locator("button.backfill").click()
    await expect(page.locator("#banner")).to_contain_text("Backfill done", timeout=30_000)
    await expect(page.locator("#leads tr[data-lead-id]")).to_have_count(25)
    await expect(page.locator("#leads")).to_contain_text("backfill")
    await screenshot("backfilled")


@pytest.fixture
async def reconciling_live_server(sqlite_database_url: str) -> AsyncIterator[LiveServer]:
    """Background jobs on, and an advertiser due a reconciliation a second after it connects."""
    try:
        with serve(
            lambda url: make_settings(
                database_url=sqlite_database_url,
                api_base_url=url,
                frontend_url=url,
                background_jobs_enabled=True,
                leads_backfill_poll_seconds=0.01,
                leads_reconcile_interval_seconds=1,
            )
        ) as server:
            yield server
    finally:
        await delete_all_rows(make_settings(database_url=sqlite_database_url))


async def test_the_page_shows_the_last_reconciliation_and_its_gaps(
    reconciling_live_server: LiveServer,
    page: Page,  # noqa: F811
    screenshot: Screenshot,  # noqa: F811
) -> None:
    server = reconciling_live_server
    await page.goto(f"{server.url}/integrations")
    await page.locator("#ads-account-name").fill("Lead ads")
    await page.locator("#add-ads-account").click()
    card = page.locator("div.account.ads", has_text="Lead ads")
    await card.locator("button.connect").click()
    await page.wait_for_url(re.compile("^" + re.escape(f"{server.url}/_tiktok/portal/auth?")))
    await page.locator("#approve").click()
    await page.wait_for_url(re.compile(re.escape(f"{server.url}/integrations?connected=true")))
    await expect(card).to_have_attribute("data-status", "connected")

    # The emulator's seeded leads never came by webhook: the first reconciliation finds them.
    line = card.locator(".reconciliation-status")
    for _ in range(60):
        await page.reload()
        if "gaps found" in (await line.text_content() or ""):
            break
        await page.wait_for_timeout(500)
    await expect(line).to_contain_text("gaps found")
    await expect(line).to_contain_text("Last reconciliation (")
    await screenshot("reconciliation-gaps")
