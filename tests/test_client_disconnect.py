"""A client that hangs up mid-request is an ordinary event: one INFO line, a 499, no 500.

Served by a real uvicorn: a raw socket sends the headers and part of the body, then closes.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import make_settings, make_token
from tests.live_server import LiveServer, delete_all_rows, serve

ACCOUNTS = "/api/integrations/accounts/"
LEAD_WEBHOOK = "/api/integrations/webhooks/tiktok-leadgen/"
LOGIN_KIT_WEBHOOK = "/api/integrations/webhooks/tiktok/"
LEADGEN_TOKEN = "test-leadgen-token-0123456789"
WAIT_SECONDS = 10.0


@pytest.fixture
def live(database_url: str) -> Iterator[LiveServer]:
    try:
        with serve(
            lambda url: make_settings(
                database_url=database_url,
                api_base_url=url,
                tiktok_client_id="ck",
                tiktok_client_secret="cs",
                leadgen_webhook_token=LEADGEN_TOKEN,
            )
        ) as server:
            yield server
    finally:
        asyncio.run(delete_all_rows(make_settings(database_url=database_url)))


def hang_up_mid_body(server: LiveServer, target: str, headers: dict[str, str]) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Content-Length: 4096")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b'{"name": "par')
        time.sleep(0.2)  # the app is now waiting for the rest of the body


def wait_for_access_line(caplog: pytest.LogCaptureFixture, route: str) -> logging.LogRecord:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for record in caplog.records:
            if record.name == "app.access" and getattr(record, "route", None) == route:
                return record
        time.sleep(0.02)
    raise AssertionError(f"no access line for {route}")


@pytest.mark.parametrize(
    ("target", "route", "authenticated"),
    [
        (ACCOUNTS, ACCOUNTS, True),
        (f"{LEAD_WEBHOOK}?token={LEADGEN_TOKEN}", LEAD_WEBHOOK, False),
        (LOGIN_KIT_WEBHOOK, LOGIN_KIT_WEBHOOK, False),
    ],
    ids=["json-route", "lead-webhook", "login-kit-webhook"],
)
def test_a_client_hanging_up_mid_body_is_one_info_line_and_a_499(
    live: LiveServer,
    caplog: pytest.LogCaptureFixture,
    target: str,
    route: str,
    authenticated: bool,
) -> None:
    extra = {"Authorization": f"Bearer {make_token()}"} if authenticated else {}
    with caplog.at_level(logging.INFO):
        hang_up_mid_body(live, target, extra)
        access = wait_for_access_line(caplog, route)
        time.sleep(0.3)  # anything else the server would log about it
        records = [r for r in caplog.records if r.name != "app.access" or r is access]
        metrics = httpx.get(f"{live.url}/metrics").text

    assert access.levelno == logging.INFO
    assert access.getMessage() == "client closed the request"
    assert access.__dict__["status"] == 499
    # One line, no traceback, nothing at ERROR (before: app.errors and uvicorn.error both
    # logged an "unhandled error" with its traceback).
    assert records == [access], [r.getMessage() for r in records]
    assert access.exc_info is None
    assert f'route="{route}",status="499"' in metrics
    assert 'status="500"' not in metrics
