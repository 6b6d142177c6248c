"""TikTok's Login Kit webhooks: verified, stored before the 200, and processed exactly once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.audit.models import IntegrationLog
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.tiktok.errors import TikTokNotConfigured
from app.webhooks import jobs as inbox_jobs
from app.webhooks import repository as inbox_repository
from app.webhooks import service
from app.webhooks.jobs import process_new_events, sweep_webhook_events
from app.webhooks.models import TikTokWebhookEvent, WebhookEventStatus
from app.webhooks.signature import (
    SignatureInvalid,
    SignatureMalformed,
    SignedWebhook,
    TimestampStale,
    WebhookVerifier,
    configured_verifier,
    verified_webhook,
)
from tests.conftest import fake_tiktok_settings, make_settings
from tiktok_emulator import EmulatorConfig, create_emulator, sign_webhook
from tiktok_emulator.seed import SEED_USERS

URL = "/api/integrations/webhooks/tiktok/"
CLIENT_KEY = "ck"
SECRET = "test_client_secret"
OPEN_ID = "act.example12345Example12345Example"
OTHER_OPEN_ID = "act.someone-else"
# Past any retry backoff of the inbox: its sweeps are driven at times after this.
BACKOFF_OVER = timedelta(seconds=inbox_repository.RETRY_CAP_SECONDS + 1)

# TIKTOK_API.md §3: TikTok's documented test vector.
VECTOR_BODY = (
    b'{"client_key":"bwo2m45353a6k85","event":"authorization.removed",'
    b'"create_time":1615338610,"user_openid":"act.example12345Example12345Example",'
    b'"content":"{\\"reason\\": 1 }"}'
)
VECTOR_TIMESTAMP = 1615338610
VECTOR_HEADER = "t=1615338610,s=15ed02f792bc39e0e5958b4e8ff4151d28449cebda8e23079f9401c6bdd063ca"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return fake_tiktok_settings(
        database_url, tiktok_client_id=CLIENT_KEY, tiktok_client_secret=SECRET
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """TikTok's deliveries, each followed by one pass of the inbox job: what the in-process
    job does when the store wakes it (the endpoint itself applies nothing)."""

    async def inbox_pass(response: httpx.Response) -> None:
        if response.request.url.path == URL:
            await process_new_events(app.state.sessionmaker)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks={"response": [inbox_pass]}
    ) as http:
        yield http


@pytest.fixture
async def endpoint_only(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The endpoint alone: no inbox pass after the answer."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


# Helpers -------------------------------------------------------------------------------------


def envelope(
    event: str = "authorization.removed",
    *,
    content: dict[str, Any] | None = None,
    user_openid: str | None = OPEN_ID,
    client_key: str = CLIENT_KEY,
    create_time: int | None = None,
) -> dict[str, Any]:
    return {
        "client_key": client_key,
        "event": event,
        "create_time": int(time.time()) if create_time is None else create_time,
        "user_openid": user_openid,
        "content": json.dumps({"reason": 1} if content is None else content),
    }


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


async def deliver(
    client: httpx.AsyncClient,
    body: bytes,
    *,
    timestamp: int | None = None,
    secret: str = SECRET,
    signature: str | None = None,
) -> httpx.Response:
    header = signature or sign_webhook(
        secret, body, int(time.time()) if timestamp is None else timestamp
    )
    return await client.post(
        URL, content=body, headers={"Content-Type": "application/json", "TikTok-Signature": header}
    )


async def add_account(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    company: str = "acme",
    open_id: str | None = OPEN_ID,
    status: AccountStatus = AccountStatus.connected,
    platform: Platform = Platform.tiktok,
    connected_at: datetime | None = None,
) -> uuid.UUID:
    account = IntegrationAccount(
        id=uuid.uuid4(),
        company_id=company,
        platform=platform,
        name=f"{company} TikTok",
        status=status,
        external_id=open_id,
        access_token_ciphertext="encrypted-access",
        access_token_expires_at=utcnow() + timedelta(hours=1),
        refresh_token_ciphertext="encrypted-refresh",
        refresh_token_expires_at=utcnow() + timedelta(days=300),
        connected_at=connected_at or utcnow() - timedelta(days=1),
    )
    async with session_scope(sessionmaker) as session:
        session.add(account)
    return account.id


async def account(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> IntegrationAccount:
    async with sessionmaker() as session:
        found = await session.get(IntegrationAccount, account_id)
    assert found is not None
    return found


async def stored_events(sessionmaker: async_sessionmaker[AsyncSession]) -> list[TikTokWebhookEvent]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(TikTokWebhookEvent))).all())


async def logs(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID | None
) -> list[IntegrationLog]:
    query = select(IntegrationLog).order_by(IntegrationLog.created_at)
    if account_id is None:
        query = query.where(
            IntegrationLog.account_id.is_(None), IntegrationLog.company_id.is_(None)
        )
    else:
        query = query.where(IntegrationLog.account_id == account_id)
    async with sessionmaker() as session:
        return list((await session.scalars(query)).all())


async def log_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(IntegrationLog)) or 0)


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


# Signature -----------------------------------------------------------------------------------


def vector_verifier(client_key: str = "bwo2m45353a6k85") -> WebhookVerifier:
    return WebhookVerifier(
        secret=SECRET,
        client_key=client_key,
        tolerance_seconds=300,
        max_body_bytes=65536,
        clock=lambda: float(VECTOR_TIMESTAMP),
    )


def test_tiktoks_documented_test_vector_verifies() -> None:
    assert vector_verifier().verify(VECTOR_HEADER, VECTOR_BODY) == VECTOR_TIMESTAMP


def test_any_one_byte_change_of_the_body_fails_the_signature() -> None:
    verifier = vector_verifier()
    for index in range(len(VECTOR_BODY)):
        tampered = bytearray(VECTOR_BODY)
        tampered[index] ^= 0x01
        with pytest.raises(SignatureInvalid):
            verifier.verify(VECTOR_HEADER, bytes(tampered))
    with pytest.raises(SignatureInvalid):
        verifier.verify(VECTOR_HEADER, VECTOR_BODY + b" ")


def test_a_changed_timestamp_or_signature_fails() -> None:
    verifier = vector_verifier()
    with pytest.raises(SignatureInvalid):
        verifier.verify(VECTOR_HEADER.replace("t=1615338610", "t=1615338611"), VECTOR_BODY)
    with pytest.raises(SignatureInvalid):
        verifier.verify(VECTOR_HEADER[:-1] + "b", VECTOR_BODY)


def test_the_header_tolerates_spaces_order_case_and_several_signatures() -> None:
    signature = VECTOR_HEADER.split("s=")[1]
    verifier = vector_verifier()
    for header in (
        f" s={signature} , t=1615338610 ",
        f"t=1615338610,s={'0' * 64},s={signature}",
        f"t=1615338610,s={signature.upper()}",
    ):
        assert verifier.verify(header, VECTOR_BODY) == VECTOR_TIMESTAMP


@pytest.mark.parametrize(
    "header",
    ["garbage", "t=1615338610", "s=abc", "t=,s=abc", "t=12a,s=abc", "t=1,t=2,s=abc", "t=1;s=2"],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(SignatureMalformed):
        vector_verifier().verify(header, VECTOR_BODY)


def test_timestamps_outside_the_tolerance_are_refused_both_ways() -> None:
    for offset in (301, -301):
        verifier = WebhookVerifier(
            secret=SECRET,
            client_key="bwo2m45353a6k85",
            tolerance_seconds=300,
            max_body_bytes=65536,
            clock=lambda offset=offset: float(VECTOR_TIMESTAMP + offset),
        )
        with pytest.raises(TimestampStale):
            verifier.verify(VECTOR_HEADER, VECTOR_BODY)


async def test_the_test_vector_is_accepted_by_the_endpoint_with_a_frozen_clock(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app.state.webhook_verifier = vector_verifier()
    response = await deliver(client, VECTOR_BODY, signature=VECTOR_HEADER)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted", "reason": None}
    [event] = await stored_events(sessionmaker)
    assert event.status == WebhookEventStatus.processed
    assert (event.event, event.user_openid, event.create_time) == (
        "authorization.removed",
        OPEN_ID,
        VECTOR_TIMESTAMP,
    )
    assert event.body == VECTOR_BODY.decode()


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "webhook_signature_missing"),
        ({"TikTok-Signature": "nonsense"}, "webhook_signature_malformed"),
        ({"TikTok-Signature": f"t={int(time.time())},s={'a' * 64}"}, "webhook_signature_invalid"),
    ],
)
async def test_an_unsigned_or_badly_signed_delivery_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    headers: dict[str, str],
    code: str,
) -> None:
    response = await client.post(URL, content=encode(envelope()), headers=headers)
    assert response.status_code == 401
    assert error_code(response) == code
    assert await stored_events(sessionmaker) == []


async def test_a_delivery_signed_with_another_secret_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    account_id = await add_account(sessionmaker)
    response = await deliver(client, encode(envelope()), secret="not-our-secret")
    assert response.status_code == 401
    assert error_code(response) == "webhook_signature_invalid"
    assert await stored_events(sessionmaker) == []
    assert (await account(sessionmaker, account_id)).status == AccountStatus.connected


# Well past the 300 s tolerance, so a second ticking during the test cannot matter.
@pytest.mark.parametrize("offset", [-310, 310], ids=["stale", "future"])
async def test_a_timestamp_outside_the_tolerance_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], offset: int
) -> None:
    response = await deliver(client, encode(envelope()), timestamp=int(time.time()) + offset)
    assert response.status_code == 401
    assert error_code(response) == "webhook_timestamp_stale"
    assert await stored_events(sessionmaker) == []


async def test_another_apps_client_key_is_401_so_tiktok_retries_after_a_config_fix(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    account_id = await add_account(sessionmaker)
    response = await deliver(client, encode(envelope(client_key="another-app")))
    assert response.status_code == 401
    assert error_code(response) == "webhook_client_key_mismatch"
    assert await stored_events(sessionmaker) == []
    assert (await account(sessionmaker, account_id)).status == AccountStatus.connected


async def test_a_body_over_the_limit_is_413_even_without_a_content_length(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = encode(envelope(content={"padding": "x" * 70_000}))
    response = await deliver(client, body)
    assert response.status_code == 413
    assert error_code(response) == "webhook_too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    header = sign_webhook(SECRET, body, int(time.time()))
    response = await client.post(URL, content=chunks(), headers={"TikTok-Signature": header})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert error_code(response) == "webhook_too_large"
    assert await stored_events(sessionmaker) == []


async def test_without_a_client_secret_webhooks_are_refused_as_not_configured() -> None:
    verifier = configured_verifier(make_settings(tiktok_client_id=CLIENT_KEY))
    request = Request({"type": "http", "method": "POST", "headers": []})
    with pytest.raises(TikTokNotConfigured):
        await verified_webhook(request, verifier)


# Exactly once --------------------------------------------------------------------------------


async def test_a_duplicate_delivery_is_acknowledged_and_processed_once(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    account_id = await add_account(sessionmaker)
    body = encode(envelope("video.publish.completed", content={"share_id": "share-1"}))
    first = await deliver(client, body)
    retry = await deliver(client, body, timestamp=int(time.time()) + 5)
    assert first.json() == {"status": "accepted", "reason": None}
    assert retry.json() == {"status": "duplicate", "reason": None}
    assert len(await stored_events(sessionmaker)) == 1
    [entry] = await logs(sessionmaker, account_id)
    assert entry.event == "tiktok.video.publish.completed"


async def test_two_racing_deliveries_store_and_process_the_event_once(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    account_id = await add_account(sessionmaker)
    body = encode(envelope("video.upload.failed", content={"share_id": "share-2"}))
    responses = await asyncio.gather(deliver(client, body), deliver(client, body))
    assert sorted(r.json()["status"] for r in responses) == ["accepted", "duplicate"]
    [event] = await stored_events(sessionmaker)
    assert event.status == WebhookEventStatus.processed
    assert event.attempts == 1
    assert len(await logs(sessionmaker, account_id)) == 1


async def test_a_burst_of_deliveries_shares_inserts_and_each_gets_its_own_answer(
    app: FastAPI,
    endpoint_only: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Concurrent deliveries are stored together (group commit): fewer INSERTs than
    deliveries, yet each is answered for itself, repeats within one batch included."""
    distinct = [
        encode(envelope("video.publish.completed", content={"share_id": f"burst-{i}"}))
        for i in range(30)
    ]
    malformed = encode({**envelope(), "event": ""})
    bodies = [*distinct, *distinct[:10], malformed]
    inserts: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TIKTOK_WEBHOOK_EVENTS"):
            inserts.append(statement)

    engine = app.state.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        responses = await asyncio.gather(*(deliver(endpoint_only, body) for body in bodies))
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    assert [r.status_code for r in responses] == [200] * len(bodies)
    statuses = [r.json()["status"] for r in responses]
    # Of two deliveries of one event, one stored it, whichever came first.
    for index in range(10):
        assert sorted([statuses[index], statuses[30 + index]]) == ["accepted", "duplicate"]
    assert statuses[10:30] == ["accepted"] * 20
    assert statuses[40] == "rejected"
    assert 1 <= len(inserts) < len(bodies)
    stored = await stored_events(sessionmaker)
    assert len(stored) == 31
    assert sum(event.status == WebhookEventStatus.rejected for event in stored) == 1


async def test_the_same_event_serialized_differently_is_a_duplicate(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_account(sessionmaker)
    created = int(time.time())
    first = (
        f'{{"client_key":"ck","event":"authorization.removed","create_time":{created},'
        f'"user_openid":"{OPEN_ID}","content":"{{\\"reason\\": 1 }}"}}'
    ).encode()
    reordered = json.dumps(
        {
            "user_openid": OPEN_ID,
            "content": '{"reason":1}',
            "create_time": created,
            "event": "authorization.removed",
            "client_key": "ck",
        },
        indent=2,
    ).encode()
    assert (await deliver(client, first)).json()["status"] == "accepted"
    assert (await deliver(client, reordered)).json()["status"] == "duplicate"
    assert len(await stored_events(sessionmaker)) == 1


async def test_two_processors_of_one_stored_event_apply_it_once(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    account_id = await add_account(sessionmaker)
    async with session_scope(sessionmaker) as session:
        receipt = await service.receive(
            session,
            SignedWebhook(
                body=encode(envelope("video.publish.completed", content={"share_id": "s"})),
                timestamp=int(time.time()),
                client_key=CLIENT_KEY,
            ),
        )
    assert receipt.event_id is not None
    results = await asyncio.gather(
        *(service.process(sessionmaker, receipt.event_id) for _ in range(3))
    )
    assert sorted(results) == [False, False, True]
    assert len(await logs(sessionmaker, account_id)) == 1


async def test_the_endpoint_stores_with_one_insert_and_the_job_applies_the_event_once(
    app: FastAPI,
    endpoint_only: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account_id = await add_account(sessionmaker)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # SQLite's `BEGIN IMMEDIATE` goes through the cursor too; it is the transaction.
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    engine = app.state.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        response = await deliver(endpoint_only, encode(envelope(content={"reason": 1})))
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    assert response.json() == {"status": "accepted", "reason": None}
    [insert] = statements
    assert insert.lstrip().upper().startswith("INSERT INTO TIKTOK_WEBHOOK_EVENTS")
    assert "ON CONFLICT" in insert.upper()

    # Stored before the answer, and nothing applied by the request.
    [event] = await stored_events(sessionmaker)
    assert (event.status, event.attempts) == (WebhookEventStatus.received, 0)
    assert await log_count(sessionmaker) == 0
    assert (await account(sessionmaker, account_id)).status == AccountStatus.connected

    assert await process_new_events(sessionmaker) == 1
    assert await process_new_events(sessionmaker) == 0
    assert await sweep_webhook_events(sessionmaker, grace=timedelta(0)) == 0
    [event] = await stored_events(sessionmaker)
    assert (event.status, event.attempts) == (WebhookEventStatus.processed, 1)
    assert (await account(sessionmaker, account_id)).status == AccountStatus.disconnected
    assert len(await logs(sessionmaker, account_id)) == 1


async def test_a_store_wakes_the_inbox_job_at_once(
    app: FastAPI,
    settings: Settings,
    endpoint_only: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account_id = await add_account(sessionmaker)
    # A poll interval no test waits for: only the endpoint's signal can wake the job.
    slow_poll = settings.model_copy(update={"webhook_poll_interval_seconds": 600.0})
    job = inbox_jobs.job(sessionmaker, slow_poll, app.state.webhook_inbox)
    running = asyncio.create_task(job.run_forever())
    try:
        await asyncio.sleep(0.05)
        body = encode(envelope("video.publish.completed", content={"share_id": "w"}))
        await deliver(endpoint_only, body)
        for _ in range(100):
            if await logs(sessionmaker, account_id):
                break
            await asyncio.sleep(0.02)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    [entry] = await logs(sessionmaker, account_id)
    assert entry.event == "tiktok.video.publish.completed"


async def test_two_processors_claiming_at_once_apply_every_event_once(
    app: FastAPI,
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account_id = await add_account(sessionmaker)
    total = service.BATCH_SIZE + 10
    async with session_scope(sessionmaker) as session:
        for number in range(total):
            body = encode(envelope("video.publish.completed", content={"share_id": f"s{number}"}))
            webhook = SignedWebhook(body=body, timestamp=int(time.time()), client_key=CLIENT_KEY)
            assert (await service.receive(session, webhook)).status == "accepted"
    apply = service._apply

    async def slow_apply(session: AsyncSession, stored: TikTokWebhookEvent, *rest: Any) -> None:
        await asyncio.sleep(0.005)  # each batch holds its claim while the other claims
        await apply(session, stored, *rest)

    monkeypatch.setattr(service, "_apply", slow_apply)
    # Two processors, two sessions (two connections), claiming concurrently.
    first, second = await asyncio.gather(
        process_new_events(sessionmaker), process_new_events(sessionmaker)
    )
    assert first + second == total
    if database_url.startswith("postgresql"):
        # SKIP LOCKED: they shared the inbox instead of queueing behind each other's locks.
        assert first > 0
        assert second > 0
    events = await stored_events(sessionmaker)
    assert {(e.status, e.attempts) for e in events} == {(WebhookEventStatus.processed, 1)}
    entries = await logs(sessionmaker, account_id)
    assert sorted(e.data["share_id"] for e in entries) == sorted(f"s{n}" for n in range(total))


# authorization.removed -----------------------------------------------------------------------


async def test_authorization_removed_disconnects_every_matching_account_in_every_company(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    acme = await add_account(sessionmaker, company="acme")
    globex = await add_account(sessionmaker, company="globex")
    other_user = await add_account(sessionmaker, company="acme", open_id=OTHER_OPEN_ID)
    ads = await add_account(sessionmaker, company="acme", platform=Platform.tiktok_ads)

    response = await deliver(client, encode(envelope(content={"reason": 2})))
    assert response.json()["status"] == "accepted"

    for account_id in (acme, globex):
        removed = await account(sessionmaker, account_id)
        assert removed.status == AccountStatus.disconnected
        assert removed.disconnected_at is not None
        assert removed.last_error_code == "authorization_removed"
        assert removed.access_token_ciphertext is None
        assert removed.refresh_token_ciphertext is None
        [entry] = await logs(sessionmaker, account_id)
        assert entry.event == "tiktok.authorization_removed"
        assert entry.level == "warning"
        assert "the user deleted their TikTok account" in entry.message
        assert entry.data["reason"] == 2
        assert entry.company_id == removed.company_id
    for account_id in (other_user, ads):
        untouched = await account(sessionmaker, account_id)
        assert untouched.status == AccountStatus.connected
        assert untouched.access_token_ciphertext == "encrypted-access"
        assert await logs(sessionmaker, account_id) == []


async def test_each_removal_reason_is_logged_in_words(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    words = {
        0: "unknown reason",
        1: "the user disconnected the app in TikTok",
        3: "the user's age changed",
        4: "the TikTok account was banned",
        5: "the developer revoked the authorization",
        9: "unknown reason (9)",
    }
    for code, text in words.items():
        account_id = await add_account(sessionmaker, open_id=f"user-{code}")
        body = encode(envelope(user_openid=f"user-{code}", content={"reason": code}))
        assert (await deliver(client, body)).json()["status"] == "accepted"
        [entry] = await logs(sessionmaker, account_id)
        assert text in entry.message, (code, entry.message)


async def test_a_late_removal_does_not_disconnect_an_account_reconnected_after_it(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    account_id = await add_account(sessionmaker, connected_at=utcnow())
    removed_an_hour_ago = int(time.time()) - 3600
    await deliver(client, encode(envelope(create_time=removed_an_hour_ago)))
    kept = await account(sessionmaker, account_id)
    assert kept.status == AccountStatus.connected
    assert kept.access_token_ciphertext == "encrypted-access"
    [entry] = await logs(sessionmaker, account_id)
    assert "stays connected" in entry.message


async def test_a_removal_for_an_unknown_user_is_logged_unattached(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    account_id = await add_account(sessionmaker, open_id=OTHER_OPEN_ID)
    await deliver(client, encode(envelope()))
    [entry] = await logs(sessionmaker, None)
    assert entry.event == "tiktok.authorization_removed"
    assert entry.data["user_openid"] == OPEN_ID
    assert (await account(sessionmaker, account_id)).status == AccountStatus.connected


# Other events --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "content"),
    [
        ("video.upload.failed", {"share_id": "video.6974245311675353080.VDCxrcMJ"}),
        ("video.publish.completed", {"share_id": "video.6974245311675353080.VDCxrcMJ"}),
        ("post.publish.complete", {"publish_id": "v_pub_url~v2.123", "post_id": ["7"]}),
        ("post.publish.no_longer_publicaly_available", {"publish_id": "p"}),
        ("portability.download.ready", {"request_id": 12345}),
        ("some.future.event", {"anything": True}),
    ],
)
async def test_other_events_are_logged_on_the_account_with_their_content(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    event: str,
    content: dict[str, Any],
) -> None:
    account_id = await add_account(sessionmaker)
    response = await deliver(client, encode(envelope(event, content=content)))
    assert response.json()["status"] == "accepted"
    [entry] = await logs(sessionmaker, account_id)
    assert entry.event == f"tiktok.{event}"
    assert entry.company_id == "acme"
    assert {k: entry.data[k] for k in content} == content
    assert (await account(sessionmaker, account_id)).status == AccountStatus.connected


async def test_an_event_for_no_known_account_is_logged_unattached(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await deliver(client, encode(envelope("portability.download.ready", content={"request_id": 7})))
    [entry] = await logs(sessionmaker, None)
    assert entry.event == "tiktok.portability.download.ready"
    assert entry.data["request_id"] == 7
    assert entry.data["user_openid"] == OPEN_ID


async def test_the_portal_test_event_is_processed_without_touching_accounts(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    account_id = await add_account(sessionmaker)
    body = encode({"client_key": CLIENT_KEY, "event": "tiktok.ping", "create_time": 1})
    assert (await deliver(client, body)).json()["status"] == "accepted"
    [event] = await stored_events(sessionmaker)
    assert event.status == WebhookEventStatus.processed
    [entry] = await logs(sessionmaker, None)
    assert entry.event == "tiktok.ping"
    assert (await account(sessionmaker, account_id)).status == AccountStatus.connected


async def test_the_account_log_api_shows_the_webhook_entry(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], auth: Any
) -> None:
    account_id = await add_account(sessionmaker)
    await deliver(client, encode(envelope(content={"reason": 1})))
    response = await client.get(f"/api/integrations/accounts/{account_id}/logs/", headers=auth())
    [item] = response.json()["items"]
    assert item["event"] == "tiktok.authorization_removed"
    assert "the user disconnected the app in TikTok" in item["message"]


# Signed but malformed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "the body is not valid UTF-8 JSON"),
        (b"\xff\xfe{}", "the body is not valid UTF-8 JSON"),
        (b'["a list"]', "the body is not a JSON object"),
        (b'{"client_key":"ck","create_time":1}', "event is missing"),
        (b'{"event":"authorization.removed"}', "client_key is missing"),
        (
            b'{"client_key":"ck","event":"authorization.removed","content":"{nope"}',
            "content is not a JSON object serialized as a string",
        ),
        (
            b'{"client_key":"ck","event":"authorization.removed","content":"[1]"}',
            "content is not a JSON object serialized as a string",
        ),
        (
            b'{"client_key":"ck","event":"authorization.removed","content":{"reason":1}}',
            "content is not a JSON object serialized as a string",
        ),
        (
            b'{"client_key":"ck","event":"x","create_time":"yesterday"}',
            "create_time is not a Unix timestamp",
        ),
        (b'{"client_key":"ck","event":"x","content":"{\\"a\\":NaN}"}', "content is not a JSON"),
        (
            b'{"client_key":"ck","event":"x","user_openid":"a\\u0000b"}',
            "the event contains NUL characters",
        ),
        (
            b'{"client_key":"ck","event":"x","content":"{\\"a\\":\\"\\ud800\\"}"}',
            "the event contains invalid Unicode",
        ),
        (
            b'{"client_key":"ck","event":"x","content":"{\\"a\\":'
            + b"[" * 100
            + b"]" * 100
            + b'}"}',
            "content is nested too deeply",
        ),
    ],
)
async def test_a_signed_but_malformed_event_is_200_and_stored_as_rejected(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    body: bytes,
    reason: str,
) -> None:
    account_id = await add_account(sessionmaker)
    response = await deliver(client, body)
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert reason in response.json()["reason"]
    [event] = await stored_events(sessionmaker)
    assert event.status == WebhookEventStatus.rejected
    assert reason in (event.reason or "")
    assert await log_count(sessionmaker) == 0
    assert (await account(sessionmaker, account_id)).status == AccountStatus.connected
    assert (await deliver(client, body)).json()["status"] == "duplicate"


# Failures and the sweeper --------------------------------------------------------------------


async def test_a_processing_failure_leaves_the_event_received_for_the_sweeper(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account_id = await add_account(sessionmaker)

    async def broken(*_: Any) -> None:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(service, "_authorization_removed", broken)
    response = await deliver(client, encode(envelope()))
    assert response.json()["status"] == "accepted"
    [event] = await stored_events(sessionmaker)
    assert event.status == WebhookEventStatus.received
    assert (event.attempts, event.reason) == (1, "RuntimeError: database hiccup")
    assert (await account(sessionmaker, account_id)).status == AccountStatus.connected

    monkeypatch.undo()
    # The sweep after the failure's backoff.
    later = utcnow() + BACKOFF_OVER
    assert await sweep_webhook_events(sessionmaker, grace=timedelta(0), now=later) == 1
    [event] = await stored_events(sessionmaker)
    assert event.status == WebhookEventStatus.processed
    assert event.attempts == 2
    assert (await account(sessionmaker, account_id)).status == AccountStatus.disconnected
    assert await sweep_webhook_events(sessionmaker, grace=timedelta(0), now=later) == 0
    assert len(await logs(sessionmaker, account_id)) == 1


async def test_an_event_that_keeps_failing_is_marked_failed_after_the_last_attempt(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(service, "_record", broken)
    await deliver(client, encode(envelope("video.publish.completed", content={"share_id": "s"})))
    now = utcnow()
    for sweep in range(1, service.MAX_ATTEMPTS + 1):
        # Each sweep once the last failure's backoff is over.
        await sweep_webhook_events(sessionmaker, grace=timedelta(0), now=now + sweep * BACKOFF_OVER)
    [event] = await stored_events(sessionmaker)
    assert event.status == WebhookEventStatus.failed
    assert event.attempts == service.MAX_ATTEMPTS
    assert event.reason == "RuntimeError: bug"


async def test_a_failed_event_waits_its_backoff_and_a_sweep_tries_each_event_once(
    app: FastAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(service, "_record", broken)
    # More failing events than a batch: the sweep goes on while batches come back full.
    count = inbox_jobs.BATCH_SIZE + 10
    async with session_scope(sessionmaker) as session:
        for share in range(count):
            body = encode(envelope("video.publish.completed", content={"share_id": str(share)}))
            webhook = SignedWebhook(body=body, timestamp=int(time.time()), client_key=CLIENT_KEY)
            assert (await service.receive(session, webhook)).status == "accepted"
    events = await stored_events(sessionmaker)
    assert all(e.next_attempt_at == e.received_at for e in events)  # due when received
    now = utcnow()

    assert await sweep_webhook_events(sessionmaker, grace=timedelta(0), now=now) == 0

    events = await stored_events(sessionmaker)
    assert len(events) == count
    assert {(e.status, e.attempts) for e in events} == {(WebhookEventStatus.received, 1)}
    assert all(now < e.next_attempt_at <= now + BACKOFF_OVER for e in events)
    assert await sweep_webhook_events(sessionmaker, grace=timedelta(0), now=now) == 0
    assert {e.attempts for e in await stored_events(sessionmaker)} == {1}
    await sweep_webhook_events(sessionmaker, grace=timedelta(0), now=now + BACKOFF_OVER)
    assert {e.attempts for e in await stored_events(sessionmaker)} == {2}


async def test_the_sweeper_leaves_fresh_events_to_the_request_that_stored_them(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_scope(sessionmaker) as session:
        receipt = await service.receive(
            session,
            SignedWebhook(
                body=encode(envelope("tiktok.ping", content={})),
                timestamp=int(time.time()),
                client_key=CLIENT_KEY,
            ),
        )
    assert receipt.status == "accepted"
    assert await sweep_webhook_events(sessionmaker) == 0
    assert await sweep_webhook_events(sessionmaker, grace=timedelta(0)) == 1


async def test_the_sweeper_forgets_settled_events_after_the_retention(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_scope(sessionmaker) as session:
        session.add(
            TikTokWebhookEvent(
                dedupe_key="a" * 64,
                body="{}",
                status=WebhookEventStatus.processed,
                received_at=datetime.now(UTC) - timedelta(days=31),
            )
        )
    await sweep_webhook_events(sessionmaker)
    assert await stored_events(sessionmaker) == []


async def test_a_row_stored_without_a_due_time_is_due_when_it_was_received(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    received = datetime.now(UTC) - timedelta(hours=2)
    async with session_scope(sessionmaker) as session:
        session.add(TikTokWebhookEvent(dedupe_key="b" * 64, body="{}", received_at=received))
    [event] = await stored_events(sessionmaker)
    assert (event.received_at, event.next_attempt_at) == (received, received)


# With the emulator ---------------------------------------------------------------------------


@respx.mock
async def test_a_revoke_on_the_tiktok_side_disconnects_the_account(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    open_id = SEED_USERS[0].open_id
    account_id = await add_account(sessionmaker, open_id=open_id)
    webhook_url = f"http://testserver{URL}"
    emulator = create_emulator(
        EmulatorConfig(client_key=CLIENT_KEY, client_secret=SECRET, webhook_url=webhook_url)
    )

    async def to_our_app(request: httpx.Request) -> httpx.Response:
        forwarded = await client.post(
            request.url.path,
            content=request.content,
            headers={"TikTok-Signature": request.headers["TikTok-Signature"]},
        )
        return httpx.Response(forwarded.status_code, content=forwarded.content)

    respx.post(webhook_url).mock(side_effect=to_our_app)
    transport = httpx.ASGITransport(app=emulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://tiktok.test") as tiktok:
        response = await tiktok.post(f"/_control/users/{open_id}/revoke", params={"reason": 1})
    assert response.json()["webhook"] == {"url": webhook_url, "status_code": 200, "error": None}

    disconnected = await account(sessionmaker, account_id)
    assert disconnected.status == AccountStatus.disconnected
    assert disconnected.refresh_token_ciphertext is None
    [entry] = await logs(sessionmaker, account_id)
    assert "the user disconnected the app in TikTok" in entry.message
