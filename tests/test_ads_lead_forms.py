"""An ads account's advertisers and their Instant Forms (TikTok faked with respx)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from app.core.config import Settings
from tests.ads_support import (
    ACCOUNTS,
    ADVERTISER_A,
    ADVERTISER_B,
    BUSINESS_API,
    FORM_B,
    FORM_EN,
    FORM_ES,
    FakeBusiness,
    account_row,
    ads_settings,
    connect_ads,
    create_account,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return ads_settings(database_url)


@pytest.fixture
def fake() -> Iterator[FakeBusiness]:
    with respx.mock(base_url=BUSINESS_API, assert_all_called=False) as router:
        yield FakeBusiness(router)


async def test_lead_forms_of_every_advertiser_every_page(client, auth, fake) -> None:
    account_id = await connect_ads(client, auth)
    fake.forms_page_size = 1  # TikTok pages however it likes: follow them all

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
    assert [call.request.url.params["page"] for call in fake.page_get.calls] == ["1", "2", "1"]
    assert all(call.request.headers["Access-Token"] for call in fake.page_get.calls)


async def test_lead_forms_of_a_login_kit_account_are_wrong_platform(client, auth, fake) -> None:
    account_id = await create_account(client, auth, platform="tiktok")

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "wrong_platform"


async def test_lead_forms_of_an_unconnected_account_are_account_not_connected(
    client, auth, fake
) -> None:
    account_id = await create_account(client, auth)

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "account_not_connected"
    assert not fake.page_get.called


async def test_a_refused_token_is_reauth_required_and_flags_the_account(
    client, auth, fake, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    fake.failures["page_get"] = [40105]

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reauth_required"
    row = await account_row(sessionmaker, account_id)
    assert row.status == "reauth_required"
    again = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())
    assert again.json()["error"]["code"] == "reauth_required"


async def test_tiktok_trouble_is_a_clear_upstream_error(client, auth, fake) -> None:
    account_id = await connect_ads(client, auth)
    fake.failures["page_get"] = [40100]

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "tiktok_rate_limited"
    assert response.headers["Retry-After"]


async def test_another_companys_account_is_404(client, auth, fake) -> None:
    account_id = await connect_ads(client, auth)

    for path in ("lead-forms/", "advertisers/"):
        response = await client.get(f"{ACCOUNTS}{account_id}/{path}", headers=auth("globex"))
        assert response.status_code == 404


async def test_advertisers_of_the_account_with_their_subscriptions(client, auth, fake) -> None:
    account_id = await connect_ads(client, auth)

    response = await client.get(f"{ACCOUNTS}{account_id}/advertisers/", headers=auth())

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(a["advertiser_id"], a["advertiser_name"]) for a in items] == [
        (ADVERTISER_A, "Acme Outdoor"),
        (ADVERTISER_B, "Tienda Solar"),
    ]
    assert {a["subscription_id"] for a in items} == set(fake.subscriptions)
