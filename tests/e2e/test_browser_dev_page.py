"""The local /integrations page keeps the chosen company across the OAuth round trip, in
headless Chromium (the fixtures of test_browser_connect): a user who picked another company
comes back from TikTok's consent page to that company's accounts, not to the default's.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.conftest import make_token
from tests.e2e.test_browser_connect import (  # noqa: F401 - fixtures
    Screenshot,
    _url_starts_with,
    chromium,
    chromium_executable,
    page,
    screenshot,
)
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser


async def test_the_chosen_company_survives_the_oauth_round_trip(
    sqlite_live_server: LiveServer,
    page: Page,  # noqa: F811
    screenshot: Screenshot,  # noqa: F811
) -> None:
    server = sqlite_live_server
    await page.goto(f"{server.url}/integrations")
    company = page.locator("#company")
    await expect(company).to_have_value("demo")
    await company.fill("globex")
    await company.press("Tab")  # `change`: the page switches to globex's accounts
    await expect(page.locator("#accounts")).to_contain_text("No TikTok accounts yet.")

    await page.locator("#account-name").fill("Globex brand")
    await page.locator("#add-account").click()
    row = page.locator("div.account", has_text="Globex brand")
    await expect(row).to_have_attribute("data-status", "pending")
    account_id = await row.get_attribute("data-id")
    assert account_id
    await screenshot("globex-account-added")

    await row.locator("button.connect").click()
    await page.wait_for_url(_url_starts_with(f"{server.url}/_tiktok/v2/auth/authorize/?"))
    await page.locator("#approve").click()
    await page.wait_for_url(_url_starts_with(f"{server.url}/integrations?connected=true"))

    await expect(company).to_have_value("globex")
    back = page.locator(f'div.account[data-id="{account_id}"]')
    await expect(back).to_have_attribute("data-status", "connected")
    await expect(page.locator("#banner")).to_have_text("TikTok account connected.")
    await screenshot("globex-connected")
    headers = {"Authorization": f"Bearer {make_token('globex')}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as api:
        stored = await api.get(f"/api/integrations/accounts/{account_id}/")
    assert stored.json()["status"] == "connected"  # globex's account, read as globex

    await page.reload()  # and on a later visit
    await expect(company).to_have_value("globex")
    await expect(back).to_have_attribute("data-status", "connected")
