"""Helpers for end-to-end flows: the consent form as a browser reads it, walking the OAuth
redirects by hand, and reading what the service stored."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from sqlalchemy import select

from app.core.config import Settings
from app.core.db import create_engine
from app.models import Base
from app.oauth.state import COOKIE_PREFIX
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


def strings_in(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


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
