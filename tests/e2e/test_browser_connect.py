"""The connect flow in a real browser: the local /integrations page, the emulator's consent
page, and back, in headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Slow, so marked `browser` and run once, on SQLite only (`sqlite_live_server`). A screenshot
ends every step, in the test's tmp_path. Without Chromium the tests skip locally and fail
in CI (`CI` set).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import make_token
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's services, and a
# closed network refuses those connections; none of them matter to a test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
# The page mints its token with POST /_dev/token for this company.
PAGE_COMPANY = "demo"

Screenshot = Callable[[str], Awaitable[Path]]


@pytest.fixture(scope="module")
def chromium_executable() -> Path:
    if not CHROMIUM.is_file():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
async def chromium(chromium_executable: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def page(chromium: Browser) -> AsyncIterator[Page]:
    context = await chromium.new_context(viewport={"width": 1000, "height": 760})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
def screenshot(page: Page, tmp_path: Path) -> Screenshot:
    """`await screenshot("step")` saves the page as tmp_path/NN-step.png."""
    taken: list[Path] = []

    async def take(step: str) -> Path:
        path = tmp_path / f"{len(taken) + 1:02d}-{step}.png"
        await page.screenshot(path=path, full_page=True)
        taken.append(path)
        return path

    return take


def _url_is(expected: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(expected) + "$")


def _url_starts_with(prefix: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(prefix))


async def _read_account(server: LiveServer, account_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {make_token(PAGE_COMPANY)}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10.0) as api:
        response = await api.get(f"/api/integrations/accounts/{account_id}/")
    assert response.status_code == 200, response.text
    account: dict[str, Any] = response.json()
    return account


async def _add_and_connect(
    server: LiveServer, page: Page, screenshot: Screenshot, name: str
) -> str:
    """Add an account on the page and click its Connect: ends on TikTok's consent page."""
    await page.goto(f"{server.url}/integrations")
    await expect(page.locator("#accounts")).to_contain_text("No TikTok accounts yet.")
    await screenshot("empty-page")

    await page.locator("#account-name").fill(name)
    await page.locator("#add-account").click()
    row = page.locator("div.account", has_text=name)
    await expect(row).to_have_attribute("data-status", "pending")
    account_id = await row.get_attribute("data-id")
    assert account_id
    await screenshot("account-added")

    await row.locator("button.connect").click()
    await page.wait_for_url(_url_starts_with(f"{server.url}/_tiktok/v2/auth/authorize/?"))
    await expect(page.locator("#approve")).to_be_visible()
    await expect(page.locator("#deny")).to_be_visible()
    await screenshot("consent-page")
    return account_id


async def test_approving_from_the_page_lands_back_with_the_account_connected(
    sqlite_live_server: LiveServer, page: Page, screenshot: Screenshot
) -> None:
    server = sqlite_live_server
    account_id = await _add_and_connect(server, page, screenshot, "Brand account")

    await page.locator("#approve").click()
    await page.wait_for_url(
        _url_is(f"{server.url}/integrations?connected=true&account_id={account_id}")
    )
    banner = page.locator("#banner")
    await expect(banner).to_have_text("TikTok account connected.")
    await expect(banner).to_have_class("banner ok")
    row = page.locator(f'div.account[data-id="{account_id}"]')
    await expect(row).to_have_attribute("data-status", "connected")
    await expect(row.locator(".status")).to_have_text("connected")
    await expect(row.locator("button.disconnect")).to_be_visible()
    await screenshot("connected")

    account = await _read_account(server, account_id)
    assert account["status"] == "connected"
    assert account["display_name"]
    await expect(row).to_contain_text(account["display_name"])


async def test_denying_on_tiktok_lands_back_with_the_access_denied_banner(
    sqlite_live_server: LiveServer, page: Page, screenshot: Screenshot
) -> None:
    server = sqlite_live_server
    account_id = await _add_and_connect(server, page, screenshot, "Declined account")

    await page.locator("#deny").click()
    await page.wait_for_url(lambda url: urlsplit(url).path == "/integrations")
    assert parse_qs(urlsplit(page.url).query) == {
        "connected": ["false"],
        "account_id": [account_id],
        "error": ["access_denied"],
    }
    banner = page.locator("#banner")
    await expect(banner).to_have_class("banner error")
    await expect(banner).to_have_text("You declined the authorization on TikTok. (access_denied)")
    row = page.locator(f'div.account[data-id="{account_id}"]')
    await expect(row).to_have_attribute("data-status", "pending")
    await expect(row.locator("button.connect")).to_have_text("Connect")
    await screenshot("denied")

    assert (await _read_account(server, account_id))["status"] == "pending"
