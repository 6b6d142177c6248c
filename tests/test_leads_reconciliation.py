"""Lead reconciliation: every connected advertiser's lead export is compared with the stored
leads on a schedule, and what no webhook brought is stored and delivered like a webhook
lead (TikTok for Business is the emulator, served in process: tests/ads_support.py; its
lead webhooks reach the app, a share of them dropped on TikTok's side)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.ads.jobs import run_due_reconciliations
from app.ads.models import Reconciliation, ReconciliationStatus
from app.advertisers.models import TikTokAdvertiser
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.events.delivery import CrmDeliveryWorker, crm_http_client
from app.events.models import CrmDelivery
from app.leads.models import Lead, LeadSource
from app.leads.stats import percentile
from tests.ads_support import (
    ACCOUNTS,
    ADVERTISER_A,
    ADVERTISER_B,
    FORM_B,
    FORM_EN,
    FORM_ES,
    WEBHOOK_PATH,
    EmulatedBusiness,
    ads_settings,
    connect_ads,
    create_account,
    emulated_business,
    log_entries,
)
from tests.conftest import inbox_pass
from tests.crm_receiver import CrmReceiver, serve

CRM_SECRET = "test-crm-secret-0123456789"
INTERVAL = timedelta(hours=6)


@pytest.fixture
def receiver() -> Iterator[CrmReceiver]:
    with serve(CrmReceiver(secret=CRM_SECRET)) as running:
        yield running


@pytest.fixture
def settings(database_url: str, receiver: CrmReceiver) -> Settings:
    return ads_settings(database_url, crm_webhook_url=receiver.url, crm_webhook_secret=CRM_SECRET)


@pytest.fixture
async def business(
    app, settings: Settings, receiver: CrmReceiver
) -> AsyncIterator[EmulatedBusiness]:
    async with emulated_business(settings) as emulated:
        emulated.deliver_webhooks_to(app)
        emulated.pass_through(receiver.url)
        yield emulated


def _due_now():
    """A clock one interval (and its jitter) on: every advertiser is due."""
    return utcnow() + INTERVAL * 1.2


async def _stored(sessionmaker) -> list[Lead]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Lead))).all())


async def _deliveries(sessionmaker) -> list[CrmDelivery]:
    async with sessionmaker() as session:
        query = select(CrmDelivery).where(CrmDelivery.lead_id.is_not(None))
        return list((await session.scalars(query)).all())


async def _reports(client, auth, account_id: str, **params) -> dict:
    response = await client.get(
        f"{ACCOUNTS}{account_id}/leads/reconciliations/", params=params, headers=auth()
    )
    assert response.status_code == 200, response.text
    page: dict = response.json()
    return page


async def test_one_pass_recovers_every_dropped_webhook_lead_once_and_counts_each_gap(
    client, auth, app, business, sessionmaker, settings, receiver
) -> None:
    account_id = await connect_ads(client, auth)
    await business.drop_webhooks(0.2)
    created: list[str] = []
    dropped: list[str] = []
    for form, region, count in ((FORM_EN, None, 20), (FORM_ES, "eu", 10), (FORM_B, "us", 10)):
        ids, lost = await business.create_leads(form, region=region, count=count)
        created += ids
        dropped += lost
    await inbox_pass(app)
    assert len(dropped) == 8  # one in five of 40
    assert {lead.tiktok_lead_id for lead in await _stored(sessionmaker)} == set(created) - set(
        dropped
    )

    outcomes = await run_due_reconciliations(app.state.ads, now=_due_now())

    assert outcomes == [ReconciliationStatus.succeeded] * 2  # advertisers A and B
    stored = await _stored(sessionmaker)
    assert sorted(lead.tiktok_lead_id for lead in stored) == sorted(created)
    by_id = {lead.tiktok_lead_id: lead for lead in stored}
    assert {by_id[i].source for i in dropped} == {LeadSource.reconciliation}
    assert {by_id[i].source for i in set(created) - set(dropped)} == {LeadSource.webhook}
    assert {lead.company_id for lead in stored} == {"acme"}
    # One CRM delivery per lead, whichever way it came...
    deliveries = await _deliveries(sessionmaker)
    assert Counter(d.lead_id for d in deliveries) == Counter({lead.id: 1 for lead in stored})
    # ...and the CRM receives each lead once.
    async with crm_http_client(settings) as http:
        await CrmDeliveryWorker(sessionmaker, http, settings).drain()
    received = [
        r.body["data"]["tiktok_lead_id"]
        for r in receiver.received
        if r.verified and r.body["type"] == "lead.created"
    ]
    assert sorted(received) == sorted(created)
    # The freshness figures see the same: 8 of 40 leads came by reconciliation, every lead
    # acknowledged by the CRM, nothing waiting.
    stats = (await client.get("/api/integrations/leads/stats/", headers=auth())).json()
    assert stats["leads"] == stats["acknowledged"] == len(created)
    assert stats["by_source"] == {"webhook": 32, "backfill": 0, "reconciliation": 8}
    assert 0 <= stats["stored_seconds_p50"] <= stats["stored_seconds_p99"]
    assert stats["stored_seconds_p99"] <= stats["acknowledged_seconds_p99"]
    assert (stats["backlog"], stats["oldest_undelivered_at"]) == (0, None)

    page = await _reports(client, auth, account_id)
    reports = page["items"]
    assert [r["status"] for r in reports] == ["succeeded", "succeeded"]
    assert {r["advertiser_id"] for r in reports} == {ADVERTISER_A, ADVERTISER_B}
    assert sum(r["gaps_found"] for r in reports) == len(dropped)
    assert sum(r["gaps_filled"] for r in reports) == len(dropped)
    assert sorted(i for r in reports for i in r["gap_lead_ids"]) == sorted(dropped)
    assert sum(r["leads_seen"] for r in reports) == len(created)
    assert sum(r["forms_checked"] for r in reports) == 3
    assert sum(r["regions_checked"] for r in reports) == 9
    assert all(r["errors"] == [] and r["finished_at"] for r in reports)
    warnings = [
        e
        for e in await log_entries(sessionmaker, account_id)
        if e.event == "leads.reconciliation_gaps"
    ]
    assert len(warnings) == 2
    assert {e.level for e in warnings} == {"warning"}
    assert sum(e.data["gaps_found"] for e in warnings) == len(dropped)


async def test_a_lead_whose_webhook_failed_verification_is_stored_by_the_next_pass(
    client, auth, app, business, sessionmaker
) -> None:
    await connect_ads(client, auth)
    [lead_id], _ = await business.create_leads(FORM_EN)
    await inbox_pass(app)
    # TikTok holds a second lead; its webhook carries a signature we cannot verify (and
    # no URL token): refused, nothing stored.
    [unverified] = await business.add_leads(FORM_ES, name="Ana Gómez")
    body = json.dumps(
        {"object": 1, "time": 1, "entry": [{"id": int(unverified), "page_id": int(FORM_ES)}]}
    ).encode()
    refused = await client.post(
        WEBHOOK_PATH,
        content=body,
        headers={"Content-Type": "application/json", "X-Open-Signature": "0" * 64},
    )
    assert refused.status_code == 401
    assert unverified not in {lead.tiktok_lead_id for lead in await _stored(sessionmaker)}

    await run_due_reconciliations(app.state.ads, now=_due_now())

    stored = {lead.tiktok_lead_id: lead for lead in await _stored(sessionmaker)}
    assert set(stored) == {lead_id, unverified}
    ana = stored[unverified]
    assert (ana.name, ana.source, ana.company_id) == (
        "Ana Gómez",
        LeadSource.reconciliation,
        "acme",
    )


async def test_nothing_is_due_before_the_interval_and_a_run_schedules_the_next(
    client, auth, app, business, sessionmaker, settings
) -> None:
    account_id = await connect_ads(client, auth)

    assert await run_due_reconciliations(app.state.ads) == []  # connected just now

    later = _due_now()
    assert len(await run_due_reconciliations(app.state.ads, now=later)) == 2
    assert await run_due_reconciliations(app.state.ads, now=later) == []
    async with sessionmaker() as session:
        rows = (await session.scalars(select(TikTokAdvertiser))).all()
    for row in rows:
        assert row.reconciled_at is not None
        assert later + INTERVAL * 0.9 <= row.reconcile_due_at <= later + INTERVAL * 1.1
        assert row.reconcile_lease_until is None
    # A run that found nothing missing leaves the account log alone.
    events = {e.event for e in await log_entries(sessionmaker, account_id)}
    assert not any(event.startswith("leads.reconciliation") for event in events)
    page = await _reports(client, auth, account_id)
    assert [r["gaps_found"] for r in page["items"]] == [0, 0]


async def test_a_failed_export_is_reported_and_the_others_still_compared(
    client, auth, app, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.add_leads(FORM_ES, count=2)
    await business.fault("lead_task", "task_failed", advertiser_id=ADVERTISER_A)

    outcomes = await run_due_reconciliations(app.state.ads, now=_due_now())

    assert sorted(outcomes) == sorted(
        [ReconciliationStatus.partial, ReconciliationStatus.succeeded]
    )
    reports = {r["advertiser_id"]: r for r in (await _reports(client, auth, account_id))["items"]}
    partial = reports[ADVERTISER_A]
    assert partial["status"] == "partial"
    assert partial["regions_checked"] == 5
    assert partial["forms_checked"] == 1
    [error] = partial["errors"]
    assert error["code"] == "export_failed"
    assert error["form_id"] in (FORM_EN, FORM_ES)
    assert "failed" in error["message"]
    assert partial["gaps_found"] == 2 or error["form_id"] == FORM_ES
    events = [
        e
        for e in await log_entries(sessionmaker, account_id)
        if e.event.startswith("leads.reconciliation")
    ]
    assert events


async def test_a_refused_token_fails_the_run_and_retries_it_later(
    client, auth, app, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.fault("page_get", code=50000, count=10)

    later = _due_now()
    outcomes = await run_due_reconciliations(app.state.ads, now=later)

    assert outcomes == [ReconciliationStatus.failed] * 2
    report = (await _reports(client, auth, account_id))["items"][0]
    assert report["status"] == "failed"
    assert report["errors"][0]["code"]
    async with sessionmaker() as session:
        rows = (await session.scalars(select(TikTokAdvertiser))).all()
    assert all(row.reconcile_due_at <= later + timedelta(minutes=15) for row in rows)
    failed = [
        e
        for e in await log_entries(sessionmaker, account_id)
        if e.event == "leads.reconciliation_failed"
    ]
    assert {e.level for e in failed} == {"error"}


async def test_a_run_whose_worker_died_is_closed_and_run_again_after_its_lease(
    client, auth, app, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    later = _due_now()
    async with session_scope(sessionmaker) as session:
        session.add(
            Reconciliation(
                company_id="acme",
                account_id=uuid.UUID(account_id),
                advertiser_id=ADVERTISER_A,
                status=ReconciliationStatus.running,
                created_at=utcnow(),
            )
        )
        # Its worker's lease lapsed (it died mid-run).
        await session.execute(
            update(TikTokAdvertiser).values(reconcile_lease_until=utcnow() - timedelta(seconds=1))
        )

    assert len(await run_due_reconciliations(app.state.ads, now=later)) == 2
    reports = (await _reports(client, auth, account_id))["items"]
    statuses = Counter(r["status"] for r in reports)
    assert statuses == Counter({"succeeded": 2, "failed": 1})
    [stale] = [r for r in reports if r["status"] == "failed"]
    assert stale["errors"][0]["code"] == "worker_stopped"


async def test_reports_are_paginated_and_only_the_companys(client, auth, app, business) -> None:
    account_id = await connect_ads(client, auth)
    for hours in (7, 14, 21):
        await run_due_reconciliations(app.state.ads, now=utcnow() + timedelta(hours=hours))

    first = await _reports(client, auth, account_id, limit=4)
    second = await _reports(client, auth, account_id, limit=4, cursor=first["next_cursor"])
    ids = [r["id"] for r in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 6
    assert second["next_cursor"] is None

    other = await create_account(client, auth)
    for url, company in (
        (f"{ACCOUNTS}{account_id}/leads/reconciliations/", "globex"),
        (f"{ACCOUNTS}{uuid.uuid4()}/leads/reconciliations/", "acme"),
    ):
        response = await client.get(url, headers=auth(company))
        assert response.status_code == 404, url
    empty = await _reports(client, auth, other)
    assert empty["items"] == []


async def test_freshness_figures_count_the_backlog_and_only_the_companys_leads(
    client, auth, app, business, sessionmaker
) -> None:
    await connect_ads(client, auth)
    await business.create_leads(FORM_EN, count=3)
    await inbox_pass(app)

    stats = (await client.get("/api/integrations/leads/stats/", headers=auth())).json()
    other = (await client.get("/api/integrations/leads/stats/", headers=auth("globex"))).json()

    assert (stats["leads"], stats["acknowledged"], stats["backlog"]) == (3, 0, 3)
    assert stats["by_source"]["webhook"] == 3
    assert stats["oldest_undelivered_age_seconds"] >= 0
    assert stats["acknowledged_seconds_p50"] is None
    assert (other["leads"], other["backlog"], other["stored_seconds_p50"]) == (0, 0, None)


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
    assert percentile([5.0], 0.99) == 5.0


async def test_concurrent_passes_share_the_advertisers_and_run_each_once(
    client, auth, app, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.add_leads(FORM_EN, count=3)
    # Due now by the real clock (the leases the runs renew are the real clock's too).
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(TikTokAdvertiser).values(reconcile_due_at=utcnow() - timedelta(seconds=1))
        )

    first, second = await asyncio.gather(
        run_due_reconciliations(app.state.ads), run_due_reconciliations(app.state.ads)
    )

    assert len(first) + len(second) == 2  # advertisers A and B, each by one pass
    reports = (await _reports(client, auth, account_id))["items"]
    assert sorted(r["advertiser_id"] for r in reports) == sorted([ADVERTISER_A, ADVERTISER_B])
    assert sum(r["gaps_found"] for r in reports) == 3
    assert len(await _stored(sessionmaker)) == 3
