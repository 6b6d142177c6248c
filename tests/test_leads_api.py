"""The leads API: the company's leads only, newest submission first, filtered and paginated;
CRM delivery dead letters listed and replayed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import IntegrationLog
from app.core.config import Settings
from app.core.db import session_scope
from app.events.models import CrmDelivery, DeliveryStatus
from app.leads import service
from app.leads.models import Lead, LeadSource
from app.leads.parsing import parse_entry
from tests.conftest import make_settings
from tests.test_leads_webhook import (
    ADVERTISER_ID,
    CRM_SECRET,
    CRM_URL,
    connect_advertiser,
    lead_entry,
)

LEADS = "/api/integrations/leads/"
DELIVERIES = "/api/integrations/leads/deliveries/"
OTHER_ADVERTISER_ID = "7000000000000000002"
BASE_TIME = 1_700_000_000
Auth = Callable[..., dict[str, str]]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url=database_url, crm_leads_webhook_url=CRM_URL, crm_webhook_secret=CRM_SECRET
    )


@pytest.fixture
async def leads(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> dict[str, str]:
    """Five leads of acme (submitted an hour apart), one of globex, one unassigned.
    Returns {tiktok_lead_id: lead id}."""
    await connect_advertiser(sessionmaker, "acme", ADVERTISER_ID)
    await connect_advertiser(sessionmaker, "globex", OTHER_ADVERTISER_ID)
    entries = [
        lead_entry(101, create_time=BASE_TIME, page_id=1, campaign_id=11),
        lead_entry(102, create_time=BASE_TIME + 3600, page_id=1, campaign_id=12, email=None),
        lead_entry(103, create_time=BASE_TIME + 7200, page_id=2, campaign_id=11, phone=None),
        lead_entry(104, create_time=BASE_TIME + 10800, page_id=2, campaign_id=12, email="bad"),
        lead_entry(105, create_time=BASE_TIME + 14400, page_id=1, campaign_id=11),
        lead_entry(201, create_time=BASE_TIME, advertiser_id=int(OTHER_ADVERTISER_ID)),
        lead_entry(301, create_time=BASE_TIME, advertiser_id=7000000000000000003),
    ]
    async with session_scope(sessionmaker) as session:
        result = await service.ingest(
            session,
            [parse_entry(entry) for entry in entries],
            source=LeadSource.webhook,
            settings=settings,
        )
    assert len(result.new_ids) == len(entries)
    async with sessionmaker() as session:
        rows = (await session.execute(select(Lead.tiktok_lead_id, Lead.id))).all()
    return {tiktok_id: str(row_id) for tiktok_id, row_id in rows}


def tiktok_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["tiktok_lead_id"] for item in response.json()["items"]]


# Leads ---------------------------------------------------------------------------------------


async def test_the_company_sees_its_leads_newest_submission_first(
    client: httpx.AsyncClient, auth: Auth, leads: dict[str, str]
) -> None:
    response = await client.get(LEADS, headers=auth("acme"))
    assert tiktok_ids(response) == ["105", "104", "103", "102", "101"]
    assert response.json()["next_cursor"] is None
    first = response.json()["items"][0]
    assert first["company_id"] == "acme"
    assert first["email"] == "jane@example.com"
    assert first["phone"] == "+15088888888"
    assert first["attribution"]["campaign_id"] == "11"
    assert first["attribution"]["advertiser_id"] == ADVERTISER_ID
    assert first["answers"][0] == {"field": "name", "value": "Jane Doe"}
    assert first["submitted_at"].startswith(
        datetime.fromtimestamp(BASE_TIME + 14400, UTC).isoformat()[:19]
    )
    assert "raw" not in first


async def test_pages_follow_the_cursor_without_gaps_or_repeats(
    client: httpx.AsyncClient, auth: Auth, leads: dict[str, str]
) -> None:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await client.get(LEADS, headers=auth("acme"), params=params)
        seen += tiktok_ids(response)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["105", "104", "103", "102", "101"]

    bad = await client.get(LEADS, headers=auth("acme"), params={"cursor": "nope"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"form_id": "1"}, ["105", "102", "101"]),
        ({"campaign_id": "12"}, ["104", "102"]),
        ({"has_email": "true"}, ["105", "103", "101"]),
        ({"has_email": "false"}, ["104", "102"]),
        ({"has_phone": "false"}, ["103"]),
        ({"has_phone": "true", "form_id": "2"}, ["104"]),
        (
            {"since": datetime.fromtimestamp(BASE_TIME + 7200, UTC).isoformat()},
            ["105", "104", "103"],
        ),
        ({"advertiser_id": ADVERTISER_ID}, ["105", "104", "103", "102", "101"]),
        ({"advertiser_id": OTHER_ADVERTISER_ID}, []),
    ],
)
async def test_filters_narrow_the_list(
    client: httpx.AsyncClient,
    auth: Auth,
    leads: dict[str, str],
    params: dict[str, str],
    expected: list[str],
) -> None:
    assert tiktok_ids(await client.get(LEADS, headers=auth("acme"), params=params)) == expected


async def test_since_needs_a_time_zone(
    client: httpx.AsyncClient, auth: Auth, leads: dict[str, str]
) -> None:
    response = await client.get(LEADS, headers=auth("acme"), params={"since": "2024-01-01T00:00"})
    assert response.status_code == 422


async def test_a_lead_is_read_with_its_raw_record(
    client: httpx.AsyncClient, auth: Auth, leads: dict[str, str]
) -> None:
    response = await client.get(f"{LEADS}{leads['101']}/", headers=auth("acme"))
    assert response.status_code == 200
    body = response.json()
    assert body["tiktok_lead_id"] == "101"
    assert body["raw"]["id"] == "101"
    assert body["raw"]["advertiser_id"] == ADVERTISER_ID


async def test_companies_never_see_each_others_or_unassigned_leads(
    client: httpx.AsyncClient, auth: Auth, leads: dict[str, str]
) -> None:
    assert tiktok_ids(await client.get(LEADS, headers=auth("globex"))) == ["201"]
    assert tiktok_ids(await client.get(LEADS, headers=auth("initech"))) == []
    for lead_id in (leads["201"], leads["301"], str(uuid.uuid4())):
        response = await client.get(f"{LEADS}{lead_id}/", headers=auth("acme"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "lead_not_found"


async def test_leads_need_a_crm_token(client: httpx.AsyncClient) -> None:
    response = await client.get(LEADS)
    assert response.status_code == 401


# Deliveries ----------------------------------------------------------------------------------


async def kill(sessionmaker: async_sessionmaker[AsyncSession], lead_id: str) -> str:
    async with session_scope(sessionmaker) as session:
        delivery = (
            await session.scalars(
                select(CrmDelivery).where(CrmDelivery.lead_id == uuid.UUID(lead_id))
            )
        ).one()
        delivery.status = DeliveryStatus.dead
        delivery.attempts = 1
        delivery.last_status_code = 400
        delivery.last_error = "HTTP 400: bad lead"
    return str(delivery.id)


async def test_deliveries_are_not_taken_for_a_lead_id(
    client: httpx.AsyncClient, auth: Auth, leads: dict[str, str]
) -> None:
    response = await client.get(DELIVERIES, headers=auth("acme"))
    assert response.status_code == 200
    assert len(response.json()["items"]) == 5
    assert {item["status"] for item in response.json()["items"]} == {"pending"}


async def test_dead_letters_are_listed_and_replayed_once(
    client: httpx.AsyncClient,
    auth: Auth,
    leads: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    dead_id = await kill(sessionmaker, leads["103"])

    listed = await client.get(DELIVERIES, headers=auth("acme"), params={"status": "dead"})
    [item] = listed.json()["items"]
    assert item["id"] == dead_id
    assert item["lead_id"] == leads["103"]
    assert (item["last_status_code"], item["last_error"]) == (400, "HTTP 400: bad lead")

    replayed = await client.post(f"{DELIVERIES}{dead_id}/replay/", headers=auth("acme"))
    assert replayed.status_code == 200
    assert replayed.json()["status"] == "pending"
    assert replayed.json()["attempts"] == 0
    async with sessionmaker() as session:
        [entry] = (
            await session.scalars(
                select(IntegrationLog).where(IntegrationLog.event == "lead.delivery_replayed")
            )
        ).all()
    assert entry.company_id == "acme"

    again = await client.post(f"{DELIVERIES}{dead_id}/replay/", headers=auth("acme"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "delivery_not_dead"
    listed = await client.get(DELIVERIES, headers=auth("acme"), params={"status": "dead"})
    assert listed.json()["items"] == []


async def test_another_companys_delivery_cannot_be_seen_or_replayed(
    client: httpx.AsyncClient,
    auth: Auth,
    leads: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    dead_id = await kill(sessionmaker, leads["201"])
    listed = await client.get(DELIVERIES, headers=auth("acme"), params={"status": "dead"})
    assert listed.json()["items"] == []
    response = await client.post(f"{DELIVERIES}{dead_id}/replay/", headers=auth("acme"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "delivery_not_found"


async def test_an_unknown_status_filter_is_a_validation_error(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    response = await client.get(DELIVERIES, headers=auth("acme"), params={"status": "lost"})
    assert response.status_code == 422
