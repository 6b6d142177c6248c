"""A browser on another origin: CORS and the request id on every answer, unexpected errors
included; which origins are allowed (FRONTEND_URL, FRONTEND_ORIGINS, FRONTEND_ORIGIN_REGEX);
tracing headers allowed; a refused preflight logged with its reason."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from app.accounts import service as accounts_service
from app.core.logging import JsonFormatter
from app.core.origins import origin_of, parse_origin
from app.main import create_app
from tests.conftest import make_settings

API = "/api/integrations/accounts/"
FRONTEND = "http://frontend.test"
PREVIEW_REGEX = r"https://pr-[0-9]+\.preview\.example\.com"


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database_url=database_url,
        frontend_origins="https://crm.example.com, http://localhost:5173",
        frontend_origin_regex=PREVIEW_REGEX,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def _preflight(origin: str, method: str = "POST", headers: str = "authorization") -> dict:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@pytest.fixture
def broken_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """`GET /accounts/` fails with an exception nothing handles."""

    async def fail(*_: object, **__: object) -> None:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(accounts_service, "list_page", fail)


@pytest.mark.usefixtures("broken_list")
async def test_an_unexpected_500_carries_cors_and_the_request_id(client, auth, caplog) -> None:
    headers = auth() | {"Origin": FRONTEND, "X-Request-ID": "req-500"}
    with caplog.at_level(logging.ERROR, logger="app.errors"):
        response = await client.get(API, headers=headers)
    assert response.status_code == 500
    assert response.json()["error"] == {
        "code": "internal_error",
        "message": "An unexpected error occurred.",
        "details": None,
    }
    assert "secret-internal-detail" not in response.text
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "X-Request-ID" in response.headers["access-control-expose-headers"]
    assert response.headers["x-request-id"] == "req-500"

    # One traceback line, and it names the request.
    [record] = [r for r in caplog.records if r.name == "app.errors"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-500"
    assert "RuntimeError" in line["exception"]


@pytest.mark.usefixtures("broken_list")
async def test_an_unexpected_500_is_counted_and_logged_by_the_access_log(
    client, auth, caplog
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        response = await client.get(API, headers=auth() | {"X-Request-ID": "req-access"})
    assert response.status_code == 500
    [access] = [r for r in caplog.records if r.name == "app.access"]
    assert (access.request_id, access.status) == ("req-access", 500)  # type: ignore[attr-defined]
    assert 'status="500"' in (await client.get("/metrics")).text


@pytest.mark.usefixtures("broken_list")
async def test_a_500_for_a_foreign_origin_has_the_request_id_but_no_cors(client, auth) -> None:
    response = await client.get(API, headers=auth() | {"Origin": "https://evil.example"})
    assert response.status_code == 500
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["x-request-id"]


async def test_errors_and_successes_alike_carry_cors_and_a_request_id(client, auth) -> None:
    origin = {"Origin": "https://crm.example.com"}
    answers = [
        await client.get(API, headers=auth() | origin),  # 200
        await client.get(API, headers=origin),  # 401
        await client.get(f"{API}00000000-0000-0000-0000-000000000000/", headers=auth() | origin),
        await client.post(API, json={"platform": "x"}, headers=auth() | origin),  # 422
    ]
    assert [answer.status_code for answer in answers] == [200, 401, 404, 422]
    for answer in answers:
        assert answer.headers["access-control-allow-origin"] == "https://crm.example.com"
        assert answer.headers["x-request-id"]


@pytest.mark.parametrize(
    "origin",
    [
        FRONTEND,  # FRONTEND_URL's origin is always allowed
        "https://crm.example.com",
        "http://localhost:5173",
        "https://pr-42.preview.example.com",
    ],
)
async def test_allowed_origins_pass_a_preflight_with_tracing_headers(client, origin: str) -> None:
    requested = "authorization, content-type, idempotency-key, traceparent, tracestate, baggage"
    response = await client.options(API, headers=_preflight(origin, headers=requested))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("traceparent", "tracestate", "baggage", "sentry-trace", "idempotency-key"):
        assert header in allowed
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://pr-42.preview.example.com.evil.example",  # the regex must match in full
        "http://pr-42.preview.example.com",  # another scheme
        "https://crm.example.com:8443",  # another port
    ],
)
async def test_other_origins_are_refused_and_the_refusal_is_logged(
    client, caplog, origin: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.cors"):
        response = await client.options(API, headers=_preflight(origin))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    [record] = [r for r in caplog.records if r.name == "app.cors"]
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "cors preflight refused"
    assert line["origin"] == origin
    assert line["reason"] == ["origin"]


async def test_a_refused_header_is_logged_as_the_reason(client, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="app.cors"):
        response = await client.options(API, headers=_preflight(FRONTEND, headers="x-secret-h"))
    assert response.status_code == 400
    [record] = [r for r in caplog.records if r.name == "app.cors"]
    assert record.reason == ["headers"]  # type: ignore[attr-defined]
    assert record.requested_headers == "x-secret-h"  # type: ignore[attr-defined]


async def test_the_default_frontend_is_the_only_origin_without_configuration(
    database_url: str,
) -> None:
    application = create_app(make_settings(database_url=database_url))
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        ours = await http.options(API, headers=_preflight(FRONTEND))
        other = await http.options(API, headers=_preflight("https://crm.example.com"))
    assert ours.status_code == 200
    assert other.status_code == 400


def test_origins_are_read_from_a_comma_separated_list_and_normalized() -> None:
    settings = make_settings(frontend_origins="https://CRM.example.com/, http://localhost:80")
    assert settings.frontend_origins == ["https://crm.example.com", "http://localhost"]
    assert settings.origin_policy.allows("https://crm.example.com")


@pytest.mark.parametrize(
    "value",
    ["crm.example.com", "https://crm.example.com/app", "ftp://crm.example.com", "*"],
)
def test_a_frontend_origin_that_is_not_an_origin_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="FRONTEND_ORIGINS"):
        make_settings(frontend_origins=value)


def test_an_invalid_origin_regex_is_refused() -> None:
    with pytest.raises(ValidationError, match="FRONTEND_ORIGIN_REGEX"):
        make_settings(frontend_origin_regex="https://(")


def test_origins_are_serialized_as_browsers_send_them() -> None:
    assert origin_of("HTTPS://Example.COM:443/path?q=1") == "https://example.com"
    assert origin_of("http://[::1]:8080/x") == "http://[::1]:8080"
    assert origin_of("https://user:pw@example.com/") is None
    assert origin_of("javascript:alert(1)") is None
    assert origin_of("https://example.com:99999/") is None
    assert parse_origin("https://example.com/") == "https://example.com"
    assert parse_origin("https://example.com/#x") is None
