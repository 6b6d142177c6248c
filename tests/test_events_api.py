"""CRM events: a delivery row per event written with it (filtered by CRM_WEBHOOK_EVENTS), the
event feed, the deliveries list, recovery of dead deliveries, signing with several secrets
and the Standard Webhooks retry schedule. Over real HTTP with the official library:
tests/e2e/test_crm_events_http.py."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import IntegrationLog
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.retry import SCHEDULE_JITTER, STANDARD_WEBHOOKS_SCHEDULE, scheduled_seconds
from app.events import outbox
from app.events.delivery import CrmDeliveryWorker, crm_http_client
from app.events.jobs import sequence_events, sequencer_job
from app.events.models import CrmDelivery, DeliveryStatus, Event, EventType
from app.events.standard_webhooks import headers, sign
from app.main import create_app
from tests.conftest import make_settings
from tests.crm_receiver import CrmReceiver, serve

EVENTS = "/api/integrations/events/"
DELIVERIES = "/api/integrations/events/deliveries/"
RECOVER = "/api/integrations/events/deliveries/recover/"
CRM_URL = "http://crm.test/hooks/events"
SECRETS = "old-secret-0123456789,new-secret-0123456789"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url=database_url, crm_webhook_url=CRM_URL, crm_webhook_secret=SECRETS
    )


async def emit(
    sessionmaker: async_sessionmaker[AsyncSession],
    type: EventType = EventType.account_connected,
    company: str = "acme",
    age: timedelta = timedelta(minutes=1),
    **data: Any,
) -> uuid.UUID:
    """An event as the lifecycle owner writes it, `age` old."""
    account_id = uuid.uuid4()
    async with session_scope(sessionmaker) as session:
        event = outbox.emit(
            session,
            type,
            company_id=company,
            account_id=account_id,
            data={"account_id": str(account_id), **data},
        )
    async with session_scope(sessionmaker) as session:
        when = utcnow() - age
        for model in (Event, CrmDelivery):
            await session.execute(update(model).where(model.id == event.id).values(created_at=when))
    return event.id


async def stored(sessionmaker: async_sessionmaker[AsyncSession]) -> list[CrmDelivery]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(CrmDelivery))).all())


# The outbox ------------------------------------------------------------------------------


async def test_an_event_and_its_delivery_are_written_together_with_one_id(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await emit(sessionmaker, reason="user")
    [delivery] = await stored(sessionmaker)
    assert delivery.id == delivery.event_id == event_id
    assert delivery.lead_id is None
    assert delivery.event_type == "account.connected"
    assert delivery.status == DeliveryStatus.pending
    assert set(delivery.payload) == {"type", "timestamp", "data"}
    assert delivery.payload["type"] == "account.connected"
    assert delivery.payload["data"]["reason"] == "user"

    async def rolled_back() -> None:
        async with session_scope(sessionmaker) as session:
            outbox.emit(
                session, EventType.account_deleted, company_id="acme", account_id=None, data={}
            )
            await session.flush()
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        await rolled_back()
    assert len(await stored(sessionmaker)) == 1


@pytest.mark.parametrize(
    ("overrides", "delivered"),
    [
        ({}, set(EventType)),
        (
            {"crm_webhook_events": "lead.created, account.deleted"},
            {"lead.created", "account.deleted"},
        ),
        ({"crm_webhook_url": None}, set()),
    ],
)
async def test_crm_webhook_events_chooses_the_types_delivered(
    settings: Settings, overrides: dict[str, Any], delivered: set[str]
) -> None:
    chosen = make_settings(**{**settings.model_dump(exclude_unset=True), **overrides})
    config = outbox.CrmDeliveryConfig.of(chosen)
    assert {t.value for t in EventType if config is not None and config.delivers(t)} == delivered


def test_an_unknown_event_type_is_a_configuration_error(settings: Settings) -> None:
    wrong = settings.model_copy(update={"crm_webhook_events": ["account.exploded"]})
    with pytest.raises(ValueError, match=r"account\.exploded"):
        outbox.CrmDeliveryConfig.of(wrong)


def test_the_leads_url_is_a_deprecated_alias(database_url: str) -> None:
    old = make_settings(crm_leads_webhook_url="http://crm.test/old", crm_webhook_secret="s")
    assert old.crm_url == "http://crm.test/old"
    both = make_settings(
        crm_webhook_url="http://crm.test/new",
        crm_leads_webhook_url="http://crm.test/old",
        crm_webhook_secret="s",
    )
    assert both.crm_url == "http://crm.test/new"
    with pytest.raises(ValueError, match="CRM_WEBHOOK_SECRET"):
        make_settings(crm_webhook_url="http://crm.test/new")
    with pytest.raises(ValueError, match="whsec_"):
        make_settings(crm_webhook_url="http://crm.test/new", crm_webhook_secret="a,whsec_!!")


# The feed ----------------------------------------------------------------------------------


async def test_the_feed_pages_oldest_first_and_resumes_from_its_cursor(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ids = [await emit(sessionmaker, age=timedelta(minutes=10 - i)) for i in range(5)]
    await emit(sessionmaker, company="globex")
    await sequence_events(sessionmaker)
    await emit(sessionmaker)  # not placed by the sequencer yet: not listed yet

    first = (await client.get(EVENTS, headers=auth("acme"), params={"limit": 3})).json()
    assert [item["id"] for item in first["items"]] == [str(i) for i in ids[:3]]
    assert first["has_more"] is True
    rest = await client.get(
        EVENTS, headers=auth("acme"), params={"limit": 3, "after": first["next_cursor"]}
    )
    assert [item["id"] for item in rest.json()["items"]] == [str(i) for i in ids[3:]]
    assert rest.json()["has_more"] is False
    item = rest.json()["items"][0]
    assert item["type"] == "account.connected"
    assert set(item) == {"id", "type", "timestamp", "account_id", "data"}

    # Nothing new: the same cursor comes back, to poll with later.
    cursor = rest.json()["next_cursor"]
    idle = (await client.get(EVENTS, headers=auth("acme"), params={"after": cursor})).json()
    assert idle == {"items": [], "next_cursor": cursor, "has_more": False}
    await sequence_events(sessionmaker)  # places the one written above
    held = (await client.get(EVENTS, headers=auth("acme"), params={"after": cursor})).json()
    cursor = held["next_cursor"]
    later = await emit(sessionmaker, type=EventType.account_deleted)
    await sequence_events(sessionmaker)
    after = (await client.get(EVENTS, headers=auth("acme"), params={"after": cursor})).json()
    assert [item["id"] for item in after["items"]] == [str(later)]

    other = (await client.get(EVENTS, headers=auth("globex"))).json()
    assert len(other["items"]) == 1
    bad = await client.get(EVENTS, headers=auth("acme"), params={"after": "nope"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_cursor"


async def test_an_event_that_commits_late_is_not_skipped_by_a_reader_past_it(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    seen = await emit(sessionmaker, age=timedelta(seconds=1))
    await sequence_events(sessionmaker)
    first = (await client.get(EVENTS, headers=auth("acme"))).json()
    assert [item["id"] for item in first["items"]] == [str(seen)]
    # Written an hour ago by a transaction that only commits now: older than what the
    # reader has seen, so a feed ordered by creation time would skip it for good.
    late = await emit(sessionmaker, age=timedelta(hours=1))
    await sequence_events(sessionmaker)
    resumed = await client.get(EVENTS, headers=auth("acme"), params={"after": first["next_cursor"]})
    assert [item["id"] for item in resumed.json()["items"]] == [str(late)]


async def test_concurrent_sequencer_passes_give_each_event_one_place(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    for _ in range(40):
        await emit(sessionmaker)
    counts = await asyncio.gather(*(sequence_events(sessionmaker) for _ in range(3)))
    assert sum(counts) == 40
    async with sessionmaker() as session:
        places = sorted((await session.scalars(select(Event.seq))).all())
    assert places == list(range(1, 41))


# Deliveries and recovery --------------------------------------------------------------------


async def _kill(sessionmaker: async_sessionmaker[AsyncSession], ids: list[uuid.UUID]) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(CrmDelivery)
            .where(CrmDelivery.id.in_(ids))
            .values(status=DeliveryStatus.dead, attempts=7, last_status_code=500)
        )


async def test_deliveries_are_listed_by_type_and_status_and_dead_ones_recovered(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    old = await emit(sessionmaker, age=timedelta(days=3))
    recent = await emit(sessionmaker, type=EventType.account_deleted, age=timedelta(hours=1))
    alive = await emit(sessionmaker, age=timedelta(hours=1))
    theirs = await emit(sessionmaker, company="globex", age=timedelta(hours=1))
    await _kill(sessionmaker, [old, recent, theirs])

    dead = await client.get(DELIVERIES, headers=auth("acme"), params={"status": "dead"})
    assert {item["id"] for item in dead.json()["items"]} == {str(old), str(recent)}
    deleted = await client.get(
        DELIVERIES, headers=auth("acme"), params={"event_type": "account.deleted"}
    )
    assert [item["id"] for item in deleted.json()["items"]] == [str(recent)]
    assert deleted.json()["items"][0]["event_id"] == str(recent)
    everything = await client.get(DELIVERIES, headers=auth("acme"))
    assert {item["id"] for item in everything.json()["items"]} == {
        str(old),
        str(recent),
        str(alive),
    }
    unknown = await client.get(DELIVERIES, headers=auth("acme"), params={"event_type": "x.y"})
    assert unknown.status_code == 422

    since = (utcnow() - timedelta(days=1)).isoformat()
    recovered = await client.post(RECOVER, headers=auth("acme"), json={"since": since})
    assert recovered.status_code == 200, recovered.text
    assert recovered.json() == {"recovered": 1}
    rows = {d.id: d for d in await stored(sessionmaker)}
    assert (rows[recent].status, rows[recent].attempts) == (DeliveryStatus.pending, 0)
    assert rows[recent].first_attempt_at is None
    assert rows[old].status == DeliveryStatus.dead  # before `since`
    assert rows[theirs].status == DeliveryStatus.dead  # another company's
    again = await client.post(RECOVER, headers=auth("acme"), json={"since": since})
    assert again.json() == {"recovered": 0}

    naive = await client.post(RECOVER, headers=auth("acme"), json={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    async with sessionmaker() as session:
        entries = (await session.scalars(select(IntegrationLog))).all()
    assert [(e.event, e.company_id) for e in entries] == [("events.deliveries_recovered", "acme")]


# Signing and the schedule ----------------------------------------------------------------


def test_each_secret_signs_every_delivery() -> None:
    body = b'{"type":"account.deleted"}'
    signed = headers(["old-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "id-1", 1700, body)
    assert signed["webhook-signature"] == " ".join(
        [
            sign("old-secret", "id-1", 1700, body),
            sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id-1", 1700, body),
        ]
    )
    assert headers("only", "id-1", 1700, body)["webhook-signature"].count("v1,") == 1


def test_the_default_schedule_is_standard_webhooks_and_lasts_past_72_hours() -> None:
    assert STANDARD_WEBHOOKS_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    rng = random.Random(3)
    for attempt, step in enumerate(STANDARD_WEBHOOKS_SCHEDULE, start=1):
        for _ in range(50):
            delay = scheduled_seconds(attempt, rng=rng)
            assert step * (1 - SCHEDULE_JITTER) <= delay <= step * (1 + SCHEDULE_JITTER)
    assert scheduled_seconds(40, rng=rng) >= 86400 * (1 - SCHEDULE_JITTER)  # the last repeats
    assert sum(STANDARD_WEBHOOKS_SCHEDULE) > 72 * 3600
    settings = make_settings()
    assert not settings.crm_exponential_backoff
    assert settings.crm_delivery_max_age == timedelta(hours=72)
    legacy = make_settings(crm_delivery_backoff_base_seconds=1.0)
    assert legacy.crm_exponential_backoff
    assert legacy.crm_delivery_max_age == timedelta(hours=48)
    assert make_settings(crm_delivery_max_age_hours=100).crm_delivery_max_age.days == 4


@pytest.fixture
def receiver() -> Iterator[CrmReceiver]:
    with serve(CrmReceiver(secret="new-secret-0123456789")) as running:
        yield running


@pytest.fixture
async def worker_settings(settings: Settings, receiver: CrmReceiver) -> Settings:
    return settings.model_copy(update={"crm_webhook_url": receiver.url})


@pytest.fixture
async def worker(
    worker_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[CrmDeliveryWorker]:
    async with crm_http_client(worker_settings) as http:
        yield CrmDeliveryWorker(sessionmaker, http, worker_settings, rng=random.Random(5))


async def test_a_failed_delivery_waits_the_schedules_step_and_dies_after_72_hours(
    worker: CrmDeliveryWorker,
    receiver: CrmReceiver,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await emit(sessionmaker)
    receiver.answers.append((503, {}))
    before = utcnow()
    assert await worker.drain() == 1
    [delivery] = await stored(sessionmaker)
    assert delivery.status == DeliveryStatus.pending
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 5 * (1 - SCHEDULE_JITTER) - 0.5 <= wait <= 5 * (1 + SCHEDULE_JITTER) + 0.5
    [request] = receiver.received
    assert request.webhook_id == str(event_id)
    assert request.verified  # by the receiver, with the new secret

    # Within 72 h of the first attempt a failure is retried; past them it is dead.
    for age, status in ((71, DeliveryStatus.pending), (72, DeliveryStatus.dead)):
        async with session_scope(sessionmaker) as session:
            await session.execute(
                update(CrmDelivery).values(
                    next_attempt_at=utcnow(),
                    first_attempt_at=datetime.now(UTC) - timedelta(hours=age, minutes=1),
                )
            )
        receiver.answers.append((503, {}))
        await worker.drain()
        [delivery] = await stored(sessionmaker)
        assert delivery.status == status, age


# The OpenAPI document ------------------------------------------------------------------


def test_every_event_body_is_an_openapi_webhook() -> None:
    document = create_app(make_settings()).openapi()
    assert document["openapi"].startswith("3.1")
    assert set(document["webhooks"]) == {t.value for t in EventType}
    schemas = document["components"]["schemas"]
    for type in EventType:
        body = document["webhooks"][type.value]["post"]["requestBody"]["content"]
        name = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert schemas[name]["properties"]["type"]["const"] == type.value
        assert set(schemas[name]["required"]) == {"type", "timestamp", "data"}
    lead = schemas["LeadCreatedEvent"]["properties"]["data"]
    assert lead == {"$ref": "#/components/schemas/LeadOut"}
    disconnected = schemas["AccountDisconnectedData"]["properties"]["reason"]
    assert disconnected["enum"] == ["user", "tiktok_revoked", "deleted"]


async def test_the_sequencer_job_places_new_events_and_skips_an_idle_pass(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    job = sequencer_job(sessionmaker, app.state.engine)
    assert await job.run_once() == 0
    await emit(sessionmaker)
    await emit(sessionmaker)
    assert await job.run_once() == 2
    assert await job.run_once() == 0
