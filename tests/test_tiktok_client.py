"""The TikTok upstream client: wire formats, error mapping, retries, PKCE and secrecy.

Pure unit tests against respx; no database.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from app.core.config import Settings
from app.tiktok import pkce
from app.tiktok.client import USER_AGENT, TikTokClient
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
from app.tiktok.responses import parse_retry_after
from app.tiktok.schemas import VIDEO_FIELDS, TikTokUser, TokenSet
from app.tiktok.scopes import USER_FIELDS_BY_SCOPE, scope_fields

API = "https://open.tiktok.test"
AUTH = "https://www.tiktok.test"
CLIENT_KEY = "client-key-1"
CLIENT_SECRET = "client-secret-value-1"
ACCESS = "act.access-token-value-1"
REFRESH = "rft.refresh-token-value-1"
NEW_REFRESH = "rft.refresh-token-value-2"
CODE = "auth-code-value-1"
VERIFIER = "v" * 64
SECRETS = (CLIENT_SECRET, ACCESS, REFRESH, NEW_REFRESH, CODE, VERIFIER)

TOKEN_JSON: dict[str, Any] = {
    "access_token": ACCESS,
    "expires_in": 86400,
    "open_id": "open-id-1",
    "refresh_expires_in": 31536000,
    "refresh_token": NEW_REFRESH,
    "scope": "user.info.basic,video.list",
    "token_type": "Bearer",
}


def display_ok(data: dict[str, Any], log_id: str = "log-ok") -> dict[str, Any]:
    return {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id}}


def display_error(code: str, log_id: str = "log-err") -> dict[str, Any]:
    return {"data": {}, "error": {"code": code, "message": f"{code} happened", "log_id": log_id}}


def oauth_error(code: str, log_id: str = "log-oauth") -> dict[str, Any]:
    return {"error": code, "error_description": f"{code} happened", "log_id": log_id}


def form_of(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text)


@pytest.fixture
def upstream() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def tiktok(upstream: respx.MockRouter) -> AsyncIterator[TikTokClient]:
    client = TikTokClient(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        auth_base_url=AUTH,
        api_base_url=API,
        backoff_seconds=0,
    )
    yield client
    await client.aclose()


# --- token endpoint -------------------------------------------------------------------------


async def test_code_exchange_posts_the_form_and_returns_the_token_set(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/oauth/token/").respond(200, json=TOKEN_JSON)

    tokens = await tiktok.exchange_code(
        code=CODE, redirect_uri="https://app.test/cb", code_verifier=VERIFIER
    )

    assert form_of(route.calls.last.request) == {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "code": CODE,
        "grant_type": "authorization_code",
        "redirect_uri": "https://app.test/cb",
        "code_verifier": VERIFIER,
    }
    assert route.calls.last.request.headers["User-Agent"] == USER_AGENT
    assert tokens.access_token.get_secret_value() == ACCESS
    assert tokens.refresh_token.get_secret_value() == NEW_REFRESH
    assert (tokens.expires_in, tokens.refresh_expires_in) == (86400, 31536000)
    assert tokens.open_id == "open-id-1"
    assert tokens.scopes == ["user.info.basic", "video.list"]
    assert tokens.token_type == "Bearer"


async def test_code_exchange_without_pkce_sends_no_code_verifier(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/oauth/token/").respond(200, json=TOKEN_JSON)

    await tiktok.exchange_code(code=CODE, redirect_uri="https://app.test/cb", code_verifier=None)

    assert "code_verifier" not in form_of(route.calls.last.request)


async def test_refresh_posts_the_refresh_grant_and_returns_the_rotated_token(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/oauth/token/").respond(200, json=TOKEN_JSON)

    tokens = await tiktok.refresh(REFRESH)

    assert form_of(route.calls.last.request) == {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
    }
    assert tokens.refresh_token.get_secret_value() == NEW_REFRESH


@pytest.mark.parametrize("status", [200, 400])
async def test_invalid_grant_on_refresh_is_reauth_required_whatever_the_status(
    tiktok: TikTokClient, upstream: respx.MockRouter, status: int
) -> None:
    upstream.post("/v2/oauth/token/").respond(status, json=oauth_error("invalid_grant", "log-42"))

    with pytest.raises(TikTokReauthRequired) as caught:
        await tiktok.refresh(REFRESH)

    error = caught.value
    assert (error.status_code, error.code) == (409, "reauth_required")
    assert (error.log_id, error.tiktok_code, error.http_status) == (
        "log-42",
        "invalid_grant",
        status,
    )
    assert error.details["log_id"] == "log-42"
    assert error.details["tiktok_code"] == "invalid_grant"


async def test_http_200_carrying_invalid_grant_on_code_exchange_is_token_exchange_failed(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    upstream.post("/v2/oauth/token/").respond(200, json=oauth_error("invalid_grant"))

    with pytest.raises(TikTokCodeRejected) as caught:
        await tiktok.exchange_code(
            code=CODE, redirect_uri="https://app.test/cb", code_verifier=None
        )

    assert isinstance(caught.value, TikTokBadRequest)
    assert caught.value.code == "token_exchange_failed"


@pytest.mark.parametrize(
    "code", ["invalid_client", "invalid_request", "unsupported_grant_type", "invalid_scope"]
)
@pytest.mark.parametrize("status", [200, 400, 401])
async def test_configuration_errors_on_the_token_endpoint_are_bad_request(
    tiktok: TikTokClient, upstream: respx.MockRouter, code: str, status: int
) -> None:
    route = upstream.post("/v2/oauth/token/").respond(status, json=oauth_error(code))

    with pytest.raises(TikTokBadRequest) as caught:
        await tiktok.refresh(REFRESH)

    assert (caught.value.status_code, caught.value.code) == (502, "tiktok_bad_request")
    assert caught.value.tiktok_code == code
    assert route.call_count == 1


@pytest.mark.parametrize("code", ["server_error", "temporarily_unavailable"])
async def test_oauth_server_errors_are_unavailable(
    tiktok: TikTokClient, upstream: respx.MockRouter, code: str
) -> None:
    upstream.post("/v2/oauth/token/").respond(200, json=oauth_error(code))

    with pytest.raises(TikTokUnavailable) as caught:
        await tiktok.refresh(REFRESH)

    assert caught.value.code == "tiktok_unavailable"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html><body>Service maintenance</body></html>", id="html"),
        pytest.param(b'{"access_token": "act.x", "expires_in": 86', id="truncated-json"),
        pytest.param(b"[]", id="json-array"),
        pytest.param(b"", id="empty"),
        pytest.param(json.dumps({"open_id": "o"}).encode(), id="missing-fields"),
        pytest.param(json.dumps({**TOKEN_JSON, "access_token": ""}).encode(), id="empty-token"),
        pytest.param(json.dumps({**TOKEN_JSON, "expires_in": "soon"}).encode(), id="text-expiry"),
        pytest.param(json.dumps({**TOKEN_JSON, "expires_in": 1.5}).encode(), id="float-expiry"),
        pytest.param(json.dumps({**TOKEN_JSON, "error": "mystery"}).encode(), id="unknown-error"),
    ],
)
async def test_garbage_token_answer_with_http_200_is_invalid_response(
    tiktok: TikTokClient, upstream: respx.MockRouter, body: bytes
) -> None:
    route = upstream.post("/v2/oauth/token/").respond(200, content=body)

    with pytest.raises(TikTokInvalidResponse) as caught:
        await tiktok.refresh(REFRESH)

    assert caught.value.code == "tiktok_invalid_response"
    assert caught.value.status_code == 502
    assert route.call_count == 1


async def test_revoke_posts_the_access_token_and_accepts_an_empty_object(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/oauth/revoke/").respond(200, json={})

    await tiktok.revoke(ACCESS)

    assert form_of(route.calls.last.request) == {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "token": ACCESS,
    }


async def test_revoke_is_retried_after_a_5xx(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/oauth/revoke/").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={})]
    )

    await tiktok.revoke(ACCESS)

    assert route.call_count == 2


# --- token grants are retried only when the request never left -------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ReadTimeout("read timed out"), id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("server hung up"), id="dropped"),
        pytest.param(httpx.Response(503), id="503"),
        pytest.param(httpx.Response(500, json=oauth_error("server_error")), id="server_error"),
    ],
)
async def test_refresh_is_not_retried_once_the_request_may_have_reached_tiktok(
    tiktok: TikTokClient, upstream: respx.MockRouter, failure: Exception | httpx.Response
) -> None:
    route = upstream.post("/v2/oauth/token/").mock(
        side_effect=[failure, httpx.Response(200, json=TOKEN_JSON)]
    )

    with pytest.raises(TikTokUnavailable):
        await tiktok.refresh(REFRESH)

    assert route.call_count == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("connection refused"), httpx.ConnectTimeout("connect timed out")],
    ids=["connect-error", "connect-timeout"],
)
async def test_refresh_is_retried_when_the_connection_never_opened(
    tiktok: TikTokClient, upstream: respx.MockRouter, failure: Exception
) -> None:
    route = upstream.post("/v2/oauth/token/").mock(
        side_effect=[failure, httpx.Response(200, json=TOKEN_JSON)]
    )

    tokens = await tiktok.refresh(REFRESH)

    assert route.call_count == 2
    assert tokens.refresh_token.get_secret_value() == NEW_REFRESH


async def test_code_exchange_is_not_retried_after_a_read_timeout(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/oauth/token/").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(TikTokUnavailable):
        await tiktok.exchange_code(
            code=CODE, redirect_uri="https://app.test/cb", code_verifier=None
        )

    assert route.call_count == 1


async def test_refresh_gives_up_after_max_attempts_of_connect_errors(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/oauth/token/").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(TikTokUnavailable) as caught:
        await tiktok.refresh(REFRESH)

    assert route.call_count == 3
    assert "ConnectError" in caught.value.detail_message


# --- Display API envelope --------------------------------------------------------------------


async def test_user_info_ok_envelope_returns_the_user(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    user = {"open_id": "open-id-1", "display_name": "Jane", "follower_count": 12}
    route = upstream.get("/v2/user/info/").respond(200, json=display_ok({"user": user}))

    result = await tiktok.user_info(ACCESS, ["user.info.basic", "user.info.stats"])

    assert result == TikTokUser(open_id="open-id-1", display_name="Jane", follower_count=12)
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert request.headers["User-Agent"] == USER_AGENT


@pytest.mark.parametrize(
    ("scopes", "fields"),
    [
        ([], ["open_id"]),
        (
            ["user.info.basic"],
            [
                "open_id",
                "union_id",
                "avatar_url",
                "avatar_url_100",
                "avatar_large_url",
                "display_name",
            ],
        ),
        (
            ["video.list", "user.info.profile"],
            ["open_id", "bio_description", "profile_deep_link", "is_verified", "username"],
        ),
        (
            ["user.info.stats"],
            ["open_id", "follower_count", "following_count", "likes_count", "video_count"],
        ),
    ],
)
async def test_user_info_requests_only_the_fields_of_granted_scopes(
    tiktok: TikTokClient, upstream: respx.MockRouter, scopes: list[str], fields: list[str]
) -> None:
    route = upstream.get("/v2/user/info/").respond(200, json=display_ok({"user": {"open_id": "o"}}))

    await tiktok.user_info(ACCESS, scopes)

    assert route.calls.last.request.url.params["fields"].split(",") == fields


def test_scope_table_covers_every_user_field() -> None:
    every_field = {field for names in USER_FIELDS_BY_SCOPE.values() for field in names}
    assert every_field == set(TikTokUser.model_fields)
    assert scope_fields(list(USER_FIELDS_BY_SCOPE)).count("open_id") == 1


@pytest.mark.parametrize("status", [401, 200])
async def test_access_token_invalid_is_reauth_required_whatever_the_status(
    tiktok: TikTokClient, upstream: respx.MockRouter, status: int
) -> None:
    route = upstream.get("/v2/user/info/").respond(
        status, json=display_error("access_token_invalid", "log-7")
    )

    with pytest.raises(TikTokReauthRequired) as caught:
        await tiktok.user_info(ACCESS, ["user.info.basic"])

    assert (caught.value.log_id, caught.value.tiktok_code) == ("log-7", "access_token_invalid")
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("scope_not_authorized", 401),
        ("scope_not_authorized", 200),
        ("scope_permission_missed", 400),
    ],
)
async def test_missing_scope_is_scope_not_granted(
    tiktok: TikTokClient, upstream: respx.MockRouter, code: str, status: int
) -> None:
    upstream.post("/v2/video/list/").respond(status, json=display_error(code))

    with pytest.raises(TikTokScopeNotGranted) as caught:
        await tiktok.video_list(ACCESS)

    assert (caught.value.status_code, caught.value.code) == (403, "scope_not_granted")


async def test_invalid_params_is_bad_request_and_not_retried(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.get("/v2/user/info/").respond(400, json=display_error("invalid_params"))

    with pytest.raises(TikTokBadRequest):
        await tiktok.user_info(ACCESS, ["user.info.basic"])

    assert route.call_count == 1


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [({"Retry-After": "30"}, 30), ({}, 60), ({"Retry-After": "soon"}, 60)],
)
async def test_rate_limit_is_not_retried_and_carries_retry_after(
    tiktok: TikTokClient,
    upstream: respx.MockRouter,
    headers: dict[str, str],
    retry_after: int,
) -> None:
    route = upstream.get("/v2/user/info/").respond(
        429, json=display_error("rate_limit_exceeded"), headers=headers
    )

    with pytest.raises(TikTokRateLimited) as caught:
        await tiktok.user_info(ACCESS, ["user.info.basic"])

    error = caught.value
    assert (error.status_code, error.code) == (429, "tiktok_rate_limited")
    assert error.retry_after == retry_after
    assert error.headers == {"Retry-After": str(retry_after)}
    assert route.call_count == 1


async def test_rate_limit_code_with_http_200_is_rate_limited(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    upstream.get("/v2/user/info/").respond(200, json=display_error("rate_limit_exceeded"))

    with pytest.raises(TikTokRateLimited):
        await tiktok.user_info(ACCESS, ["user.info.basic"])


def test_retry_after_accepts_an_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:01:30 GMT", now=now) == 90
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(httpx.Response(500), id="500"),
        pytest.param(httpx.Response(503, text="<html>busy</html>"), id="503-html"),
        pytest.param(httpx.Response(500, json=display_error("internal_error")), id="500-internal"),
        pytest.param(httpx.Response(200, json=display_error("internal_error")), id="200-internal"),
    ],
)
async def test_server_failures_on_reads_are_retried_then_unavailable(
    tiktok: TikTokClient, upstream: respx.MockRouter, response: httpx.Response
) -> None:
    route = upstream.get("/v2/user/info/").mock(return_value=response)

    with pytest.raises(TikTokUnavailable) as caught:
        await tiktok.user_info(ACCESS, ["user.info.basic"])

    assert type(caught.value) is TikTokUnavailable
    assert (caught.value.status_code, caught.value.code) == (502, "tiktok_unavailable")
    assert route.call_count == 3


async def test_a_read_that_fails_once_with_503_then_succeeds(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.get("/v2/user/info/").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, json=display_ok({"user": {"open_id": "o"}})),
        ]
    )

    user = await tiktok.user_info(ACCESS, ["user.info.basic"])

    assert user.open_id == "o"
    assert route.call_count == 2


async def test_read_timeouts_are_retried_then_unavailable(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/video/list/").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(TikTokUnavailable) as caught:
        await tiktok.video_list(ACCESS)

    assert caught.value.detail_message == "TikTok did not answer in time."
    assert route.call_count == 3


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"data": {"user": {"open_id": "o"}}}, id="no-error-object"),
        pytest.param(display_error("something_new"), id="unknown-code"),
        pytest.param({"data": None, "error": {"code": "ok", "log_id": "l"}}, id="ok-without-data"),
        pytest.param(display_ok({}), id="ok-without-user"),
        pytest.param(display_ok({"user": {"open_id": 5}}), id="wrong-type"),
    ],
)
async def test_http_200_with_neither_data_nor_a_known_error_is_invalid_response(
    tiktok: TikTokClient, upstream: respx.MockRouter, body: dict[str, Any]
) -> None:
    route = upstream.get("/v2/user/info/").respond(200, json=body)

    with pytest.raises(TikTokInvalidResponse):
        await tiktok.user_info(ACCESS, ["user.info.basic"])

    assert route.call_count == 1


async def test_ok_code_with_a_5xx_status_is_not_success(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    upstream.get("/v2/user/info/").respond(500, json=display_ok({"user": {"open_id": "o"}}))

    with pytest.raises(TikTokUnavailable):
        await tiktok.user_info(ACCESS, ["user.info.basic"])


# --- videos ----------------------------------------------------------------------------------

VIDEO_PAGE_JSON = (
    b'{"data": {"videos": [{"id": 7126711421177430274, "create_time": 1614239152,'
    b' "title": "t", "view_count": 9007199254740993, "is_aigc": false},'
    b' {"id": "7126711421177430275"}],'
    b' "cursor": 1614239152000, "has_more": true},'
    b' "error": {"code": "ok", "message": "", "log_id": "log-v"}}'
)


async def test_video_list_sends_cursor_and_max_count_and_keeps_int64_ids_exact(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/video/list/").respond(
        200, content=VIDEO_PAGE_JSON, headers={"Content-Type": "application/json"}
    )

    page = await tiktok.video_list(ACCESS, cursor=1614239152999, max_count=5)

    request = route.calls.last.request
    assert json.loads(request.content) == {"cursor": 1614239152999, "max_count": 5}
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert request.url.params["fields"].split(",") == list(VIDEO_FIELDS)
    assert [video.id for video in page.videos] == ["7126711421177430274", "7126711421177430275"]
    assert page.videos[0].view_count == 9007199254740993
    assert page.videos[0].is_aigc is False
    assert (page.cursor, page.has_more) == (1614239152000, True)


async def test_video_list_first_page_sends_no_cursor(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/v2/video/list/").respond(
        200, json=display_ok({"videos": [], "cursor": 0, "has_more": False})
    )

    page = await tiktok.video_list(ACCESS)

    assert json.loads(route.calls.last.request.content) == {"max_count": 20}
    assert page.videos == []


def test_video_fields_are_every_documented_field() -> None:
    assert set(VIDEO_FIELDS) == {
        "id",
        "create_time",
        "cover_image_url",
        "share_url",
        "video_description",
        "duration",
        "height",
        "width",
        "title",
        "embed_html",
        "embed_link",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
        "is_aigc",
    }


async def test_a_video_id_that_went_through_a_float_is_invalid_response(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    upstream.post("/v2/video/list/").respond(
        200, json=display_ok({"videos": [{"id": 7.126711421177430e18}], "has_more": False})
    )

    with pytest.raises(TikTokInvalidResponse) as caught:
        await tiktok.video_list(ACCESS)

    assert caught.value.log_id == "log-ok"


@pytest.mark.parametrize("max_count", [0, 21])
async def test_video_list_page_size_outside_1_to_20_raises(
    tiktok: TikTokClient, max_count: int
) -> None:
    with pytest.raises(ValueError, match="max_count"):
        await tiktok.video_list(ACCESS, max_count=max_count)


# --- authorize URL and PKCE ------------------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.mark.parametrize("encoding", ["hex", "s256"])
def test_authorize_url_carries_the_pkce_challenge(
    tiktok: TikTokClient, encoding: pkce.PkceEncoding
) -> None:
    challenge = pkce.challenge(VERIFIER, encoding)

    url = tiktok.authorize_url(
        state="state-1",
        scopes=["user.info.basic", "video.list"],
        redirect_uri="https://app.test/cb",
        code_challenge=challenge,
    )

    assert url.startswith(f"{AUTH}/v2/auth/authorize/?")
    assert "scope=user.info.basic,video.list" in url
    assert _query(url) == {
        "client_key": CLIENT_KEY,
        "scope": "user.info.basic,video.list",
        "response_type": "code",
        "redirect_uri": "https://app.test/cb",
        "state": "state-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def test_authorize_url_without_pkce_has_no_challenge(tiktok: TikTokClient) -> None:
    url = tiktok.authorize_url(
        state="s",
        scopes=["user.info.basic"],
        redirect_uri="https://app.test/cb",
        code_challenge=pkce.challenge(VERIFIER, "off"),
        disable_auto_auth=True,
    )

    query = _query(url)
    assert "code_challenge" not in query
    assert "code_challenge_method" not in query
    assert query["disable_auto_auth"] == "1"


def test_pkce_hex_challenge_is_the_lowercase_hex_sha256_of_the_verifier() -> None:
    verifier = pkce.new_verifier()
    assert pkce.challenge(verifier, "hex") == hashlib.sha256(verifier.encode()).hexdigest()


def test_pkce_s256_challenge_is_rfc_7636_base64url() -> None:
    # The worked example of RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.challenge(verifier, "s256") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce.challenge(verifier, "off") is None


def test_pkce_verifier_is_64_unreserved_characters_and_new_each_time() -> None:
    verifiers = {pkce.new_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    for verifier in verifiers:
        assert len(verifier) == 64
        assert set(verifier) <= allowed


# --- secrecy ---------------------------------------------------------------------------------


def test_no_token_appears_in_the_token_set_repr() -> None:
    tokens = TokenSet.model_validate(TOKEN_JSON)
    assert_no_secret(repr(tokens), str(tokens))


async def test_no_token_appears_in_error_messages_details_or_causes(
    tiktok: TikTokClient, upstream: respx.MockRouter
) -> None:
    upstream.post("/v2/oauth/token/").mock(
        side_effect=[
            httpx.Response(200, json=oauth_error("invalid_grant")),
            httpx.Response(200, json={**TOKEN_JSON, "expires_in": "x"}),
            httpx.Response(503),
        ]
    )

    errors: list[TikTokError] = []
    for _ in range(3):
        with pytest.raises(TikTokError) as caught:
            await tiktok.refresh(REFRESH)
        errors.append(caught.value)

    for error in errors:
        assert_no_secret(error, error.detail_message, error.details, repr(error), error.__cause__)


async def test_upstream_calls_are_logged_without_secrets(
    tiktok: TikTokClient, upstream: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.post("/v2/oauth/token/").respond(200, json=oauth_error("invalid_grant", "log-9"))
    upstream.get("/v2/user/info/").respond(200, json=display_ok({"user": {"open_id": "o"}}, "l-1"))
    caplog.set_level(logging.DEBUG, logger="app.tiktok")

    with pytest.raises(TikTokReauthRequired):
        await tiktok.refresh(REFRESH)
    await tiktok.user_info(ACCESS, ["user.info.basic"])

    records = [record for record in caplog.records if record.name == "app.tiktok"]
    assert [(vars(r)["endpoint"], vars(r)["http_status"], vars(r)["log_id"]) for r in records] == [
        ("token_refresh", 200, "log-9"),
        ("user_info", 200, "l-1"),
    ]
    for record in records:
        assert_no_secret(record.getMessage(), vars(record))


# --- lifecycle and configuration -------------------------------------------------------------


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "tiktok_client_id": None,
        "tiktok_client_secret": None,
    }
    return Settings(_env_file=None, **(values | overrides))


@pytest.mark.parametrize(
    "overrides",
    [{}, {"tiktok_client_id": CLIENT_KEY}, {"tiktok_client_secret": CLIENT_SECRET}],
    ids=["neither", "no-secret", "no-id"],
)
def test_from_settings_without_credentials_is_not_configured(overrides: dict[str, Any]) -> None:
    with pytest.raises(TikTokNotConfigured) as caught:
        TikTokClient.from_settings(_settings(**overrides))

    assert (caught.value.status_code, caught.value.code) == (503, "tiktok_not_configured")


async def test_from_settings_uses_the_configured_urls(upstream: respx.MockRouter) -> None:
    settings = _settings(
        tiktok_client_id=CLIENT_KEY,
        tiktok_client_secret=CLIENT_SECRET,
        tiktok_api_base_url=API,
        tiktok_auth_base_url=AUTH,
    )
    upstream.post("/v2/oauth/revoke/").respond(200, json={})
    async with httpx.AsyncClient() as http:
        tiktok = TikTokClient.from_settings(settings, http=http)
        await tiktok.revoke(ACCESS)
        assert tiktok.authorize_url(
            state="s", scopes=[], redirect_uri="https://app.test/cb", code_challenge=None
        ).startswith(f"{AUTH}/v2/auth/authorize/?client_key={CLIENT_KEY}&")


async def test_aclose_leaves_a_client_it_did_not_create_open() -> None:
    async with httpx.AsyncClient() as http:
        tiktok = TikTokClient(
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            auth_base_url=AUTH,
            api_base_url=API,
            http=http,
        )
        await tiktok.aclose()
        assert not http.is_closed


async def test_aclose_closes_the_client_it_created() -> None:
    tiktok = TikTokClient(
        client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, auth_base_url=AUTH, api_base_url=API
    )
    await tiktok.aclose()
    assert tiktok._transport.http.is_closed


async def test_a_read_has_one_deadline_across_its_retries(upstream: respx.MockRouter) -> None:
    # Each attempt would hang far longer than the deadline: the caller is answered when the
    # deadline passes (not after attempts x timeout), and no retry starts past it.
    attempts = 0

    async def hang(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(30)
        return httpx.Response(200)

    upstream.post("/v2/video/list/").mock(side_effect=hang)
    client = TikTokClient(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        auth_base_url=AUTH,
        api_base_url=API,
        read_deadline_seconds=0.3,
    )
    started = time.monotonic()
    with pytest.raises(TikTokUnavailable) as caught:
        await client.video_list(ACCESS)
    assert time.monotonic() - started < 5
    assert caught.value.detail_message == "TikTok did not answer in time."
    assert attempts == 1


async def test_a_retry_that_cannot_finish_before_the_deadline_is_not_started(
    upstream: respx.MockRouter,
) -> None:
    route = upstream.post("/v2/video/list/").respond(503)
    client = TikTokClient(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        auth_base_url=AUTH,
        api_base_url=API,
        backoff_seconds=5.0,
        read_deadline_seconds=1.0,
    )
    with pytest.raises(TikTokUnavailable):
        await client.video_list(ACCESS)
    assert route.call_count == 1


def test_the_read_deadline_comes_from_the_settings() -> None:
    assert Settings(_env_file=None).tiktok_read_deadline_seconds == 10.0  # type: ignore[call-arg]
