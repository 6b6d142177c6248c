"""The end-to-end probe of a lead form: a test lead made with TikTok's mock-lead API (the
emulator, in process, whose webhooks reach the app), timed to its arrival by webhook or by
the export, marked as a test and not announced unless asked, then deleted at TikTok."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.events.delivery import CrmDeliveryWorker, crm_http_client
from app.events.models import CrmDelivery
from app.leads.models import Lead, LeadSource
from tests.ads_support import (
    ACCOUNTS,
    FORM_EN,
    FORM_ES,
    EmulatedBusiness,
    ads_settings,
    connect_ads,
    create_account,
    emulated_business,
)
from tests.conftest import inbox_pass
from tests.crm_receiver import CrmReceiver
from tests.test_leads_reconciliation import CRM_SECRET, receiver  # noqa: F401 - fixture


@pytest.fixture
def settings(database_url: str, receiver: CrmReceiver) -> Settings:  # noqa: F811
    return ads_settings(
        database_url,
        crm_webhook_url=receiver.url,
        crm_webhook_secret=CRM_SECRET,
        leads_probe_timeout_seconds=2.0,
    )


@pytest.fixture
async def business(
    app,
    settings: Settings,
    receiver: CrmReceiver,  # noqa: F811
) -> AsyncIterator[EmulatedBusiness]:
    async with emulated_business(settings) as emulated:
        emulated.deliver_webhooks_to(app)
        emulated.pass_through(receiver.url)
        yield emulated


async def _probe(client, auth, account_id: str, **body) -> dict:
    response = await client.post(f"{ACCOUNTS}{account_id}/leads/probe/", json=body, headers=auth())
    assert response.status_code == 200, response.text
    probe: dict = response.json()
    return probe


async def _lead(sessionmaker, tiktok_lead_id: str) -> Lead:
    async with sessionmaker() as session:
        query = select(Lead).where(Lead.tiktok_lead_id == tiktok_lead_id)
        return (await session.scalars(query)).one()


async def _deliveries_of(sessionmaker, lead: Lead) -> list[CrmDelivery]:
    async with sessionmaker() as session:
        query = select(CrmDelivery).where(CrmDelivery.lead_id == lead.id)
        return list((await session.scalars(query)).all())


async def _test_lead_at_tiktok(business: EmulatedBusiness, form_id: str) -> str | None:
    advertisers = await business._control("GET", "advertisers")
    forms = {f["page_id"]: f for a in advertisers["advertisers"] for f in a["forms"]}
    test_lead: str | None = forms[form_id]["test_lead_id"]
    return test_lead


async def test_a_probe_times_the_test_leads_webhook_marks_it_and_does_not_announce_it(
    client, auth, app, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)

    probe = await _probe(client, auth, account_id, form_id=FORM_EN)

    assert probe["status"] == "arrived", probe
    assert probe["arrived_by"] == "webhook"
    assert 0 <= probe["stored_seconds"] < 2.0
    assert (probe["deliver"], probe["crm_acknowledged"], probe["error"]) == (False, False, None)
    assert probe["mock_deleted"] is True
    assert await _test_lead_at_tiktok(business, FORM_EN) is None
    lead = await _lead(sessionmaker, probe["tiktok_lead_id"])
    assert (lead.is_test, lead.source, lead.company_id) == (True, LeadSource.webhook, "acme")
    await inbox_pass(app)
    assert await _deliveries_of(sessionmaker, lead) == []
    listed = (await client.get("/api/integrations/leads/", headers=auth())).json()["items"]
    assert [(item["tiktok_lead_id"], item["is_test"]) for item in listed] == [
        (probe["tiktok_lead_id"], True)
    ]
    # A second probe of the form works: TikTok holds one test lead per form.
    again = await _probe(client, auth, account_id, form_id=FORM_EN)
    assert again["status"] == "arrived"
    assert again["tiktok_lead_id"] != probe["tiktok_lead_id"]


async def test_a_probe_whose_webhook_is_lost_finds_its_lead_in_the_export(
    client, auth, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.drop_webhooks(1.0)

    probe = await _probe(client, auth, account_id, form_id=FORM_ES)

    assert (probe["status"], probe["arrived_by"]) == ("arrived", "reconciliation")
    assert probe["stored_seconds"] >= 2.0  # it waited for the webhook first
    lead = await _lead(sessionmaker, probe["tiktok_lead_id"])
    assert (lead.is_test, lead.source) == (True, LeadSource.reconciliation)
    assert await _deliveries_of(sessionmaker, lead) == []


async def test_a_probe_asked_to_deliver_waits_for_the_crms_acknowledgement(
    client,
    auth,
    business,
    sessionmaker,
    settings,
    receiver,  # noqa: F811
) -> None:
    account_id = await connect_ads(client, auth)

    async def crm_worker() -> None:
        async with crm_http_client(settings) as http:
            worker = CrmDeliveryWorker(sessionmaker, http, settings)
            while True:
                await worker.drain()
                await asyncio.sleep(0.05)

    worker = asyncio.create_task(crm_worker())
    try:
        probe = await _probe(client, auth, account_id, form_id=FORM_EN, deliver=True)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    assert (probe["status"], probe["crm_acknowledged"]) == ("arrived", True)
    assert probe["acknowledged_seconds"] >= probe["stored_seconds"]
    lead = await _lead(sessionmaker, probe["tiktok_lead_id"])
    assert len(await _deliveries_of(sessionmaker, lead)) == 1
    received = [
        r.body["data"]["tiktok_lead_id"]
        for r in receiver.received
        if r.verified and r.body["type"] == "lead.created"
    ]
    assert received == [probe["tiktok_lead_id"]]


async def test_a_probe_needs_a_form_of_the_accounts_advertisers(
    client, auth, business, database_url
) -> None:
    account_id = await connect_ads(client, auth)
    pending = await create_account(client, auth)

    unknown = await client.post(
        f"{ACCOUNTS}{account_id}/leads/probe/", json={"form_id": "123"}, headers=auth()
    )
    unconnected = await client.post(
        f"{ACCOUNTS}{pending}/leads/probe/", json={"form_id": FORM_EN}, headers=auth()
    )
    other = await client.post(
        f"{ACCOUNTS}{account_id}/leads/probe/", json={"form_id": FORM_EN}, headers=auth("globex")
    )
    bad = await client.post(
        f"{ACCOUNTS}{account_id}/leads/probe/", json={"form_id": "1.5"}, headers=auth()
    )

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "lead_form_not_found")
    assert unconnected.json()["error"]["code"] == "account_not_connected"
    assert other.status_code == 404
    assert bad.status_code == 422


async def test_a_probe_tiktok_refuses_is_reported_failed(client, auth, business) -> None:
    account_id = await connect_ads(client, auth)
    await business.fault("mock_create", code=40002)

    probe = await _probe(client, auth, account_id, form_id=FORM_EN)

    assert probe["status"] == "failed"
    assert probe["error"].startswith("tiktok_bad_request") or probe["error"]
    assert probe["tiktok_lead_id"] is None
