"""Request bodies: bounded, read only after the caller's credentials, named when malformed.

Every JSON body is limited by MAX_REQUEST_BODY_BYTES (413 `request_too_large`), whether it
declares its length or streams it; the webhooks keep their own limits. A route that needs a
principal answers 401 before it reads a byte of the body. A 422 lists at most 20 problems,
each bounded, so a huge body cannot buy a huge answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app
from tests.conftest import make_settings

ACCOUNTS = "/api/integrations/accounts/"
LEAD_WEBHOOK = "/api/integrations/webhooks/tiktok-leadgen/"
LOGIN_KIT_WEBHOOK = "/api/integrations/webhooks/tiktok/"
LEADGEN_TOKEN = "test-leadgen-token-0123456789"
LIMIT = 4096
JSON = {"Content-Type": "application/json"}
MiB = 1024 * 1024


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url=database_url,
        max_request_body_bytes=LIMIT,
        leadgen_webhook_token=LEADGEN_TOKEN,
        tiktok_client_id="ck",
        tiktok_client_secret="cs",
    )


class Stream:
    """A request body sent in chunks with no Content-Length; counts what the app pulled."""

    def __init__(self, size: int, chunk: int = 1024, fill: bytes = b" ") -> None:
        self.size, self.chunk, self.fill = size, chunk, fill
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.size:
            part = min(self.chunk, self.size - sent)
            self.pulled += part
            sent += part
            yield self.fill * part


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


# The limit -----------------------------------------------------------------------------------


async def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    stream = Stream(LIMIT + 1)
    response = await client.post(
        ACCOUNTS, content=stream, headers=auth() | JSON | {"Content-Length": str(LIMIT + 1)}
    )
    assert response.status_code == 413
    assert error(response) == {
        "code": "request_too_large",
        "message": f"The request body is larger than {LIMIT} bytes.",
        "details": {"max_bytes": LIMIT},
    }
    assert response.headers["connection"] == "close"
    assert response.headers["x-request-id"]
    assert stream.pulled == 0

    absurd = await client.post(
        ACCOUNTS, content=Stream(10), headers=auth() | JSON | {"Content-Length": "9" * 5000}
    )
    assert (absurd.status_code, error(absurd)["code"]) == (413, "request_too_large")


async def test_a_streamed_body_is_counted_and_refused_once_past_the_limit(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    stream = Stream(100 * LIMIT)
    response = await client.post(ACCOUNTS, content=stream, headers=auth() | JSON)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert error(response)["code"] == "request_too_large"
    assert stream.pulled <= LIMIT + stream.chunk


async def test_a_body_of_exactly_the_limit_is_read(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    body = json.dumps({"platform": "tiktok", "name": "Brand"}).encode()
    body += b" " * (LIMIT - len(body))
    response = await client.post(ACCOUNTS, content=body, headers=auth() | JSON)
    assert response.status_code == 201


async def test_the_default_limit_is_one_mebibyte() -> None:
    assert Settings(_env_file=None).max_request_body_bytes == MiB  # type: ignore[call-arg]


async def test_a_5_mb_body_is_refused_fast_with_the_default_limit(database_url: str) -> None:
    application = create_app(make_settings(database_url=database_url))
    async with _client(application) as http:
        declared = await http.post(ACCOUNTS, content=b"{" + b" " * 5 * MiB, headers=JSON)
        stream = Stream(5 * MiB, chunk=64 * 1024)
        started = time.perf_counter()
        streamed = await http.post(ACCOUNTS, content=stream, headers=JSON)
        elapsed = time.perf_counter() - started
    assert (declared.status_code, error(declared)["code"]) == (413, "request_too_large")
    # Without a length and without a token: 401 before a byte is read.
    assert (streamed.status_code, error(streamed)["code"]) == (401, "not_authenticated")
    assert stream.pulled == 0
    assert elapsed < 5  # generous: a parse of 5 MB of JSON would not be "fast" anyway


# Credentials before the body -------------------------------------------------------------


async def test_credentials_are_checked_before_the_body_is_read(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    missing = Stream(2 * LIMIT)
    response = await client.post(ACCOUNTS, content=missing, headers=JSON)
    assert (response.status_code, error(response)["code"]) == (401, "not_authenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert missing.pulled == 0

    invalid = Stream(LIMIT // 2, fill=b"{")
    response = await client.post(
        ACCOUNTS, content=invalid, headers=JSON | {"Authorization": "Bearer not-a-jwt"}
    )
    assert (response.status_code, error(response)["code"]) == (401, "invalid_token")
    assert invalid.pulled == 0

    inactive = Stream(LIMIT // 2)
    response = await client.post(
        ACCOUNTS, content=inactive, headers=JSON | auth(subscription_active=False)
    )
    assert (response.status_code, error(response)["code"]) == (403, "subscription_inactive")
    assert inactive.pulled == 0


async def test_a_malformed_body_from_a_stranger_is_401_not_422(client: httpx.AsyncClient) -> None:
    response = await client.post(ACCOUNTS, content=b"{not json", headers=JSON)
    assert (response.status_code, error(response)["code"]) == (401, "not_authenticated")


async def test_an_authenticated_caller_is_verified_once_per_request(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], monkeypatch
) -> None:
    from app.api import deps

    calls = []
    verify = deps.principal_from_jwt
    monkeypatch.setattr(deps, "principal_from_jwt", lambda *a: calls.append(1) or verify(*a))
    response = await client.post(
        ACCOUNTS, json={"platform": "tiktok", "name": "Brand"}, headers=auth()
    )
    assert response.status_code == 201
    assert len(calls) == 1


# Bounded 422 ---------------------------------------------------------------------------------


async def test_validation_details_list_twenty_problems_and_count_the_rest(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    body = {f"k{i}": i for i in range(100)}  # 100 unknown keys, platform and name missing
    response = await client.post(ACCOUNTS, json=body, headers=auth())
    assert response.status_code == 422
    assert error(response)["code"] == "validation_error"
    details = error(response)["details"]
    assert len(details) == 21
    assert all(set(item) == {"loc", "msg", "type"} for item in details[:20])
    assert details[-1] == {
        "loc": [],
        "msg": "82 more problems not listed",
        "type": "too_many_problems",
        "count": 82,
    }


async def test_a_problem_never_echoes_a_huge_input(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    huge = "k" * (LIMIT // 2)
    body = json.dumps({huge: 1, "platform": "tiktok", "name": "n" * (LIMIT // 3)}).encode()
    response = await client.post(ACCOUNTS, content=body, headers=auth() | JSON)
    assert response.status_code == 422
    assert len(response.content) < 1200
    assert huge[:300] not in response.text
    assert "n" * 300 not in response.text


# Malformed bodies ----------------------------------------------------------------------------


async def test_a_body_that_is_not_utf8_is_422_malformed_json(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    body = b'{"platform": "tiktok", "name": "\xff\xfe"}'
    response = await client.post(ACCOUNTS, content=body, headers=auth() | JSON)
    assert response.status_code == 422
    assert error(response) == {
        "code": "malformed_json",
        "message": "The request body is not valid UTF-8.",
        "details": None,
    }


async def test_a_body_nested_too_deeply_is_422_malformed_json(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    body = b"[" * (LIMIT // 2) + b"]" * (LIMIT // 2)
    response = await client.post(ACCOUNTS, content=body, headers=auth() | JSON)
    assert (response.status_code, error(response)["code"]) == (422, "malformed_json")


# The webhooks keep their own limits ------------------------------------------------------


async def test_the_lead_webhook_keeps_its_larger_limit(client: httpx.AsyncClient) -> None:
    padding = "x" * (2 * LIMIT)
    body = json.dumps({"object": 1, "time": int(time.time()), "entry": [], "p": padding})
    response = await client.post(
        LEAD_WEBHOOK, content=body, params={"token": LEADGEN_TOKEN}, headers=JSON
    )
    assert response.status_code == 200


async def test_the_login_kit_webhook_keeps_its_own_413(client: httpx.AsyncClient) -> None:
    # Over both its own limit (64 KiB) and the general one: its own code, as before.
    response = await client.post(LOGIN_KIT_WEBHOOK, content=b"x" * 70_000, headers=JSON)
    assert (response.status_code, error(response)["code"]) == (413, "webhook_too_large")


def _client(application: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
