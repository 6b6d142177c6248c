"""TikTok's lead webhook: authenticated, stored with its leads before the 200, each lead once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.advertisers.models import TikTokAdvertiser
from app.core.config import Settings
from app.core.db import session_scope
from app.events.models import CrmDelivery, DeliveryStatus, Event, EventType
from app.leads import service
from app.leads.jobs import attach_unassigned_leads
from app.leads.models import Lead, LeadSource
from app.leads.parsing import parse_entry
from app.main import create_app
from app.webhooks.models import LeadWebhookAuth, LeadWebhookDelivery
from app.webhooks.models import WebhookEventStatus as LeadWebhookStatus
from tests.conftest import make_settings
from tests.test_leads_parsing import DOCUMENTED_ANSWERS, DOCUMENTED_BODY

URL = "/api/integrations/webhooks/tiktok-leadgen/"
BUSINESS_SECRET = "test-business-secret"
LEADGEN_TOKEN = "test-leadgen-token-0123456789"
CRM_URL = "http://crm.test/hooks/tiktok-leads"
CRM_SECRET = "test-crm-secret"
ADVERTISER_ID = "7000000000000000001"
FORM_ID = 7100000000000000001


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url=database_url,
        tiktok_business_app_id="test-business-app",
        tiktok_business_secret=BUSINESS_SECRET,
        leadgen_webhook_token=LEADGEN_TOKEN,
        crm_leads_webhook_url=CRM_URL,
        crm_webhook_secret=CRM_SECRET,
    )


# Helpers -------------------------------------------------------------------------------------


def lead_entry(
    lead_id: int,
    *,
    advertiser_id: int = int(ADVERTISER_ID),
    page_id: int = FORM_ID,
    campaign_id: int = 1800000000000000001,
    create_time: int = 1614239152,
    email: str | None = "jane@example.com",
    phone: str | None = "15088888888",
    name: str = "Jane Doe",
) -> dict[str, Any]:
    changes: list[dict[str, Any]] = [{"field": "name", "value": name}]
    if email is not None:
        changes.append({"field": "email", "value": email})
    if phone is not None:
        changes.append({"field": "phone_number", "value": phone})
    return {
        "id": lead_id,
        "lead_source": "INSTANT_FORM",
        "page_id": page_id,
        "page_name": "Spring offer",
        "advertiser_id": advertiser_id,
        "advertiser_name": "Acme",
        "campaign_id": campaign_id,
        "campaign_name": "Spring",
        "adgroup_id": 1700000000000000001,
        "adgroup_name": "g",
        "ad_id": 1600000000000000001,
        "ad_name": "a",
        "create_time": create_time,
        "changes": changes,
    }


def lead_body(*entries: dict[str, Any], kind: int = 1) -> bytes:
    # Python writes ints exactly: the ids go out as bare 19-digit JSON integers.
    return json.dumps({"object": kind, "time": int(time.time()), "entry": list(entries)}).encode()


def open_signature(body: bytes, secret: str = BUSINESS_SECRET) -> dict[str, str]:
    return {"X-Open-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def tiktok_signature(
    body: bytes, secret: str = BUSINESS_SECRET, at: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"TikTok-Signature": f"t={stamp},s={digest}"}


async def post(
    client: httpx.AsyncClient,
    body: bytes,
    headers: dict[str, str] | None = None,
    token: str | None = LEADGEN_TOKEN,
) -> httpx.Response:
    params = {"token": token} if token is not None else {}
    return await client.post(
        URL,
        content=body,
        params=params,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


async def connect_advertiser(
    sessionmaker: async_sessionmaker[AsyncSession],
    company: str = "acme",
    advertiser_id: str = ADVERTISER_ID,
) -> None:
    """What the ads connect will do: a tiktok_ads account owning the advertiser."""
    async with session_scope(sessionmaker) as session:
        account = IntegrationAccount(
            id=uuid.uuid4(),
            company_id=company,
            platform=Platform.tiktok_ads,
            name="Ads",
            status=AccountStatus.connected,
        )
        session.add(account)
        await session.flush()
        session.add(
            TikTokAdvertiser(
                advertiser_id=advertiser_id,
                company_id=company,
                account_id=account.id,
                advertiser_name="Acme",
            )
        )


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type[Any]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def nothing_stored(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    counts = [await count(sessionmaker, m) for m in (LeadWebhookDelivery, Lead, CrmDelivery)]
    return counts == [0, 0, 0]


async def all_leads(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Lead]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Lead).order_by(Lead.tiktok_lead_id))).all())


# The documented payload ----------------------------------------------------------------------


async def test_the_documented_payload_is_stored_as_a_lead_of_the_advertisers_company(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await connect_advertiser(sessionmaker)
    response = await post(client, DOCUMENTED_BODY)
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "entries": 1, "new": 1, "reason": None}

    [lead] = await all_leads(sessionmaker)
    assert lead.company_id == "acme"
    assert lead.tiktok_lead_id == "7126711421177430274"
    assert (lead.name, lead.first_name, lead.last_name) == ("Jane Doe", "Jane", "Doe")
    assert (lead.email, lead.phone) == ("jane@example.com", "+15088888888")
    assert lead.answers == DOCUMENTED_ANSWERS
    assert (lead.advertiser_id, lead.form_id, lead.form_name) == (
        "7000000000000000001",
        "7100000000000000001",
        "Spring offer",
    )
    assert (lead.campaign_id, lead.adgroup_id, lead.ad_id) == ("1", "2", "3")
    assert lead.submitted_at.timestamp() == 1614239152
    assert lead.source == "webhook"
    assert lead.raw["id"] == "7126711421177430274"

    async with sessionmaker() as session:
        [stored] = (await session.scalars(select(LeadWebhookDelivery))).all()
        [delivery] = (await session.scalars(select(CrmDelivery))).all()
    assert stored.status == LeadWebhookStatus.processed
    assert stored.auth_method == LeadWebhookAuth.url_token
    assert (stored.entry_count, stored.new_lead_count) == (1, 1)
    assert stored.body == DOCUMENTED_BODY.decode()
    assert stored.next_attempt_at == stored.received_at  # due for the inbox when received
    assert delivery.lead_id == lead.id
    assert delivery.company_id == "acme"
    assert delivery.status == DeliveryStatus.pending
    assert delivery.payload["type"] == "lead.created"
    assert delivery.payload["data"]["tiktok_lead_id"] == "7126711421177430274"


async def test_nineteen_digit_ids_survive_exactly(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], auth: Any
) -> None:
    await connect_advertiser(sessionmaker)
    body = (
        b'{"object":1,"entry":['
        b'{"id":7126711421177430274,"advertiser_id":7000000000000000001,'
        b'"page_id":7100000000000000001,"changes":[]},'
        b'{"id":7126711421177430275,"advertiser_id":7000000000000000001,'
        b'"page_id":7100000000000000001,"changes":[]}]}'
    )
    assert float(7126711421177430274) == float(7126711421177430275)
    response = await post(client, body)
    assert response.json()["new"] == 2

    leads = await all_leads(sessionmaker)
    assert [lead.tiktok_lead_id for lead in leads] == ["7126711421177430274", "7126711421177430275"]
    listed = (await client.get("/api/integrations/leads/", headers=auth("acme"))).json()["items"]
    assert sorted(item["tiktok_lead_id"] for item in listed) == [
        "7126711421177430274",
        "7126711421177430275",
    ]
    assert {item["attribution"]["advertiser_id"] for item in listed} == {"7000000000000000001"}
    assert {item["attribution"]["form_id"] for item in listed} == {"7100000000000000001"}


# Authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("open", LeadWebhookAuth.open_signature),
        ("open-prefixed", LeadWebhookAuth.open_signature),
        ("tiktok", LeadWebhookAuth.tiktok_signature),
        ("token", LeadWebhookAuth.url_token),
    ],
)
async def test_each_authentication_method_is_accepted(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    method: str,
    expected: LeadWebhookAuth,
) -> None:
    body = lead_body(lead_entry(7126711421177430274))
    headers = {
        "open": open_signature(body),
        "open-prefixed": {"X-Open-Signature": "sha256=" + open_signature(body)["X-Open-Signature"]},
        "tiktok": tiktok_signature(body),
        "token": {},
    }[method]
    response = await post(client, body, headers, token=LEADGEN_TOKEN if method == "token" else None)
    assert response.status_code == 200, response.text
    async with sessionmaker() as session:
        [stored] = (await session.scalars(select(LeadWebhookDelivery))).all()
    assert stored.auth_method == expected
    assert await count(sessionmaker, Lead) == 1


@pytest.mark.parametrize(
    "credentials",
    [
        "none",
        "wrong_token",
        "empty_token",
        "forged_open_signature",
        "open_signature_of_another_body",
        "forged_tiktok_signature",
        "stale_tiktok_signature",
        "malformed_tiktok_signature",
    ],
)
async def test_unauthenticated_deliveries_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], credentials: str
) -> None:
    await connect_advertiser(sessionmaker)
    body = lead_body(lead_entry(7126711421177430274))
    headers, token = {
        "none": ({}, None),
        "wrong_token": ({}, "not-the-token"),
        "empty_token": ({}, ""),
        "forged_open_signature": (open_signature(body, "guessed-secret"), None),
        "open_signature_of_another_body": (open_signature(body + b" "), None),
        "forged_tiktok_signature": (tiktok_signature(body, "guessed-secret"), None),
        "stale_tiktok_signature": (tiktok_signature(body, at=int(time.time()) - 3600), None),
        "malformed_tiktok_signature": ({"TikTok-Signature": "garbage"}, None),
    }[credentials]
    response = await post(client, body, headers, token=token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "leadgen_webhook_unauthorized"
    assert await nothing_stored(sessionmaker)


async def test_without_any_credential_configured_nothing_is_accepted(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # A Login Kit client id: without one the built-in emulator would stand in for TikTok
    # for Business, credentials included.
    settings = make_settings(
        database_url=database_url, tiktok_client_id="ck", tiktok_client_secret="cs"
    )
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        body = lead_body(lead_entry(1))
        response = await post(http, body, open_signature(body, ""), token="")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "leadgen_webhook_not_configured"
    assert await nothing_stored(sessionmaker)


async def test_a_body_over_the_limit_is_refused_before_anything_is_stored(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    small = make_settings(
        database_url=database_url,
        leadgen_webhook_token=LEADGEN_TOKEN,
        leadgen_webhook_max_body_bytes=1024,
    )
    application = create_app(small)
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        response = await post(http, lead_body(*(lead_entry(i) for i in range(1, 20))))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "webhook_too_large"
    assert await nothing_stored(sessionmaker)


# What is acknowledged without leads ----------------------------------------------------------


async def test_other_objects_are_acknowledged_and_ignored(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await post(client, lead_body(lead_entry(1), kind=2))
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    async with sessionmaker() as session:
        [stored] = (await session.scalars(select(LeadWebhookDelivery))).all()
    assert stored.status == LeadWebhookStatus.ignored
    assert await count(sessionmaker, Lead) == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid UTF-8 JSON"),
        (b'{"object": 1}', "entry is missing"),
        (b'{"object": 1, "entry": [{"page_id": 1}, {"changes": []}]}', "no usable entry"),
    ],
)
async def test_malformed_bodies_are_kept_as_rejected_and_acknowledged(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    body: bytes,
    reason: str,
) -> None:
    response = await post(client, body)
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert reason in response.json()["reason"]
    async with sessionmaker() as session:
        [stored] = (await session.scalars(select(LeadWebhookDelivery))).all()
    assert stored.status == LeadWebhookStatus.rejected
    assert reason in (stored.reason or "")
    assert stored.body == body.decode()
    assert await count(sessionmaker, Lead) == 0


async def test_a_batch_with_one_bad_entry_keeps_the_others(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = lead_body({"page_id": FORM_ID}, lead_entry(7126711421177430274))
    response = await post(client, body)
    assert response.json() == {
        "status": "accepted",
        "entries": 2,
        "new": 1,
        "reason": "skipped entry 0: id is missing",
    }
    assert await count(sessionmaker, Lead) == 1


async def test_a_database_failure_is_a_5xx_and_stores_nothing(
    app: FastAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(service, "ingest", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await post(http, lead_body(lead_entry(1)))
    assert response.status_code == 500
    assert await nothing_stored(sessionmaker)


# Exactly once --------------------------------------------------------------------------------


async def test_a_batch_of_1000_delivered_twice_concurrently_is_stored_and_enqueued_once(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await connect_advertiser(sessionmaker)
    base = 7126711421177430000
    body = lead_body(*(lead_entry(base + i) for i in range(1000)))

    first, second = await asyncio.gather(post(client, body), post(client, body))

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["entries"] == second.json()["entries"] == 1000
    assert first.json()["new"] + second.json()["new"] == 1000
    assert await count(sessionmaker, Lead) == 1000
    assert await count(sessionmaker, CrmDelivery) == 1000
    assert await count(sessionmaker, LeadWebhookDelivery) == 2
    async with sessionmaker() as session:
        ids = set((await session.scalars(select(Lead.tiktok_lead_id))).all())
    assert ids == {str(base + i) for i in range(1000)}

    again = await post(client, body)
    assert again.json()["new"] == 0
    assert await count(sessionmaker, CrmDelivery) == 1000


async def test_a_lead_repeated_within_one_batch_is_stored_once(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await post(client, lead_body(lead_entry(5), lead_entry(5)))
    assert response.json()["new"] == 1
    assert await count(sessionmaker, Lead) == 1


# Ownership -----------------------------------------------------------------------------------


async def test_a_lead_of_an_unconnected_advertiser_is_kept_then_attached(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await post(client, lead_body(lead_entry(11), lead_entry(12)))
    leads = await all_leads(sessionmaker)
    assert [lead.company_id for lead in leads] == [None, None]
    assert await count(sessionmaker, CrmDelivery) == 0

    await connect_advertiser(sessionmaker, "acme")
    async with session_scope(sessionmaker) as session:
        attached = await service.attach_unassigned(session, ADVERTISER_ID, "acme", settings)
    assert attached == 2
    assert [lead.company_id for lead in await all_leads(sessionmaker)] == ["acme", "acme"]
    async with sessionmaker() as session:
        deliveries = (await session.scalars(select(CrmDelivery))).all()
    assert sorted(d.payload["data"]["tiktok_lead_id"] for d in deliveries) == ["11", "12"]
    assert {d.payload["data"]["company_id"] for d in deliveries} == {"acme"}

    async with session_scope(sessionmaker) as session:
        assert await service.attach_unassigned(session, ADVERTISER_ID, "acme", settings) == 0
    assert await count(sessionmaker, CrmDelivery) == 2


async def test_the_background_pass_attaches_leads_that_raced_with_the_connection(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await post(client, lead_body(lead_entry(21)))
    await post(client, lead_body(lead_entry(22, advertiser_id=7000000000000000099)))
    await connect_advertiser(sessionmaker, "acme")

    assert await attach_unassigned_leads(sessionmaker, settings) == 1
    companies = {lead.tiktok_lead_id: lead.company_id for lead in await all_leads(sessionmaker)}
    assert companies == {"21": "acme", "22": None}
    assert await attach_unassigned_leads(sessionmaker, settings) == 0


async def test_without_a_crm_url_leads_are_stored_but_not_enqueued(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await connect_advertiser(sessionmaker)
    pull_only = make_settings(database_url=database_url)
    async with session_scope(sessionmaker) as session:
        result = await service.ingest(
            session, [parse_entry(lead_entry(31))], source=LeadSource.webhook, settings=pull_only
        )
    assert len(result.new_ids) == 1
    assert await count(sessionmaker, Lead) == 1
    assert await count(sessionmaker, CrmDelivery) == 0


# lead.created events (the outbox the CRM is told from) -------------------------------------


async def _lead_events(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Event]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Event))).all())


async def test_each_new_lead_of_a_company_is_one_lead_created_event_duplicates_none(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await connect_advertiser(sessionmaker, "acme")
    body = lead_body(lead_entry(31), lead_entry(32))
    assert (await post(client, body)).status_code == 200
    assert (await post(client, body)).status_code == 200  # TikTok's retry: nothing new

    events = await _lead_events(sessionmaker)
    assert [e.type for e in events] == [EventType.lead_created] * 2
    assert sorted(e.data["tiktok_lead_id"] for e in events) == ["31", "32"]
    assert {e.company_id for e in events} == {"acme"}
    async with sessionmaker() as session:
        deliveries = (await session.scalars(select(CrmDelivery))).all()
    # The event and the CRM delivery describe the lead identically.
    by_lead = {e.data["tiktok_lead_id"]: e.data for e in events}
    assert all(
        by_lead[d.payload["data"]["tiktok_lead_id"]] == d.payload["data"] for d in deliveries
    )


async def test_a_kept_lead_is_announced_when_it_is_attached_not_before(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await post(client, lead_body(lead_entry(41)))
    assert await _lead_events(sessionmaker) == []
    await connect_advertiser(sessionmaker, "acme")
    async with session_scope(sessionmaker) as session:
        assert await service.attach_unassigned(session, ADVERTISER_ID, "acme", settings) == 1
    (event,) = await _lead_events(sessionmaker)
    assert event.type == EventType.lead_created
    assert event.company_id == "acme"
    assert event.data["company_id"] == "acme"
