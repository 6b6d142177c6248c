"""The emulator's TikTok for Business token models (TIKTOK_API.md §4 and §5).

Long-lived by default: tokens never expire and come without a refresh token. In the
expiring model, switched on at run time with `PATCH /_control/business/tokens`, the
access token carries `expires_in` and answers 40102 once the emulator's clock has passed it;
`oauth2/refresh_token/` issues a new pair and kills the refresh token it was given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.test_sandbox_business import (
    ACME,
    APP_ID,
    HOOK,
    SECRET,
    FakeClock,
    call,
    client_for,
    consent,
    exchange,
    make_emulator,
    redirect_query,
)

TOKENS = "/_control/business/tokens"
EXPIRING = {"model": "expiring", "expires_in": 3600, "refresh_expires_in": 7200}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_emulator(FakeClock())) as client:
        yield client


async def connect(http: httpx.AsyncClient) -> dict[str, Any]:
    body = await exchange(http, redirect_query(await consent(http))["auth_code"])
    assert body["code"] == 0, body
    data: dict[str, Any] = body["data"]
    return data


async def forms(http: httpx.AsyncClient, token: str) -> int:
    params = {"advertiser_id": ACME, "business_type": "LEAD_GEN"}
    code: int = (await call(http, "GET", "page/get/", token, params=params))["code"]
    return code


async def refresh(http: httpx.AsyncClient, refresh_token: str) -> dict[str, Any]:
    body = {"app_id": APP_ID, "secret": SECRET, "refresh_token": refresh_token}
    return await call(http, "POST", "oauth2/refresh_token/", json=body)


async def advance(http: httpx.AsyncClient, seconds: float) -> None:
    response = await http.post("/_control/clock", json={"seconds": seconds})
    assert response.status_code == 200, response.text


async def expiring_model(http: httpx.AsyncClient) -> None:
    response = await http.patch(TOKENS, json=EXPIRING)
    assert response.status_code == 200, response.text
    assert response.json() == EXPIRING


async def test_tokens_are_long_lived_by_default(http: httpx.AsyncClient) -> None:
    assert (await http.get(TOKENS)).json()["model"] == "long_lived"

    data = await connect(http)
    await advance(http, 2 * 365 * 86400)

    assert not {"expires_in", "refresh_token", "refresh_token_expires_in"} & set(data)
    assert await forms(http, data["access_token"]) == 0


async def test_the_expiring_model_issues_lifetimes_and_a_refresh_token(
    http: httpx.AsyncClient,
) -> None:
    await expiring_model(http)

    data = await connect(http)

    assert (data["expires_in"], data["refresh_token_expires_in"]) == (3600, 7200)
    assert data["refresh_token"]
    assert data["refresh_token"] != data["access_token"]
    assert await forms(http, data["access_token"]) == 0


async def test_the_emulator_clock_expires_an_access_token_with_40102(
    http: httpx.AsyncClient,
) -> None:
    await expiring_model(http)
    data = await connect(http)

    await advance(http, 3599)
    assert await forms(http, data["access_token"]) == 0
    await advance(http, 1)
    assert await forms(http, data["access_token"]) == 40102


async def test_a_refresh_rotates_the_refresh_token(http: httpx.AsyncClient) -> None:
    await expiring_model(http)
    data = await connect(http)
    await advance(http, 3600)

    renewed = await refresh(http, data["refresh_token"])
    again = await refresh(http, data["refresh_token"])

    assert renewed["code"] == 0, renewed
    new = renewed["data"]
    assert new["refresh_token"] != data["refresh_token"]
    assert (new["expires_in"], new["refresh_token_expires_in"]) == (3600, 7200)
    assert new["advertiser_ids"] == data["advertiser_ids"]
    assert await forms(http, new["access_token"]) == 0
    assert again["code"] == 40105, "the refresh token used is dead"
    assert (await refresh(http, new["refresh_token"]))["code"] == 0
    stats = (await http.get("/_control/stats")).json()
    assert stats["business.refresh_token"] == 3


async def test_an_expired_refresh_token_answers_40102(http: httpx.AsyncClient) -> None:
    await expiring_model(http)
    data = await connect(http)

    await advance(http, 7200)

    assert (await refresh(http, data["refresh_token"]))["code"] == 40102


async def test_a_refresh_needs_the_app_credentials(http: httpx.AsyncClient) -> None:
    await expiring_model(http)
    data = await connect(http)
    body = {"app_id": APP_ID, "secret": "wrong", "refresh_token": data["refresh_token"]}

    refused = await call(http, "POST", "oauth2/refresh_token/", json=body)

    assert refused["code"] == 40002
    assert (await refresh(http, data["refresh_token"]))["code"] == 0


async def test_subscriptions_outlive_an_expired_token_and_die_with_a_revoke(
    http: httpx.AsyncClient,
) -> None:
    await expiring_model(http)
    data = await connect(http)
    detail = {"access_token": data["access_token"], "advertiser_id": ACME}
    subscribed = await call(
        http,
        "POST",
        "subscription/subscribe/",
        json={
            "app_id": APP_ID,
            "secret": SECRET,
            "subscribe_entity": "LEAD",
            "callback_url": HOOK,
            "subscription_detail": detail,
        },
    )
    assert subscribed["code"] == 0, subscribed

    await advance(http, 3600)
    live = (await http.get("/_control/business/subscriptions")).json()["subscriptions"]
    assert [s["live"] for s in live] == [True]
    new = (await refresh(http, data["refresh_token"]))["data"]
    revoked = await call(
        http,
        "POST",
        "oauth2/revoke_token/",
        json={"app_id": APP_ID, "secret": SECRET, "access_token": new["access_token"]},
    )

    assert revoked["code"] == 0, revoked
    dead = (await http.get("/_control/business/subscriptions")).json()["subscriptions"]
    assert [s["live"] for s in dead] == [False]
    assert (await refresh(http, new["refresh_token"]))["code"] == 40105


async def test_a_reset_goes_back_to_the_configured_model() -> None:
    app = make_emulator(FakeClock(), business_token_model="expiring", business_access_token_ttl=60)
    async with client_for(app) as http:
        assert (await http.get(TOKENS)).json()["model"] == "expiring"
        await http.patch(TOKENS, json={"model": "long_lived", "expires_in": 10})
        assert (await http.post("/_control/reset")).status_code == 204
        assert (await http.get(TOKENS)).json() == {
            "model": "expiring",
            "expires_in": 60,
            "refresh_expires_in": 31536000,
        }
        assert (await connect(http))["expires_in"] == 60
