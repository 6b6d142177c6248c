"""An ads account's advertisers and their Instant Forms (TikTok for Business is the emulator,
served in process: tests/ads_support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.core.config import Settings
from tests.ads_support import (
    ACCOUNTS,
    ADVERTISER_A,
    ADVERTISER_B,
    FORM_B,
    FORM_EN,
    FORM_ES,
    EmulatedBusiness,
    account_row,
    ads_settings,
    connect_ads,
    create_account,
    emulated_business,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return ads_settings(database_url)


@pytest.fixture
async def business(settings: Settings) -> AsyncIterator[EmulatedBusiness]:
    async with emulated_business(settings) as emulated:
        yield emulated


async def test_lead_forms_of_every_advertiser_every_page(client, auth, business) -> None:
    account_id = await connect_ads(client, auth)
    await business.page_forms_by(1)  # TikTok pages however it likes: follow them all

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "advertiser_id": ADVERTISER_A,
                "form_id": FORM_EN,
                "title": "Spring offer",
                "status": "PUBLISHED",
                "created_at": "2026-01-02T03:04:05Z",
            },
            {
                "advertiser_id": ADVERTISER_A,
                "form_id": FORM_ES,
                "title": "Oferta de primavera",
                "status": "PUBLISHED",
                "created_at": "2026-01-02T03:04:05Z",
            },
            {
                "advertiser_id": ADVERTISER_B,
                "form_id": FORM_B,
                "title": "Free quote",
                "status": "PUBLISHED",
                "created_at": "2026-01-02T03:04:05Z",
            },
        ]
    }
    assert [call.request.url.params["page"] for call in business.page_get.calls] == ["1", "2", "1"]
    assert all(call.request.headers["Access-Token"] for call in business.page_get.calls)


async def test_lead_forms_of_a_login_kit_account_are_wrong_platform(client, auth, business) -> None:
    account_id = await create_account(client, auth, platform="tiktok")

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "wrong_platform"


async def test_lead_forms_of_an_unconnected_account_are_account_not_connected(
    client, auth, business
) -> None:
    account_id = await create_account(client, auth)

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "account_not_connected"
    assert not business.page_get.called


async def test_a_refused_token_is_reauth_required_and_flags_the_account(
    client, auth, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.revoke_advertiser(ADVERTISER_A)  # TikTok no longer takes the token

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reauth_required"
    row = await account_row(sessionmaker, account_id)
    assert row.status == "reauth_required"
    again = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())
    assert again.json()["error"]["code"] == "reauth_required"


async def test_tiktok_trouble_is_a_clear_upstream_error(client, auth, business) -> None:
    account_id = await connect_ads(client, auth)
    await business.fault("page_get", code=40100)  # rate limited, inside HTTP 200

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "tiktok_rate_limited"
    assert response.headers["Retry-After"]


async def test_another_companys_account_is_404(client, auth, business) -> None:
    account_id = await connect_ads(client, auth)

    for path in ("lead-forms/", "advertisers/"):
        response = await client.get(f"{ACCOUNTS}{account_id}/{path}", headers=auth("globex"))
        assert response.status_code == 404


async def test_advertisers_of_the_account_with_their_subscriptions(client, auth, business) -> None:
    account_id = await connect_ads(client, auth)

    response = await client.get(f"{ACCOUNTS}{account_id}/advertisers/", headers=auth())

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(a["advertiser_id"], a["advertiser_name"]) for a in items] == [
        (ADVERTISER_A, "Acme Outdoor"),
        (ADVERTISER_B, "Tienda Solar"),
    ]
    assert {a["subscription_id"] for a in items} == business.subscription_ids()
