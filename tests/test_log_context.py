"""The request id on every log line a request causes: our code's, TikTok calls', library
lines, a task the request started, the traceback of an unhandled error; and none outside a
request. uvicorn's ANSI `color_message` never reaches a JSON line."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI

from app.core.config import Settings
from app.core.logging import JsonFormatter
from tests.conftest import FAKE_TIKTOK, fake_tiktok_settings
from tests.test_profile_api import USER, connected_account, envelope

API = "/api/integrations/accounts/"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return fake_tiktok_settings(database_url)


Logged = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def logged() -> Iterator[Logged]:
    """`logged()`: the JSON lines of every INFO record logged so far in the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_every_line_a_request_causes_carries_its_request_id(
    app: FastAPI, client: httpx.AsyncClient, auth, logged: Logged
) -> None:
    @app.get("/_probe")
    async def probe() -> dict[str, str]:
        logging.getLogger("some.library").warning("a library line")

        async def later() -> None:
            logging.getLogger("app.somewhere").info("a task the request started")

        await asyncio.create_task(later())
        return {"ok": "yes"}

    with respx.mock(base_url=FAKE_TIKTOK, assert_all_called=False) as tiktok:
        tiktok.get("/v2/user/info/").respond(json=envelope({"user": USER}))
        account_id = await connected_account(app)
        synced = await client.post(
            f"{API}{account_id}/sync/", headers=auth() | {"X-Request-ID": "req-sync-1"}
        )
    assert synced.status_code == 200
    assert (await client.get("/_probe", headers={"X-Request-ID": "req-probe-2"})).status_code == 200
    logging.getLogger("app.somewhere").info("outside any request")

    lines = logged()
    by_message = {line["message"]: line for line in lines}
    tiktok_calls = [line for line in lines if line["logger"].startswith("app.tiktok")]
    assert tiktok_calls, "the sync called TikTok"
    assert {line.get("request_id") for line in tiktok_calls} == {"req-sync-1"}
    assert by_message["a library line"]["request_id"] == "req-probe-2"
    assert by_message["a task the request started"]["request_id"] == "req-probe-2"
    assert "request_id" not in by_message["outside any request"]
    access = [line for line in lines if line["logger"] == "app.access"]
    assert [line["request_id"] for line in access] == ["req-sync-1", "req-probe-2"]


async def test_the_traceback_of_an_unhandled_error_carries_the_request_id(
    app: FastAPI, logged: Logged
) -> None:
    @app.get("/_boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/_boom", headers={"X-Request-ID": "req-boom-3"})
    assert response.status_code == 500
    tracebacks = [line for line in logged() if "exception" in line]
    assert tracebacks
    assert {line.get("request_id") for line in tracebacks} == {"req-boom-3"}


def test_uvicorns_ansi_color_message_is_not_written() -> None:
    record = logging.makeLogRecord(
        {
            "name": "uvicorn.error",
            "levelname": "INFO",
            "msg": "Uvicorn running on %s",
            "args": ("http://127.0.0.1:8000",),
            "color_message": "Uvicorn running on \x1b[1m%s\x1b[0m",
        }
    )
    line = JsonFormatter().format(record)
    assert json.loads(line)["message"] == "Uvicorn running on http://127.0.0.1:8000"
    assert "color_message" not in line
    assert "\\u001b" not in line
    assert "\x1b" not in line
