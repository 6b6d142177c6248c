"""Popup mode in a real browser, with the frontend on another origin: the page calls the API
with `fetch` (a bearer token and a `traceparent`, so CORS preflights), opens the connect in a
popup, the user approves on the emulator's consent page, and the popup posts the result to
the page and closes. Proves what unit tests cannot: CORS as Chromium applies it, and the
popup page's script allowed by its Content-Security-Policy hash.

Marked `browser` and run once, on SQLite, like `test_browser_connect.py`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from app.accounts import service as accounts_service
from tests.conftest import make_settings, make_token
from tests.e2e import test_browser_connect as browser_test
from tests.live_server import LiveServer, delete_all_rows, serve

pytestmark = pytest.mark.browser

# Chromium as `test_browser_connect.py` launches it (its fixtures, reused).
chromium_executable = browser_test.chromium_executable
chromium = browser_test.chromium
TIMEOUT_MS = browser_test.TIMEOUT_MS

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
FRONTEND_PAGE = """<!doctype html><html><body>
<button id="connect">Connect</button><pre id="log"></pre>
<script>
const API = %(api)s, TOKEN = %(token)s, HERE = window.location.origin;
window.results = [];
window.addEventListener("message", (event) => {
  if (event.origin !== API) return;
  window.results.push(event.data);
});
async function call(method, path, body) {
  const response = await fetch(API + path, {
    method,
    headers: {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json",
              "traceparent": %(traceparent)s, "Idempotency-Key": crypto.randomUUID()},
    body: body ? JSON.stringify(body) : undefined,
  });
  window.lastRequestId = response.headers.get("X-Request-ID");
  return response.json();
}
// A read as the CRM's frontend makes it: what the page can see of the answer through CORS.
window.read = async (path) => {
  const response = await fetch(API + path, {
    headers: {"Authorization": "Bearer " + TOKEN, "traceparent": %(traceparent)s},
  });
  return {status: response.status, requestId: response.headers.get("X-Request-ID"),
          body: await response.json()};
};
document.getElementById("connect").addEventListener("click", async () => {
  const popup = window.open("about:blank", "tiktok-connect", "width=500,height=700");
  const account = await call("POST", "/api/integrations/accounts/",
                             {platform: "tiktok", name: "Popup brand"});
  window.accountId = account.id;
  const body = window.connectBody || {return_to: HERE + "/done", mode: "popup"};
  const started = await call("POST", "/api/integrations/accounts/" + account.id + "/connect/",
                             body);
  popup.location.href = started.authorization_url;
});
</script></body></html>"""


@contextmanager
def _frontend(api: dict[str, str], token: str) -> Iterator[str]:
    """The CRM frontend: one page on its own origin (another port). Its origin must be in
    the service's settings before the service starts, so it starts first and learns the
    API's URL (`api["url"]`) once the service listens."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            values = {"api": api["url"], "token": token, "traceparent": TRACEPARENT}
            body = (FRONTEND_PAGE % {k: json.dumps(v) for k, v in values.items()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def world(
    database_url: str, chromium_executable: Path
) -> AsyncIterator[tuple[LiveServer, str]]:
    """The service (with the emulator) and a frontend on another origin it allows."""
    if not database_url.startswith("sqlite"):
        pytest.skip("browser tests run once, on SQLite")
    api: dict[str, str] = {}
    with _frontend(api, make_token("popup-co")) as frontend:
        try:
            with serve(
                lambda url: make_settings(
                    database_url=database_url,
                    api_base_url=url,
                    frontend_url=url,
                    frontend_origins=frontend,
                    background_jobs_enabled=False,
                )
            ) as server:
                api["url"] = server.url
                yield server, frontend
        finally:
            await delete_all_rows(make_settings(database_url=database_url))


async def test_popup_mode_posts_the_result_to_a_cross_origin_frontend(
    world: tuple[LiveServer, str],
    chromium: Browser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, frontend = world
    context = await chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page: Page = await context.new_page()
    try:
        await page.goto(f"{frontend}/")
        async with page.expect_popup() as opened:
            await page.click("#connect")
        popup = await opened.value
        await popup.wait_for_url(lambda url: "/_tiktok/" in url)
        async with popup.expect_event("close"):  # listening before the click: it is quick
            await popup.locator("#approve").click()
        await page.wait_for_function("window.results.length > 0")
        results = await page.evaluate("window.results")
        account_id = await page.evaluate("window.accountId")
        request_id = await page.evaluate("window.lastRequestId")
        await page.screenshot(path=tmp_path / "frontend-after-popup.png")
        account = f"/api/integrations/accounts/{account_id}"
        profile = await page.evaluate(f"read('{account}/tiktok-profile/')")
        videos = await page.evaluate(f"read('{account}/tiktok-videos/')")

        async def fail(*_: object, **__: object) -> None:
            raise RuntimeError("secret-internal-detail")

        # The live service runs in this process: its account list now fails unhandled.
        monkeypatch.setattr(accounts_service, "list_page", fail)
        broken = await page.evaluate("read('/api/integrations/accounts/')")
    finally:
        await context.close()
    assert results == [
        {
            "type": "tiktok-integration:connect",
            "connected": True,
            "account_id": account_id,
            "error": None,
        }
    ]
    assert request_id  # exposed to the page's JavaScript by CORS
    assert profile["status"] == 200, profile
    assert profile["body"]["display_name"]
    assert videos["status"] == 200, videos
    assert videos["body"]["items"], videos  # the emulator's user has videos
    # A 500 still reaches the page (CORS headers on it), with its request id and error code.
    assert broken["status"] == 500
    assert broken["requestId"]
    assert broken["body"]["error"]["code"] == "internal_error"
    assert "secret-internal-detail" not in json.dumps(broken["body"])
    assert server.url != frontend


async def _popup_result(
    frontend: str, chromium: Browser, tmp_path: Path, connect_body: str, *, drop_cookie: bool
) -> tuple[list[dict[str, object]], str]:
    """Connect in a popup from the frontend with `connect_body` (a JavaScript object), approve
    on the consent page (first dropping the state cookie if asked), and return the messages
    the frontend received and the account id."""
    context = await chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page: Page = await context.new_page()
    try:
        await page.goto(f"{frontend}/")
        await page.evaluate(f"window.connectBody = {connect_body}")
        async with page.expect_popup() as opened:
            await page.click("#connect")
        popup = await opened.value
        await popup.wait_for_url(lambda url: "/_tiktok/" in url)
        if drop_cookie:  # what a browser blocking the service's cookies does
            await context.clear_cookies()
        async with popup.expect_event("close"):
            await popup.locator("#approve").click()
        await page.wait_for_function("window.results.length > 0")
        results = await page.evaluate("window.results")
        account_id = await page.evaluate("window.accountId")
        await page.screenshot(path=tmp_path / "frontend-after-popup.png")
    finally:
        await context.close()
    return results, account_id


async def test_a_popup_without_return_to_posts_to_the_frontend_that_opened_it(
    world: tuple[LiveServer, str], chromium: Browser, tmp_path: Path
) -> None:
    """No `return_to`: the message goes to the origin the connect came from (the request's
    `Origin`, an allowed frontend origin), not to FRONTEND_URL's (here the service's)."""
    _, frontend = world
    results, account_id = await _popup_result(
        frontend, chromium, tmp_path, '{mode: "popup"}', drop_cookie=False
    )
    assert results == [
        {
            "type": "tiktok-integration:connect",
            "connected": True,
            "account_id": account_id,
            "error": None,
        }
    ]


async def test_a_popup_that_lost_its_state_cookie_still_tells_the_frontend(
    world: tuple[LiveServer, str], chromium: Browser, tmp_path: Path
) -> None:
    """The callback arrives without the state cookie: the popup still posts the failure to
    the frontend and closes, instead of loading the frontend inside the popup."""
    _, frontend = world
    results, _ = await _popup_result(
        frontend, chromium, tmp_path, '{mode: "popup"}', drop_cookie=True
    )
    assert results == [
        {
            "type": "tiktok-integration:connect",
            "connected": False,
            "account_id": None,
            "error": "invalid_state",
        }
    ]
