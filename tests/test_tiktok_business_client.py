"""The TikTok for Business client: envelope and error mapping, ids, headers, retries, secrecy.

Pure unit tests against respx; no database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from app.core.config import Settings
from app.tiktok.business import BusinessCall, TikTokBusinessClient, classify_business
from app.tiktok.business_schemas import BusinessToken, LeadSubscription
from app.tiktok.errors import (
    TikTokBadRequest,
    TikTokCodeRejected,
    TikTokError,
    TikTokInvalidResponse,
    TikTokNotConfigured,
    TikTokRateLimited,
    TikTokReauthRequired,
    TikTokScopeNotGranted,
    TikTokUnavailable,
)

API = "https://business-api.tiktok.test/open_api/v1.3"
AUTH = "https://business-api.tiktok.test/portal/auth"
APP_ID = "app-id-1"
SECRET = "business-secret-value-1"
TOKEN = "business-access-token-value-1"
AUTH_CODE = "auth-code-value-1"
SECRETS = (SECRET, TOKEN, AUTH_CODE)

# 19-digit ids beyond 2**53: a float would round every one of them.
ADVERTISER = 7131000000000000101
FORM = 7100000000000000001
TASK = 7354012345678901237
SUBSCRIPTION = 7299999999999999871
IDS = (ADVERTISER, FORM, TASK, SUBSCRIPTION)


def ok(data: object, request_id: str = "req-ok") -> bytes:
    return json.dumps({"code": 0, "message": "OK", "request_id": request_id, "data": data}).encode()


def failure(code: int, request_id: str = "req-err") -> dict[str, Any]:
    return {"code": code, "message": f"error {code}", "request_id": request_id, "data": {}}


def json_of(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def query_of(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(str(request.url)).query).items()}


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text)


@pytest.fixture
def upstream() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def business(upstream: respx.MockRouter) -> AsyncIterator[TikTokBusinessClient]:
    client = TikTokBusinessClient(
        app_id=APP_ID, secret=SECRET, auth_url=AUTH, api_base_url=API, backoff_seconds=0
    )
    yield client
    await client.aclose()


def test_ids_used_here_would_not_survive_a_float() -> None:
    for value in IDS:
        assert int(float(value)) != value


# --- OAuth --------------------------------------------------------------------------------------


def test_authorize_url_carries_app_id_state_and_redirect_uri(
    business: TikTokBusinessClient,
) -> None:
    url = business.authorize_url(state="st 1", redirect_uri="https://app.test/cb/")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTH
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "app_id": APP_ID,
        "state": "st 1",
        "redirect_uri": "https://app.test/cb/",
    }


async def test_exchange_posts_json_credentials_and_keeps_ids_exact(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    # Unquoted and quoted ids in the raw bytes, as TikTok may send either.
    raw = (
        b'{"code":0,"message":"OK","request_id":"req-1","data":{"access_token":"'
        + TOKEN.encode()
        + b'","advertiser_ids":[7131000000000000101,"7131000000000000202"],"scope":[1,4,17]}}'
    )
    route = upstream.post("/oauth2/access_token/").respond(200, content=raw)

    token = await business.exchange_auth_code(AUTH_CODE)

    assert json_of(route.calls.last.request) == {
        "app_id": APP_ID,
        "secret": SECRET,
        "auth_code": AUTH_CODE,
    }
    assert route.calls.last.request.headers["Content-Type"] == "application/json"
    assert token.access_token.get_secret_value() == TOKEN
    assert token.advertiser_ids == ["7131000000000000101", "7131000000000000202"]
    assert token.scope == [1, 4, 17]


async def test_exchange_with_a_refused_code_is_code_rejected(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    upstream.post("/oauth2/access_token/").respond(200, json=failure(40002, "req-x"))

    with pytest.raises(TikTokCodeRejected) as caught:
        await business.exchange_auth_code(AUTH_CODE)

    assert isinstance(caught.value, TikTokBadRequest)
    assert (caught.value.tiktok_code, caught.value.log_id) == ("40002", "req-x")


async def test_exchange_is_not_retried_after_a_read_timeout(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/oauth2/access_token/").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(TikTokUnavailable):
        await business.exchange_auth_code(AUTH_CODE)

    assert route.call_count == 1


async def test_exchange_is_not_retried_after_a_5xx(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/oauth2/access_token/").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, content=ok({}))]
    )

    with pytest.raises(TikTokUnavailable):
        await business.exchange_auth_code(AUTH_CODE)

    assert route.call_count == 1


async def test_exchange_is_retried_when_the_connection_never_opened(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/oauth2/access_token/").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(200, content=ok({"access_token": TOKEN, "advertiser_ids": []})),
        ]
    )

    token = await business.exchange_auth_code(AUTH_CODE)

    assert route.call_count == 2
    assert token.advertiser_ids == []


async def test_revoke_posts_app_credentials_and_the_token(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/oauth2/revoke_token/").respond(200, content=ok({}))

    await business.revoke(TOKEN)

    assert json_of(route.calls.last.request) == {
        "app_id": APP_ID,
        "secret": SECRET,
        "access_token": TOKEN,
    }


# --- reads --------------------------------------------------------------------------------------


async def test_advertisers_sends_access_token_header_and_app_credentials(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    raw = (
        b'{"code":0,"message":"OK","request_id":"r","data":{"list":['
        b'{"advertiser_id":7131000000000000101,"advertiser_name":"Acme"},'
        b'{"advertiser_id":"7131000000000000202","advertiser_name":null}]}}'
    )
    route = upstream.get("/oauth2/advertiser/get/").respond(200, content=raw)

    advertisers = await business.advertisers(TOKEN)

    request = route.calls.last.request
    assert request.headers["Access-Token"] == TOKEN
    assert "Authorization" not in request.headers
    assert query_of(request) == {"app_id": APP_ID, "secret": SECRET}
    assert [(a.advertiser_id, a.advertiser_name) for a in advertisers] == [
        ("7131000000000000101", "Acme"),
        ("7131000000000000202", None),
    ]


async def test_lead_forms_pages_with_lead_gen_and_parses_the_page_info(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    raw = (
        b'{"code":0,"message":"OK","request_id":"r","data":{"list":['
        b'{"page_id":7100000000000000001,"title":"Spring offer","status":"PUBLISHED",'
        b'"create_time":"2025-12-02 10:00:00","extra":1},'
        b'{"page_id":"7100000000000000002","title":"Oferta","status":null,'
        b'"create_time":1767225600}],'
        b'"page_info":{"page":2,"page_size":2,"total_number":5,"total_page":3}}}'
    )
    route = upstream.get("/page/get/").respond(200, content=raw)

    page = await business.lead_forms(TOKEN, str(ADVERTISER), page=2, page_size=2)

    assert query_of(route.calls.last.request) == {
        "advertiser_id": str(ADVERTISER),
        "business_type": "LEAD_GEN",
        "page": "2",
        "page_size": "2",
    }
    assert route.calls.last.request.headers["Access-Token"] == TOKEN
    assert [form.page_id for form in page.forms] == ["7100000000000000001", "7100000000000000002"]
    assert page.forms[0].create_time == datetime(2025, 12, 2, 10, 0, tzinfo=UTC)
    assert page.forms[1].create_time == datetime(2026, 1, 1, tzinfo=UTC)
    assert (page.page, page.total_page, page.total_number) == (2, 3, 5)


async def test_create_lead_task_returns_the_exact_task_id(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    raw = b'{"code":0,"message":"OK","request_id":"r","data":{"task_id":7354012345678901237}}'
    route = upstream.post("/page/lead/task/").respond(200, content=raw)

    task_id = await business.create_lead_task(TOKEN, str(ADVERTISER), str(FORM))

    assert task_id == str(TASK)
    assert json_of(route.calls.last.request) == {
        "advertiser_id": str(ADVERTISER),
        "page_id": str(FORM),
    }
    assert "x-lead-region" not in route.calls.last.request.headers


@pytest.mark.parametrize("region", ["eu", "us"])
async def test_region_is_sent_as_the_x_lead_region_header(
    business: TikTokBusinessClient, upstream: respx.MockRouter, region: str
) -> None:
    create = upstream.post("/page/lead/task/").respond(
        200, content=ok({"task_id": "1", "status": "CREATED"})
    )
    download = upstream.get("/page/lead/task/download/").respond(200, content=b"lead_id\r\n")

    await business.create_lead_task(TOKEN, "1", "2", region=region)
    await business.lead_task_status(TOKEN, "1", "2", "3", region=region)
    await business.download_leads(TOKEN, "1", "3", region=region)

    for call in [*create.calls, *download.calls]:
        assert call.request.headers["x-lead-region"] == region


async def test_an_unknown_region_is_refused_before_calling(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/page/lead/task/")

    with pytest.raises(ValueError, match="region"):
        await business.create_lead_task(TOKEN, "1", "2", region="apac")

    assert not route.called


async def test_lead_task_status_sends_the_task_id_and_returns_the_status(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/page/lead/task/").respond(
        200, content=ok({"task_id": TASK, "status": "RUNNING"})
    )

    status = await business.lead_task_status(TOKEN, str(ADVERTISER), str(FORM), str(TASK))

    assert status == "RUNNING"
    assert json_of(route.calls.last.request) == {
        "advertiser_id": str(ADVERTISER),
        "page_id": str(FORM),
        "task_id": str(TASK),
    }


async def test_lead_task_status_poll_is_retried_after_a_503(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/page/lead/task/").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, content=ok({"status": "SUCCEED"}))]
    )

    assert await business.lead_task_status(TOKEN, "1", "2", "3") == "SUCCEED"
    assert route.call_count == 2


async def test_create_lead_task_is_not_retried_after_a_503(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/page/lead/task/").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, content=ok({"task_id": "1"}))]
    )

    with pytest.raises(TikTokUnavailable):
        await business.create_lead_task(TOKEN, "1", "2")

    assert route.call_count == 1


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param("\ufefflead_id,created_time\r\n7126,x\r\n".encode(), "text/csv", id="csv"),
        pytest.param(b"PK\x03\x04zipped", "application/zip", id="zip"),
    ],
)
async def test_download_returns_the_raw_file_bytes(
    business: TikTokBusinessClient,
    upstream: respx.MockRouter,
    content: bytes,
    content_type: str,
) -> None:
    route = upstream.get("/page/lead/task/download/").respond(
        200, content=content, headers={"Content-Type": content_type}
    )

    assert await business.download_leads(TOKEN, str(ADVERTISER), str(TASK)) == content
    request = route.calls.last.request
    assert query_of(request) == {"advertiser_id": str(ADVERTISER), "task_id": str(TASK)}
    assert request.headers["Access-Token"] == TOKEN


@pytest.mark.parametrize(
    ("code", "error_class"),
    [(40002, TikTokBadRequest), (40105, TikTokReauthRequired), (40100, TikTokRateLimited)],
)
async def test_download_answered_with_a_json_error_raises_the_mapped_error(
    business: TikTokBusinessClient,
    upstream: respx.MockRouter,
    code: int,
    error_class: type[TikTokError],
) -> None:
    upstream.get("/page/lead/task/download/").respond(200, json=failure(code, "req-dl"))

    with pytest.raises(error_class) as caught:
        await business.download_leads(TOKEN, "1", "2")

    assert caught.value.log_id == "req-dl"


async def test_download_answered_with_a_json_success_is_invalid_response(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    upstream.get("/page/lead/task/download/").respond(200, content=ok({}))

    with pytest.raises(TikTokInvalidResponse):
        await business.download_leads(TOKEN, "1", "2")


async def test_download_is_retried_after_a_503(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.get("/page/lead/task/download/").mock(
        side_effect=[
            httpx.Response(503, text="<html>busy</html>"),
            httpx.Response(200, content=b"a"),
        ]
    )

    assert await business.download_leads(TOKEN, "1", "2") == b"a"
    assert route.call_count == 2


# --- subscriptions and test leads ---------------------------------------------------------------


async def test_subscribe_posts_the_documented_body_and_returns_the_exact_id(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    raw = (
        b'{"code":0,"message":"OK","request_id":"r","data":{"subscription_id":7299999999999999871}}'
    )
    route = upstream.post("/subscription/subscribe/").respond(200, content=raw)

    subscription_id = await business.subscribe_leads(
        TOKEN, str(ADVERTISER), "https://crm.test/hook/?token=t", page_id=str(FORM)
    )

    assert subscription_id == str(SUBSCRIPTION)
    assert json_of(route.calls.last.request) == {
        "app_id": APP_ID,
        "secret": SECRET,
        "subscribe_entity": "LEAD",
        "callback_url": "https://crm.test/hook/?token=t",
        "subscription_detail": {
            "access_token": TOKEN,
            "advertiser_id": str(ADVERTISER),
            "page_id": str(FORM),
            "lead_source": "INSTANT_FORM",
        },
    }


async def test_subscribe_without_a_form_sends_no_page_id_and_is_not_retried(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/subscription/subscribe/").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(TikTokUnavailable):
        await business.subscribe_leads(TOKEN, "1", "https://crm.test/hook/")

    assert route.call_count == 1
    assert "page_id" not in json_of(route.calls.last.request)["subscription_detail"]


async def test_subscriptions_lists_and_flattens_the_detail(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    raw = (
        b'{"code":0,"message":"OK","request_id":"r","data":{"list":['
        b'{"subscription_id":7299999999999999871,"subscribe_entity":"LEAD",'
        b'"callback_url":"https://crm.test/hook/","subscription_detail":'
        b'{"advertiser_id":"7131000000000000101","page_id":7100000000000000001}},'
        b'{"subscription_id":"12","subscription_detail":{"advertiser_id":7131000000000000101}}'
        b"]}}"
    )
    route = upstream.get("/subscription/get/").respond(200, content=raw)

    subscriptions = await business.subscriptions(TOKEN, str(ADVERTISER))

    assert query_of(route.calls.last.request) == {
        "app_id": APP_ID,
        "secret": SECRET,
        "subscribe_entity": "LEAD",
        "advertiser_id": str(ADVERTISER),
    }
    assert subscriptions == [
        LeadSubscription(
            subscription_id=str(SUBSCRIPTION),
            advertiser_id=str(ADVERTISER),
            page_id=str(FORM),
            callback_url="https://crm.test/hook/",
        ),
        LeadSubscription(subscription_id="12", advertiser_id=str(ADVERTISER)),
    ]


async def test_unsubscribe_posts_app_credentials_and_the_id(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/subscription/unsubscribe/").respond(200, content=ok({}))

    await business.unsubscribe(str(SUBSCRIPTION))

    assert json_of(route.calls.last.request) == {
        "app_id": APP_ID,
        "secret": SECRET,
        "subscription_id": str(SUBSCRIPTION),
    }


# --- the error mapping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (40100, TikTokRateLimited),
        (40016, TikTokRateLimited),
        (40133, TikTokRateLimited),
        (40102, TikTokReauthRequired),
        (40105, TikTokReauthRequired),
        (40001, TikTokScopeNotGranted),
        (40002, TikTokBadRequest),
        (40999, TikTokBadRequest),
        (50000, TikTokUnavailable),
        (51234, TikTokUnavailable),
        (60001, TikTokUnavailable),
    ],
)
def test_error_codes_inside_http_200_map_to_domain_errors(
    code: int, error_class: type[TikTokError]
) -> None:
    body = json.dumps(failure(code, "req-7")).encode()

    with pytest.raises(TikTokError) as caught:
        classify_business(BusinessCall.ADVERTISERS, 200, body)

    assert type(caught.value) is error_class
    assert (caught.value.tiktok_code, caught.value.log_id) == (str(code), "req-7")
    assert caught.value.log_data() == {
        "error": error_class.code,
        "tiktok_code": str(code),
        "log_id": "req-7",
    }


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        pytest.param(200, b"<html>hello</html>", TikTokInvalidResponse, id="200-html"),
        pytest.param(200, b'{"code": 0, "data": {"list"', TikTokInvalidResponse, id="cut-off"),
        pytest.param(200, b"[1, 2]", TikTokInvalidResponse, id="not-an-object"),
        pytest.param(200, b'{"data": {}}', TikTokInvalidResponse, id="no-code"),
        pytest.param(200, b'{"code": "0", "data": {}}', TikTokInvalidResponse, id="text-code"),
        pytest.param(200, b'{"code": 0, "data": [1]}', TikTokInvalidResponse, id="list-data"),
        pytest.param(503, b"<html>busy</html>", TikTokUnavailable, id="503-html"),
        pytest.param(500, b"", TikTokUnavailable, id="500-empty"),
        pytest.param(429, b"", TikTokRateLimited, id="429"),
        pytest.param(404, b"not found", TikTokBadRequest, id="404"),
        pytest.param(502, ok({}), TikTokUnavailable, id="ok-code-with-502"),
    ],
)
def test_bodies_that_are_no_valid_envelope_map_by_status(
    status: int, body: bytes, error_class: type[TikTokError]
) -> None:
    with pytest.raises(TikTokError) as caught:
        classify_business(BusinessCall.LEAD_FORMS, status, body)

    assert type(caught.value) is error_class


def test_a_success_without_data_is_an_empty_object() -> None:
    body = b'{"code": 0, "message": "OK", "request_id": "r-1", "data": null}'

    answer = classify_business(BusinessCall.REVOKE, 200, body)

    assert (answer.data, answer.request_id) == ({}, "r-1")


async def test_rate_limit_inside_http_200_is_not_retried(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.get("/oauth2/advertiser/get/").respond(200, json=failure(40100))

    with pytest.raises(TikTokRateLimited) as caught:
        await business.advertisers(TOKEN)

    assert route.call_count == 1
    assert caught.value.retry_after == 60


async def test_server_error_codes_inside_http_200_are_retried_on_reads(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.get("/oauth2/advertiser/get/").respond(200, json=failure(50000))

    with pytest.raises(TikTokUnavailable):
        await business.advertisers(TOKEN)

    assert route.call_count == 3


async def test_reads_are_retried_after_a_503_then_succeed(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.get("/page/get/").mock(
        side_effect=[
            httpx.Response(503),
            httpx.ReadTimeout("slow"),
            httpx.Response(
                200,
                content=ok(
                    {"list": [], "page_info": {"page": 1, "total_number": 0, "total_page": 0}}
                ),
            ),
        ]
    )

    page = await business.lead_forms(TOKEN, "1")

    assert route.call_count == 3
    assert page.forms == []


async def test_garbage_is_invalid_response_and_not_retried(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.get("/oauth2/advertiser/get/").respond(
        200, content=b'{"code": 0, "message": "OK", "data": {"list": [{"advertiser_id": 71310'
    )

    with pytest.raises(TikTokInvalidResponse):
        await business.advertisers(TOKEN)

    assert route.call_count == 1


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"list": [{"advertiser_id": 7.131e18}]}', id="float-id"),
        pytest.param(b'{"list": [{"advertiser_id": true}]}', id="bool-id"),
        pytest.param(b'{"list": [{"advertiser_id": "71-31"}]}', id="not-digits"),
        pytest.param(b'{"list": [{"advertiser_name": "no id"}]}', id="missing-id"),
    ],
)
async def test_an_id_that_is_not_an_exact_integer_is_invalid_response(
    business: TikTokBusinessClient, upstream: respx.MockRouter, raw: bytes
) -> None:
    envelope = b'{"code": 0, "message": "OK", "request_id": "r-9", "data": ' + raw + b"}"
    upstream.get("/oauth2/advertiser/get/").respond(200, content=envelope)

    with pytest.raises(TikTokInvalidResponse) as caught:
        await business.advertisers(TOKEN)

    assert caught.value.log_id == "r-9"


# --- secrecy, lifecycle, configuration ----------------------------------------------------------


def test_no_token_appears_in_the_business_token_repr() -> None:
    token = BusinessToken.model_validate({"access_token": TOKEN, "advertiser_ids": ["1"]})
    assert_no_secret(repr(token), str(token))


async def test_no_secret_appears_in_errors_or_their_causes(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    upstream.get("/oauth2/advertiser/get/").mock(
        side_effect=[
            httpx.Response(200, json=failure(40105)),
            httpx.Response(200, content=ok({"list": [{"advertiser_id": TOKEN}]})),
            httpx.ConnectError("refused"),
            httpx.ConnectError("refused"),
            httpx.ConnectError("refused"),
        ]
    )
    upstream.post("/oauth2/access_token/").respond(
        200, content=ok({"access_token": 5, "advertiser_ids": [AUTH_CODE]})
    )

    errors: list[TikTokError] = []
    for call in (business.advertisers, business.advertisers, business.advertisers):
        with pytest.raises(TikTokError) as caught:
            await call(TOKEN)
        errors.append(caught.value)
    with pytest.raises(TikTokError) as caught:
        await business.exchange_auth_code(AUTH_CODE)
    errors.append(caught.value)

    for error in errors:
        assert_no_secret(error, error.detail_message, error.details, repr(error), error.__cause__)


async def test_calls_are_logged_with_request_ids_and_without_secrets(
    business: TikTokBusinessClient, upstream: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.get("/oauth2/advertiser/get/").respond(200, content=ok({"list": []}, "req-a"))
    upstream.post("/oauth2/access_token/").respond(200, json=failure(40002, "req-b"))
    caplog.set_level(logging.DEBUG, logger="app.tiktok.business")

    await business.advertisers(TOKEN)
    with pytest.raises(TikTokCodeRejected):
        await business.exchange_auth_code(AUTH_CODE)

    records = [r for r in caplog.records if r.name == "app.tiktok.business"]
    assert [(vars(r)["endpoint"], vars(r)["log_id"]) for r in records] == [
        ("business_advertisers", "req-a"),
        ("business_token_exchange", "req-b"),
    ]
    for record in records:
        assert_no_secret(record.getMessage(), vars(record))


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "tiktok_business_app_id": None,
        "tiktok_business_secret": None,
    }
    return Settings(_env_file=None, **(values | overrides))


@pytest.mark.parametrize(
    "overrides",
    [{}, {"tiktok_business_app_id": APP_ID}, {"tiktok_business_secret": SECRET}],
    ids=["neither", "no-secret", "no-id"],
)
def test_from_settings_without_credentials_is_not_configured(overrides: dict[str, Any]) -> None:
    with pytest.raises(TikTokNotConfigured) as caught:
        TikTokBusinessClient.from_settings(_settings(**overrides))

    assert caught.value.code == "tiktok_not_configured"
    assert "TIKTOK_BUSINESS_APP_ID" in caught.value.detail_message


async def test_from_settings_uses_the_configured_urls(upstream: respx.MockRouter) -> None:
    settings = _settings(
        tiktok_business_app_id=APP_ID,
        tiktok_business_secret=SECRET,
        tiktok_business_auth_url=AUTH,
        tiktok_business_api_base_url=API + "/",
    )
    route = upstream.post("/oauth2/revoke_token/").respond(200, content=ok({}))
    async with httpx.AsyncClient() as http:
        business = TikTokBusinessClient.from_settings(settings, http=http)
        await business.revoke(TOKEN)
        assert business.authorize_url(state="s", redirect_uri="https://a.test/").startswith(
            f"{AUTH}?app_id={APP_ID}&"
        )
        await business.aclose()
        assert not http.is_closed
    assert str(route.calls.last.request.url) == f"{API}/oauth2/revoke_token/"


async def test_aclose_closes_the_client_it_created() -> None:
    business = TikTokBusinessClient(app_id=APP_ID, secret=SECRET, auth_url=AUTH, api_base_url=API)
    await business.aclose()
    assert business._transport.http.is_closed
