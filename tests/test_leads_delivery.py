"""Pushing leads to the CRM: signed (Standard Webhooks), retried, at least once across a
worker killed mid-request, dead letters replayable."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.metrics import register_process_metrics
from app.core.queue import Claim
from app.core.retry import backoff_seconds, retry_after_seconds
from app.events import repository as events_repository
from app.events.delivery import CrmDeliveryWorker, Outcome, crm_http_client
from app.events.models import CrmDelivery, DeliveryStatus
from app.events.standard_webhooks import sign
from app.leads import service
from app.leads.models import LeadSource
from app.leads.parsing import parse_entry
from app.main import create_app
from tests.conftest import REPO_ROOT, make_settings
from tests.crm_receiver import CrmReceiver, serve
from tests.test_leads_webhook import connect_advertiser, lead_entry

CRM_SECRET = "test-crm-secret-0123456789"
WHSEC_SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
DELIVERIES = "/api/integrations/leads/deliveries/"
RECOVER = "/api/integrations/events/deliveries/recover/"
WAIT_SECONDS = 30.0


@pytest.fixture
def receiver() -> Iterator[CrmReceiver]:
    with serve(CrmReceiver(secret=CRM_SECRET)) as running:
        yield running


@pytest.fixture
def settings(database_url: str, receiver: CrmReceiver) -> Settings:
    return make_settings(
        database_url=database_url,
        crm_leads_webhook_url=receiver.url,
        crm_webhook_secret=CRM_SECRET,
        crm_delivery_lease_seconds=5.0,
        crm_delivery_timeout_seconds=2.0,
        crm_delivery_backoff_base_seconds=0.05,
        crm_delivery_backoff_cap_seconds=0.2,
    )


@pytest.fixture
async def worker(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[CrmDeliveryWorker]:
    async with crm_http_client(settings) as http:
        yield CrmDeliveryWorker(sessionmaker, http, settings, rng=random.Random(7))


# Helpers -------------------------------------------------------------------------------------


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, count: int
) -> list[str]:
    """`count` new leads of acme with their deliveries; the delivery ids."""
    await connect_advertiser(sessionmaker, "acme")
    entries = [parse_entry(lead_entry(7126711421177430000 + i)) for i in range(count)]
    async with session_scope(sessionmaker) as session:
        await service.ingest(session, entries, source=LeadSource.webhook, settings=settings)
    return [str(d.id) for d in await deliveries(sessionmaker)]


async def deliveries(sessionmaker: async_sessionmaker[AsyncSession]) -> list[CrmDelivery]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(CrmDelivery).order_by(CrmDelivery.id))).all())


async def eventually(
    condition: Callable[[], Awaitable[bool]], within: float = WAIT_SECONDS, step: float = 0.05
) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"not reached within {within}s"
        await asyncio.sleep(step)


async def all_delivered(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    return all(d.status == DeliveryStatus.delivered for d in await deliveries(sessionmaker))


async def drain_until_delivered(
    worker: CrmDeliveryWorker, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async def delivered() -> bool:
        await worker.drain()
        return await all_delivered(sessionmaker)

    await eventually(delivered)


# Freshness ------------------------------------------------------------------------------------


def _histogram(name: str, **labels: str) -> tuple[float, float]:
    """(count, sum) of a process-wide histogram of app.core.metrics, now."""
    registry = CollectorRegistry()
    register_process_metrics(registry)
    count = registry.get_sample_value(f"{name}_count", labels) or 0.0
    return count, registry.get_sample_value(f"{name}_sum", labels) or 0.0


async def test_lead_age_is_measured_when_stored_and_when_the_crm_acknowledges(
    worker: CrmDeliveryWorker, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    stored_before = _histogram("lead_stored_age_seconds", source="webhook")
    acknowledged_before = _histogram("lead_crm_acknowledged_age_seconds")
    # TikTok's documented create_time (2021): every lead is years old when it arrives.
    await connect_advertiser(sessionmaker, "acme")
    entries = [parse_entry(lead_entry(7126711421177439000 + i)) for i in range(3)]
    settings = worker._settings
    async with session_scope(sessionmaker) as session:
        await service.ingest(session, entries, source=LeadSource.webhook, settings=settings)
    await drain_until_delivered(worker, sessionmaker)

    year = 365 * 24 * 3600.0
    count, total = _histogram("lead_stored_age_seconds", source="webhook")
    assert count - stored_before[0] == 3
    assert total - stored_before[1] > 3 * year
    count, total = _histogram("lead_crm_acknowledged_age_seconds")
    assert count - acknowledged_before[0] == 3
    assert total - acknowledged_before[1] > 3 * year


# Signing and the body ------------------------------------------------------------------------


def test_signing_matches_the_standard_webhooks_test_vector() -> None:
    # The published vector of the Standard Webhooks / Svix libraries.
    assert (
        sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


async def test_a_lead_reaches_the_crm_signed_with_the_documented_body(
    worker: CrmDeliveryWorker,
    receiver: CrmReceiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    [delivery_id] = await seed(sessionmaker, settings, 1)
    assert await worker.drain() == 1

    [received] = receiver.received
    assert received.webhook_id == delivery_id
    assert received.verified
    assert received.body["type"] == "lead.created"
    assert datetime.fromisoformat(received.body["timestamp"]).tzinfo is not None
    data = received.body["data"]
    assert data["company_id"] == "acme"
    assert data["tiktok_lead_id"] == "7126711421177430000"
    assert (data["name"], data["first_name"], data["last_name"]) == ("Jane Doe", "Jane", "Doe")
    assert (data["email"], data["phone"]) == ("jane@example.com", "+15088888888")
    assert data["answers"][0] == {"field": "name", "value": "Jane Doe"}
    assert data["attribution"]["advertiser_id"] == "7000000000000000001"
    assert data["attribution"]["form_id"] == "7100000000000000001"
    assert data["source"] == "webhook"

    [delivery] = await deliveries(sessionmaker)
    assert delivery.status == DeliveryStatus.delivered
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)
    assert delivery.delivered_at is not None
    assert await worker.drain() == 0


async def test_a_whsec_secret_signs_with_its_decoded_key(
    receiver: CrmReceiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    database_url: str,
) -> None:
    receiver.secret = WHSEC_SECRET
    whsec = make_settings(
        database_url=database_url,
        crm_leads_webhook_url=receiver.url,
        crm_webhook_secret=WHSEC_SECRET,
    )
    await seed(sessionmaker, settings, 1)
    async with crm_http_client(whsec) as http:
        await CrmDeliveryWorker(sessionmaker, http, whsec).drain()
    [received] = receiver.received
    assert received.verified


# Retries -------------------------------------------------------------------------------------


async def test_503s_are_retried_until_the_crm_accepts(
    worker: CrmDeliveryWorker,
    receiver: CrmReceiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    receiver.answers.extend(
        [
            (503, {"Retry-After": "0"}),
            (503, {}),
            (429, {"Retry-After": "0"}),
            (500, {}),
            (503, {}),
            (408, {}),
        ]
    )
    ids = await seed(sessionmaker, settings, 3)

    await drain_until_delivered(worker, sessionmaker)

    assert receiver.ids() == set(ids)
    assert all(item.verified for item in receiver.received)
    rows = await deliveries(sessionmaker)
    assert sum(d.attempts for d in rows) == 3 + 6
    assert any(d.attempts > 1 for d in rows)
    assert {d.last_status_code for d in rows} == {200}
    assert {d.last_error for d in rows} == {None}


async def test_retry_after_defers_the_next_attempt(
    worker: CrmDeliveryWorker,
    receiver: CrmReceiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    capped = settings.model_copy(update={"crm_delivery_backoff_cap_seconds": 3600.0})
    receiver.answers.append((503, {"Retry-After": "120"}))
    await seed(sessionmaker, settings, 1)
    async with crm_http_client(capped) as http:
        before = utcnow()
        assert await CrmDeliveryWorker(sessionmaker, http, capped).drain() == 1
        assert await CrmDeliveryWorker(sessionmaker, http, capped).drain() == 0

    [delivery] = await deliveries(sessionmaker)
    assert delivery.status == DeliveryStatus.pending
    assert delivery.last_status_code == 503
    assert delivery.last_error == "HTTP 503: nope"
    assert timedelta(seconds=119) <= delivery.next_attempt_at - before <= timedelta(seconds=125)


async def test_network_errors_are_retried(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    unreachable = settings.model_copy(
        update={"crm_leads_webhook_url": f"http://127.0.0.1:{closed_port}/hooks"}
    )
    await seed(sessionmaker, settings, 1)
    async with crm_http_client(unreachable) as http:
        await CrmDeliveryWorker(sessionmaker, http, unreachable).drain()
    [delivery] = await deliveries(sessionmaker)
    assert delivery.status == DeliveryStatus.pending
    assert delivery.last_status_code is None
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("ConnectError")


async def test_retries_end_after_the_maximum_age(
    worker: CrmDeliveryWorker,
    receiver: CrmReceiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await seed(sessionmaker, settings, 1)
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(CrmDelivery).values(
                attempts=40, first_attempt_at=utcnow() - timedelta(hours=48, minutes=1)
            )
        )
    receiver.answers.append((503, {}))
    await worker.drain()
    [delivery] = await deliveries(sessionmaker)
    assert delivery.status == DeliveryStatus.dead
    assert delivery.attempts == 41


async def test_a_permanent_refusal_is_dead_at_once_and_replayable(
    worker: CrmDeliveryWorker,
    receiver: CrmReceiver,
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    receiver.answers.append((400, {}))
    [delivery_id] = await seed(sessionmaker, settings, 1)
    await worker.drain()
    await worker.drain()

    [delivery] = await deliveries(sessionmaker)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.dead,
        1,
        400,
    )
    dead = await client.get(DELIVERIES, headers=auth("acme"), params={"status": "dead"})
    assert [item["id"] for item in dead.json()["items"]] == [delivery_id]

    replay = await client.post(f"{DELIVERIES}{delivery_id}/replay/", headers=auth("acme"))
    assert replay.status_code == 200
    await drain_until_delivered(worker, sessionmaker)

    [delivery] = await deliveries(sessionmaker)
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)
    assert receiver.times(delivery_id) == 2
    delivered = await client.get(DELIVERIES, headers=auth("acme"), params={"status": "delivered"})
    assert [item["id"] for item in delivered.json()["items"]] == [delivery_id]


@pytest.mark.parametrize("requeue", ["replay", "recover"])
async def test_a_zombie_attempt_settles_nothing_after_a_requeue_and_a_new_claim(
    requeue: str,
    worker: CrmDeliveryWorker,
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    # A worker's attempt 1 hangs past its lease; another claims the delivery and it dies;
    # a requeue resets its attempts, so the next claim is attempt 1 again. The first
    # worker's late answer must not settle that new attempt.
    [delivery_id] = await seed(sessionmaker, settings, 1)
    lease = timedelta(seconds=settings.crm_delivery_lease_seconds)
    now = utcnow()

    async def claim_at(at: datetime) -> Claim:
        async with session_scope(sessionmaker) as session:
            [claimed] = await events_repository.claim_due(session, at, at + lease, 10)
        return claimed

    zombie = await claim_at(now)
    taken_over = await claim_at(now + lease + timedelta(seconds=1))
    await worker._settle_many([(taken_over, Outcome("dead", 400, "HTTP 400"))])
    if requeue == "replay":
        response = await client.post(f"{DELIVERIES}{delivery_id}/replay/", headers=auth("acme"))
    else:
        since = (utcnow() - timedelta(days=1)).isoformat()
        response = await client.post(RECOVER, headers=auth("acme"), json={"since": since})
    assert response.status_code == 200, response.text
    fresh = await claim_at(utcnow() + timedelta(seconds=1))
    assert (zombie.attempt, fresh.attempt) == (1, 1)

    await worker._settle_many([(zombie, Outcome("delivered", 200))])

    [delivery] = await deliveries(sessionmaker)
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == (
        DeliveryStatus.delivering,
        1,
        None,
    )
    assert delivery.lease_until == fresh.lease_until
    await worker._settle_many([(fresh, Outcome("delivered", 200))])
    [delivery] = await deliveries(sessionmaker)
    assert delivery.status == DeliveryStatus.delivered


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("30", now) == 30.0
    assert (
        retry_after_seconds(format_datetime(now + timedelta(minutes=2), usegmt=True), now) == 120.0
    )
    assert retry_after_seconds(format_datetime(now - timedelta(minutes=2), usegmt=True), now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(1, 5.0), (2, 10.0), (3, 20.0), (12, 3600.0), (500, 3600.0)]:
        delays = [backoff_seconds(attempt, 5.0, 3600.0, rng) for _ in range(200)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling * 0.8


# At least once across crashes and processes ---------------------------------------------------


def worker_process(settings: Settings, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """`python -m app deliver` against the test database, in its own process."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CRM_", "DATABASE_", "APP_ENV", "TIKTOK_", "LEADGEN_"))
    }
    environment.update(
        APP_ENV="test",
        DATABASE_URL=settings.database_url,
        CRM_LEADS_WEBHOOK_URL=settings.crm_leads_webhook_url or "",
        CRM_WEBHOOK_SECRET=CRM_SECRET,
        CRM_DELIVERY_INTERVAL_SECONDS="0.1",
        LOG_LEVEL="INFO",
        **env,
    )
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "deliver"],
            cwd=REPO_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def test_a_worker_killed_mid_request_loses_nothing(
    receiver: CrmReceiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    ids = await seed(sessionmaker, settings, 10)
    receiver.delay = 1.0  # the kill lands while the CRM is still answering
    env = {
        "CRM_DELIVERY_LEASE_SECONDS": "2",
        "CRM_DELIVERY_TIMEOUT_SECONDS": "1.5",
        "CRM_DELIVERY_BATCH_SIZE": "4",
    }
    log = tmp_path / "worker.log"
    first = worker_process(settings, log, **env)
    try:

        async def request_in_flight() -> bool:
            assert first.poll() is None, log.read_text()
            return bool(receiver.in_flight)

        await eventually(request_in_flight)
        with receiver.lock:
            interrupted = set(receiver.in_flight)
        assert interrupted
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first)
    leased = [d for d in await deliveries(sessionmaker) if d.status == DeliveryStatus.delivering]
    assert interrupted <= {str(d.id) for d in leased}

    receiver.delay = 0.05
    second = worker_process(settings, log, **env)
    try:

        async def everything_delivered() -> bool:
            assert second.poll() is None, log.read_text()
            return receiver.ids() == set(ids) and await all_delivered(sessionmaker)

        await eventually(everything_delivered)
    finally:
        stop(second)
    assert second.returncode == 0, log.read_text()  # SIGTERM: in-flight work ends, then exit
    assert all(item.verified for item in receiver.received)
    for webhook_id in interrupted:
        assert receiver.times(webhook_id) >= 2  # sent again once the lease lapsed


async def test_the_app_delivers_in_the_background_when_a_crm_url_is_set(
    receiver: CrmReceiver, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    running = settings.model_copy(
        update={"background_jobs_enabled": True, "crm_delivery_interval_seconds": 0.05}
    )
    application = create_app(running)
    async with application.router.lifespan_context(application):
        [delivery_id] = await seed(sessionmaker, settings, 1)
        await eventually(lambda: all_delivered(sessionmaker))
    assert receiver.ids() == {delivery_id}


def test_the_worker_command_needs_a_crm_url(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    result = subprocess.run(
        [sys.executable, "-m", "app", "deliver", "--once"],
        cwd=REPO_ROOT,
        env={**environment, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "CRM_LEADS_WEBHOOK_URL" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"crm_leads_webhook_url": "http://crm.test/hook"}, "needs CRM_WEBHOOK_SECRET"),
        ({"crm_leads_webhook_url": "crm.test/hook", "crm_webhook_secret": "s"}, "http(s) URL"),
        ({"crm_webhook_secret": "whsec_not base64!"}, "whsec_"),
        ({"crm_delivery_timeout_seconds": 60, "crm_delivery_lease_seconds": 60}, "below"),
        ({"crm_delivery_max_age_hours": 1}, "greater than or equal to 24"),
    ],
)
def test_delivery_settings_that_cannot_work_are_refused(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_settings(**overrides)
