"""`/metrics`: the process, business gauges read at scrape time, and the counters code
increments (TikTok calls, token refreshes, background jobs), with bounded labels."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import httpx
import pytest
import respx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from app.core.config import Settings
from app.core.db import create_engine, create_read_sessionmaker, utcnow
from app.core.jobs import PeriodicJob
from app.core.metrics import register_process_metrics
from app.events.models import CrmDelivery, DeliveryStatus
from app.leads.models import Lead, LeadSource
from app.webhooks.models import InboxEntry, WebhookEventStatus, WebhookSource
from tests.conftest import FAKE_TIKTOK, fake_tiktok_settings, make_settings
from tests.test_profile_api import USER, connected_account, envelope

API = "/api/integrations/accounts/"
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return fake_tiktok_settings(database_url)


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def sample(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (name, tuple(sorted(labels.items())))


async def test_metrics_include_the_process_and_platform_collectors(client) -> None:
    samples = await scrape(client)
    names = {name for name, _ in samples}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes"} <= names
    assert "python_info" in names
    assert "python_gc_collections_total" in names


async def test_business_gauges_count_accounts_inbox_and_deliveries_at_scrape_time(
    client, auth, sessionmaker
) -> None:
    for name in ("One", "Two"):
        created = await client.post(API, json={"platform": "tiktok", "name": name}, headers=auth())
        assert created.status_code == 201
    await client.post(API, json={"platform": "tiktok_ads", "name": "Ads"}, headers=auth())
    now = utcnow()
    async with sessionmaker() as session:
        session.add_all(
            [
                InboxEntry(source=WebhookSource.tiktok, body="{}"),
                InboxEntry(
                    source=WebhookSource.tiktok, body="{}", status=WebhookEventStatus.processed
                ),
                InboxEntry(
                    source=WebhookSource.tiktok_leadgen,
                    body="{}",
                    status=WebhookEventStatus.failed,
                ),
            ]
        )
        for index, (status, age) in enumerate(
            [
                (DeliveryStatus.pending, timedelta(minutes=5)),
                (DeliveryStatus.delivering, timedelta(minutes=2)),
                (DeliveryStatus.delivered, timedelta(hours=3)),  # delivered: no lag
                (DeliveryStatus.dead, timedelta(hours=9)),  # a dead letter: counted, not lag
            ]
        ):
            lead = Lead(
                id=uuid.uuid4(),
                company_id="acme",
                tiktok_lead_id=f"7{index:018d}",
                submitted_at=now,
                answers=[],
                raw={},
                source=LeadSource.webhook,
            )
            session.add(lead)
            await session.flush()  # the delivery's foreign key needs the lead first
            session.add(
                CrmDelivery(
                    lead_id=lead.id,
                    company_id="acme",
                    event_type="lead.created",
                    payload={},
                    status=status,
                    created_at=now - age,
                )
            )
        await session.commit()

    samples = await scrape(client)

    assert samples[sample("integration_accounts", platform="tiktok", status="pending")] == 2
    assert samples[sample("integration_accounts", platform="tiktok_ads", status="pending")] == 1
    # Every known combination is a series, at 0 without rows.
    assert samples[sample("integration_accounts", platform="tiktok", status="connected")] == 0
    inbox = {
        (source, status): samples[sample("webhook_inbox_events", source=source, status=status)]
        for source in ("tiktok", "tiktok_leadgen")
        for status in ("received", "processed", "failed")
    }
    assert inbox == {
        ("tiktok", "received"): 1,
        ("tiktok", "processed"): 1,
        ("tiktok", "failed"): 0,
        ("tiktok_leadgen", "received"): 0,
        ("tiktok_leadgen", "processed"): 0,
        ("tiktok_leadgen", "failed"): 1,
    }
    for status in ("pending", "delivering", "delivered", "dead"):
        assert samples[sample("crm_deliveries", status=status)] == 1
    age = samples[sample("crm_delivery_oldest_undelivered_age_seconds")]
    assert 300 <= age < 300 + 60
    assert samples[sample("business_metrics_up")] == 1


async def test_the_oldest_undelivered_age_is_0_without_undelivered_deliveries(client) -> None:
    samples = await scrape(client)
    assert samples[sample("crm_delivery_oldest_undelivered_age_seconds")] == 0
    assert samples[sample("crm_deliveries", status="pending")] == 0


async def test_a_database_that_does_not_answer_costs_only_the_business_gauges(
    app: FastAPI, client
) -> None:
    working = app.state.read_sessionmaker
    broken = create_engine(make_settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/x"))
    app.state.read_sessionmaker = create_read_sessionmaker(broken)
    try:
        samples = await scrape(client)
    finally:
        app.state.read_sessionmaker = working
        await broken.dispose()
    assert samples[sample("business_metrics_up")] == 0
    assert not any(name == "integration_accounts" for name, _ in samples)
    assert any(name == "process_cpu_seconds_total" for name, _ in samples)


@pytest.fixture
def tiktok():
    with respx.mock(base_url=FAKE_TIKTOK, assert_all_called=False) as mock:
        mock.get("/v2/user/info/", name="user_info").respond(json=envelope({"user": USER}))
        mock.post("/v2/oauth/token/", name="token").respond(
            json={
                "access_token": "act.REFRESHED",
                "refresh_token": "rft.ROTATED",
                "expires_in": 86400,
                "refresh_expires_in": 31536000,
                "open_id": "oid-1",
                "scope": "user.info.basic",
                "token_type": "Bearer",
            }
        )
        yield mock


async def test_tiktok_calls_and_token_refreshes_are_counted_by_endpoint_and_outcome(
    app, client, auth, tiktok
) -> None:
    before = await scrape(client)
    # Inside the refresh window: the sync refreshes first, then reads the profile.
    account_id = await connected_account(app, expires_in=60)
    assert (await client.post(f"{API}{account_id}/sync/", headers=auth())).status_code == 200
    tiktok["user_info"].respond(
        json=envelope({}, code="internal_error", log_id="L9"), status_code=500
    )
    failed = await client.get(
        f"{API}{account_id}/tiktok-profile/", params={"refresh": "true"}, headers=auth()
    )
    assert failed.status_code == 502
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        key = sample(name, **labels)
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("token_refreshes_total", platform="tiktok", outcome="refreshed") == 1
    assert delta("tiktok_requests_total", endpoint="token_refresh", outcome="ok") == 1
    assert delta("tiktok_requests_total", endpoint="user_info", outcome="ok") == 1
    # A read is retried: every attempt counts, each with its outcome.
    assert delta("tiktok_requests_total", endpoint="user_info", outcome="tiktok_unavailable") >= 1
    assert delta("tiktok_request_duration_seconds_count", endpoint="user_info") >= 2
    assert delta("tiktok_request_duration_seconds_count", endpoint="token_refresh") == 1


async def test_a_dead_refresh_token_is_counted_as_dead(app, client, auth, tiktok) -> None:
    before = await scrape(client)
    account_id = await connected_account(app, expires_in=-60)
    tiktok["token"].respond(
        json={"error": "invalid_grant", "error_description": "dead", "log_id": "L1"}
    )
    response = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert response.json()["error"]["code"] == "reauth_required"
    after = await scrape(client)
    key = sample("token_refreshes_total", platform="tiktok", outcome="dead")
    assert after[key] - before.get(key, 0.0) == 1


async def test_label_values_hold_no_ids(app, client, auth, tiktok) -> None:
    account_id = await connected_account(app)
    await client.post(f"{API}{account_id}/sync/", headers=auth())
    await client.get(f"{API}{uuid.uuid4()}/", headers=auth())
    text = (await client.get("/metrics")).text
    assert account_id not in text
    assert not UUID_PATTERN.search(text)


async def test_background_job_runs_and_failures_are_counted_by_job() -> None:
    name = f"probe-{uuid.uuid4().hex[:8]}"
    runs = 0
    fourth = asyncio.Event()

    async def run_once() -> None:
        nonlocal runs
        runs += 1
        if runs == 4:
            fourth.set()
        if runs == 2:
            raise RuntimeError("a failing run")

    task = asyncio.create_task(PeriodicJob(name, 0.001, run_once).run_forever())
    try:
        await asyncio.wait_for(fourth.wait(), timeout=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    registry = CollectorRegistry()
    register_process_metrics(registry)
    job = {"job": name}
    assert registry.get_sample_value("background_job_runs_total", job) >= 3
    assert registry.get_sample_value("background_job_failures_total", job) == 1
    assert registry.get_sample_value("background_job_duration_seconds_count", job) >= 3
