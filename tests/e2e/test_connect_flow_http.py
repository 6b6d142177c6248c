"""The Login Kit connect flow end to end over real HTTP: connect, hop, consent, callback.

Two clients play the two sides of a real browser session. `api` is the CRM frontend's XHR:
it carries the bearer token and keeps its own cookies, as a cross-origin XHR's cookies
would be lost, so the state cookie can only come from the first-party hop. `browser` is
the browser's navigation: one cookie jar, every redirect walked by hand and checked.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.core.db import create_engine
from app.models import Base
from app.oauth.state import COOKIE_PREFIX
from tests.conftest import make_token
from tests.live_server import LiveServer

TIMEOUT = httpx.Timeout(10.0)
ACCOUNTS = "/api/integrations/accounts"
# The emulator's access and refresh tokens start with these; none may be stored as is.
TOKEN_PREFIXES = ("act.", "rft.")


class ConsentForm(HTMLParser):
    """The emulator's consent page as a browser reads it: the form's inputs and buttons."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action = ""
        self.inputs: list[dict[str, str | None]] = []
        self.buttons: dict[str, tuple[str, str]] = {}  # id -> (name, value)
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form":
            self.action = attr.get("action") or ""
        elif tag == "input":
            self.inputs.append(attr)
        elif tag == "button" and attr.get("id") and attr.get("name"):
            self.buttons[attr["id"] or ""] = (attr["name"] or "", attr.get("value") or "")

    @property
    def users(self) -> list[str]:
        """The open_ids offered by the "Continue as" radio buttons, in page order."""
        return [i.get("value") or "" for i in self.inputs if i.get("name") == "user"]

    def submission(self, button: str, user: str | None = None) -> dict[str, list[str]]:
        """What a browser posts when `button` is clicked, after picking `user` if given.

        Like a browser: disabled inputs and unticked boxes are not sent, the radio sent is
        the picked (else the checked) one, and the clicked button adds its name and value.
        """
        data: dict[str, list[str]] = {}
        for field in self.inputs:
            name, value = field.get("name"), field.get("value") or "on"
            if not name or "disabled" in field:
                continue
            if field.get("type") in ("checkbox", "radio"):
                picked = value == user if name == "user" and user else "checked" in field
                if not picked:
                    continue
            data.setdefault(name, []).append(value)
        name, value = self.buttons[button]
        data[name] = [value]
        return data


@pytest.fixture
async def api(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {make_token('acme')}"}
    async with httpx.AsyncClient(
        base_url=live_server.url, headers=headers, timeout=TIMEOUT
    ) as client:
        yield client


@pytest.fixture
async def browser(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=TIMEOUT) as client:
        yield client


async def create_account(api: httpx.AsyncClient, name: str) -> str:
    response = await api.post(f"{ACCOUNTS}/", json={"platform": "tiktok", "name": name})
    assert response.status_code == 201, response.text
    account_id: str = response.json()["id"]
    return account_id


async def read_account(api: httpx.AsyncClient, account_id: str) -> dict[str, Any]:
    response = await api.get(f"{ACCOUNTS}/{account_id}/")
    assert response.status_code == 200, response.text
    account: dict[str, Any] = response.json()
    return account


async def log_events(api: httpx.AsyncClient, account_id: str) -> list[str]:
    response = await api.get(f"{ACCOUNTS}/{account_id}/logs/")
    assert response.status_code == 200, response.text
    return [entry["event"] for entry in response.json()["items"]]


async def emulator_stats(browser: httpx.AsyncClient) -> dict[str, int]:
    response = await browser.get("/_tiktok/_control/stats")
    assert response.status_code == 200, response.text
    stats: dict[str, int] = response.json()
    return stats


async def display_names(browser: httpx.AsyncClient) -> dict[str, str]:
    response = await browser.get("/_tiktok/_control/users")
    assert response.status_code == 200, response.text
    return {user["open_id"]: user["display_name"] for user in response.json()["users"]}


async def open_consent(
    server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient, account_id: str
) -> tuple[str, ConsentForm]:
    """Connect (the frontend's XHR), then navigate: the hop, then TikTok's consent page."""
    started = await api.post(f"{ACCOUNTS}/{account_id}/connect/")
    assert started.status_code == 200, started.text
    hop = await browser.get(started.json()["authorization_url"])
    assert hop.status_code == 302, hop.text
    consent_url = hop.headers["location"]
    assert consent_url.startswith(f"{server.url}/_tiktok/v2/auth/authorize/?")
    page = await browser.get(consent_url)
    assert page.status_code == 200, page.text
    return consent_url, ConsentForm(page.text)


async def decide(
    browser: httpx.AsyncClient,
    consent_url: str,
    form: ConsentForm,
    button: str,
    user: str | None = None,
) -> str:
    """Click Approve or Deny on the consent page; returns the emulator's redirect to us."""
    response = await browser.post(
        urljoin(consent_url, form.action), data=form.submission(button, user)
    )
    assert response.status_code == 302, response.text
    callback: str = response.headers["location"]
    return callback


async def follow(browser: httpx.AsyncClient, url: str) -> str:
    """Follow one redirect (the callback); returns where it sends the browser."""
    response = await browser.get(url)
    assert response.status_code == 302, response.text
    location: str = response.headers["location"]
    return location


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def state_cookies(browser: httpx.AsyncClient) -> list[Cookie]:
    return [cookie for cookie in browser.cookies.jar if cookie.name.startswith(COOKIE_PREFIX)]


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


async def stored_rows(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, read with an engine of the test's own event loop."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return {
                table.name: [
                    dict(row) for row in (await connection.execute(select(table))).mappings()
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


async def test_approve_connects_with_encrypted_tokens_and_disconnect_revokes_at_tiktok(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(live_server, api, browser, account_id)
    assert len(state_cookies(browser)) == 1, "the hop sets the state cookie first-party"
    user = form.users[0]

    callback = await decide(browser, consent_url, form, "approve", user)
    assert callback.startswith(live_server.settings.tiktok_redirect + "?")
    assert query(callback).keys() >= {"code", "scopes", "state"}
    landing = await follow(browser, callback)

    assert landing == f"{live_server.url}/integrations?connected=true&account_id={account_id}"
    assert state_cookies(browser) == [], "the callback clears the state cookie"
    account = await read_account(api, account_id)
    assert account["status"] == "connected"
    assert account["external_id"] == user
    assert account["display_name"] == (await display_names(browser))[user]
    assert {"connect.started", "connect.succeeded"} <= set(await log_events(api, account_id))

    rows = await stored_rows(live_server.settings)
    (stored,) = rows["integration_accounts"]
    assert stored["access_token_ciphertext"]
    assert stored["refresh_token_ciphertext"]
    plaintext = [
        (table, value)
        for table, table_rows in rows.items()
        for row in table_rows
        for value in _strings(list(row.values()))
        if value.startswith(TOKEN_PREFIXES)
    ]
    assert plaintext == []

    disconnected = await api.post(f"{ACCOUNTS}/{account_id}/disconnect/")
    assert disconnected.status_code == 200, disconnected.text
    assert disconnected.json()["status"] == "disconnected"
    assert (await read_account(api, account_id))["status"] == "disconnected"
    assert (await emulator_stats(browser))["revoke"] == 1


async def test_deny_returns_access_denied_and_the_account_stays_pending(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(live_server, api, browser, account_id)

    callback = await decide(browser, consent_url, form, "deny")
    assert query(callback)["error"] == ["access_denied"]
    landing = await follow(browser, callback)

    assert landing.startswith(f"{live_server.url}/integrations?")
    assert query(landing) == {
        "connected": ["false"],
        "account_id": [account_id],
        "error": ["access_denied"],
    }
    assert (await read_account(api, account_id))["status"] == "pending"
    assert "connect.failed" in await log_events(api, account_id)
    assert (await emulator_stats(browser))["token.authorization_code"] == 0


def _tampered(value: str) -> str:
    """The signed value with one character of its payload (the front third) changed."""
    index = len(value) // 3
    return value[:index] + ("B" if value[index] == "A" else "A") + value[index + 1 :]


async def test_a_tampered_state_cookie_is_refused_as_invalid_state(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(live_server, api, browser, account_id)
    (cookie,) = state_cookies(browser)
    cookie.value = _tampered(cookie.value or "")

    callback = await decide(browser, consent_url, form, "approve")
    landing = await follow(browser, callback)

    assert query(landing) == {"connected": ["false"], "error": ["invalid_state"]}
    assert (await read_account(api, account_id))["status"] == "pending"
    assert (await emulator_stats(browser))["token.authorization_code"] == 0


async def test_a_replayed_callback_is_refused_because_a_state_is_usable_once(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(live_server, api, browser, account_id)
    callback = await decide(browser, consent_url, form, "approve")
    (cookie,) = state_cookies(browser)
    saved = copy.copy(cookie)
    first = await follow(browser, callback)
    assert query(first)["connected"] == ["true"]

    # Put the (cleared) cookie back: the replay must be refused by the used-state record,
    # not merely by the missing cookie. The account_id in the answer shows the cookie was
    # verified before the state was found used.
    browser.cookies.jar.set_cookie(saved)
    replay = await follow(browser, callback)

    assert query(replay) == {
        "connected": ["false"],
        "account_id": [account_id],
        "error": ["invalid_state"],
    }
    assert (await emulator_stats(browser))["token.authorization_code"] == 1
    assert (await log_events(api, account_id)).count("connect.succeeded") == 1
    assert (await read_account(api, account_id))["status"] == "connected"


async def test_two_connects_in_flight_in_one_browser_both_complete(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    first_id = await create_account(api, "First brand")
    second_id = await create_account(api, "Second brand")
    first_url, first_form = await open_consent(live_server, api, browser, first_id)
    second_url, second_form = await open_consent(live_server, api, browser, second_id)
    assert len(state_cookies(browser)) == 2, "one state cookie per connect attempt"
    # Two different TikTok users: one user on two accounts of a company is refused.
    first_user, second_user = first_form.users[:2]

    second_callback = await decide(browser, second_url, second_form, "approve", second_user)
    first_callback = await decide(browser, first_url, first_form, "approve", first_user)
    landings = await asyncio.gather(
        follow(browser, first_callback), follow(browser, second_callback)
    )

    assert list(landings) == [
        f"{live_server.url}/integrations?connected=true&account_id={first_id}",
        f"{live_server.url}/integrations?connected=true&account_id={second_id}",
    ]
    assert state_cookies(browser) == []
    first, second = await read_account(api, first_id), await read_account(api, second_id)
    assert (first["status"], first["external_id"]) == ("connected", first_user)
    assert (second["status"], second["external_id"]) == ("connected", second_user)
