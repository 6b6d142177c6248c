"""The TikTok for Business client reads both token models (TIKTOK_API.md §5) and refreshes.

Public sources disagree: a long-term token (no `expires_in`, no refresh token) or an access
token with `expires_in` and a refresh token redeemed at `oauth2/refresh_token/`. Pure unit
tests against respx; no database.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx

from app.tiktok.business import TikTokBusinessClient
from app.tiktok.errors import TikTokBadRequest, TikTokReauthRequired, TikTokUnavailable

API = "https://business-api.tiktok.test/open_api/v1.3"
APP_ID = "app-id-1"
SECRET = "business-secret-value-1"
ACCESS = "business-access-token-value-1"
REFRESH = "business-refresh-token-value-1"
NEW_ACCESS = "business-access-token-value-2"
NEW_REFRESH = "business-refresh-token-value-2"
TOKEN_TIMEOUT = 42.0


def envelope(data: object, code: int = 0) -> dict[str, Any]:
    return {
        "code": code,
        "message": "OK" if code == 0 else "error",
        "request_id": "r",
        "data": data,
    }


def expiring(access: str = NEW_ACCESS, refresh: str = NEW_REFRESH) -> dict[str, Any]:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": 86400,
        "refresh_token_expires_in": 31536000,
        "advertiser_ids": ["7131000000000000101"],
        "scope": [1, 4],
    }


@pytest.fixture
def upstream() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def business(upstream: respx.MockRouter) -> AsyncIterator[TikTokBusinessClient]:
    client = TikTokBusinessClient(
        app_id=APP_ID,
        secret=SECRET,
        auth_url="https://business-api.tiktok.test/portal/auth",
        api_base_url=API,
        backoff_seconds=0,
        token_timeout_seconds=TOKEN_TIMEOUT,
    )
    yield client
    await client.aclose()


async def test_a_token_without_expires_in_is_long_term(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    upstream.post("/oauth2/access_token/").respond(
        200, json=envelope({"access_token": ACCESS, "advertiser_ids": [7131000000000000101]})
    )

    token = await business.exchange_auth_code("code-1")

    assert token.access_token.get_secret_value() == ACCESS
    assert (token.expires_in, token.refresh_token, token.refresh_expires_in) == (None, None, None)


async def test_an_expiring_token_carries_its_lifetimes_and_refresh_token(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    upstream.post("/oauth2/access_token/").respond(200, json=envelope(expiring(ACCESS, REFRESH)))

    token = await business.exchange_auth_code("code-1")

    assert token.access_token.get_secret_value() == ACCESS
    assert token.refresh_token is not None
    assert token.refresh_token.get_secret_value() == REFRESH
    assert (token.expires_in, token.refresh_expires_in) == (86400, 31536000)
    assert token.scopes == ["1", "4"]
    assert REFRESH not in repr(token)


async def test_refresh_posts_app_credentials_and_the_refresh_token(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/oauth2/refresh_token/").respond(200, json=envelope(expiring()))

    token = await business.refresh_token(REFRESH)

    request = route.calls.last.request
    assert json.loads(request.content) == {
        "app_id": APP_ID,
        "secret": SECRET,
        "refresh_token": REFRESH,
    }
    assert request.headers["Content-Type"] == "application/json"
    assert "Access-Token" not in request.headers
    assert request.extensions["timeout"]["read"] == TOKEN_TIMEOUT
    assert token.access_token.get_secret_value() == NEW_ACCESS
    assert token.refresh_token is not None
    assert token.refresh_token.get_secret_value() == NEW_REFRESH
    assert token.expires_in == 86400


@pytest.mark.parametrize("code", [40102, 40105])
async def test_a_dead_refresh_token_is_reauth_required(
    business: TikTokBusinessClient, upstream: respx.MockRouter, code: int
) -> None:
    upstream.post("/oauth2/refresh_token/").respond(200, json=envelope({}, code=code))

    with pytest.raises(TikTokReauthRequired) as caught:
        await business.refresh_token(REFRESH)

    assert caught.value.tiktok_code == str(code)
    assert REFRESH not in str(caught.value.details)


async def test_other_refusals_of_a_refresh_are_not_reauth(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    upstream.post("/oauth2/refresh_token/").respond(200, json=envelope({}, code=40002))

    with pytest.raises(TikTokBadRequest) as caught:
        await business.refresh_token(REFRESH)

    assert not isinstance(caught.value, TikTokReauthRequired)


async def test_a_refresh_that_may_have_reached_tiktok_is_not_sent_again(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    """TikTok may have rotated the refresh token already: a second send would kill it."""
    route = upstream.post("/oauth2/refresh_token/").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=envelope(expiring()))]
    )

    with pytest.raises(TikTokUnavailable):
        await business.refresh_token(REFRESH)

    assert route.call_count == 1


async def test_a_refresh_that_never_left_is_retried(
    business: TikTokBusinessClient, upstream: respx.MockRouter
) -> None:
    route = upstream.post("/oauth2/refresh_token/").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=envelope(expiring()))]
    )

    token = await business.refresh_token(REFRESH)

    assert route.call_count == 2
    assert token.access_token.get_secret_value() == NEW_ACCESS
