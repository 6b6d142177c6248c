"""A slow refresh does not lose the account: TikTok rotates the refresh token when it issues
a new pair, so an answer that comes after the caller gave up must still be stored.

Against the emulator over real HTTP, with its latency fault on the token endpoint: TikTok
answers the refresh late, after the caller (a client that times out, a cancelled request)
has stopped waiting. Afterwards the account is still connected, its next read needs no
second refresh, and nothing asks for a reconnect.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import AccountStatus, IntegrationAccount
from app.core.crypto import TokenCipher
from app.core.db import create_engine, create_sessionmaker, session_scope, utcnow
from app.tiktok.client import TikTokClient
from app.tokens.manager import TokenManager
from tests.conftest import ENCRYPTION_KEY, make_settings
from tests.e2e.flow import (
    ACCOUNTS,
    create_account,
    decide,
    emulator_stats,
    follow,
    log_events,
    open_consent,
    read_account,
)
from tests.live_server import LiveServer

FAULTS = "/_tiktok/_control/faults"
REFRESHES = "token.refresh_token"  # the emulator's count of refresh grants
# Longer than every timeout a read has (10 s per attempt, 10 s in all): before the fix, the
# refresh was given up at 10 s while TikTok went on to rotate the refresh token.
SLOW_TIKTOK_SECONDS = 11.0
CALLER_GIVES_UP_SECONDS = 1.0
BOUND = 30.0  # seconds: no test may hang


async def _connected_account(
    server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> uuid.UUID:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(server, api, browser, account_id)
    landing = await follow(browser, await decide(browser, consent_url, form, "approve"))
    assert "connected=true" in landing, landing
    return uuid.UUID(account_id)


async def _slow_token_endpoint(browser: httpx.AsyncClient, seconds: float) -> None:
    fault = {"endpoint": "token", "kind": "latency", "latency_ms": int(seconds * 1000)}
    response = await browser.post(FAULTS, json=fault)
    assert response.status_code == 201, response.text


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The live server's database, from the test's own event loop."""
    engine = create_engine(make_settings(database_url=database_url))
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _expire_access_token(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> int:
    """Make the next use refresh; the token version the account holds now."""
    async with session_scope(sessionmaker) as session:
        account = await session.get(IntegrationAccount, account_id)
        assert account is not None
        await session.execute(
            update(IntegrationAccount)
            .where(IntegrationAccount.id == account_id)
            .values(access_token_expires_at=utcnow() - timedelta(minutes=1))
        )
        return account.token_version


async def _account(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> IntegrationAccount:
    async with sessionmaker() as session:
        account = await session.get(IntegrationAccount, account_id)
    assert account is not None
    return account


async def _wait_for_version(
    sessionmaker: async_sessionmaker[AsyncSession],
    account_id: uuid.UUID,
    version: int,
    within: float,
) -> IntegrationAccount:
    """The account once it holds `version` (a stored refresh), else as it is at `within`."""
    deadline = time.monotonic() + within
    while True:
        account = await _account(sessionmaker, account_id)
        if account.token_version >= version or time.monotonic() > deadline:
            return account
        await asyncio.sleep(0.1)


async def test_a_refresh_answered_after_the_caller_gave_up_is_stored(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The issue's case: TikTok answers the refresh in 11 s, longer than any read waits."""
    account_id = await _connected_account(live_server, api, browser)
    version = await _expire_access_token(sessionmaker, account_id)
    await _slow_token_endpoint(browser, SLOW_TIKTOK_SECONDS)
    videos = f"{ACCOUNTS}/{account_id}/tiktok-videos/"

    with pytest.raises(httpx.ReadTimeout):  # the CRM gives up long before TikTok answers
        await api.get(videos, timeout=CALLER_GIVES_UP_SECONDS)

    stored = await _wait_for_version(sessionmaker, account_id, version + 1, BOUND)
    assert (stored.status, stored.token_version) == (AccountStatus.connected, version + 1)
    response = await api.get(videos)
    assert response.status_code == 200, response.text
    assert (await emulator_stats(browser))[REFRESHES] == 1
    assert (await read_account(api, account_id))["status"] == "connected"
    assert "token.refreshed" in await log_events(api, account_id)


def _manager(
    server: LiveServer,
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    **settings: object,
) -> TokenManager:
    """A replica's token manager on the live server's database and emulator."""
    tiktok = TikTokClient.from_settings(server.settings.model_copy(update=settings), http)
    return TokenManager(sessionmaker, tiktok, TokenCipher(ENCRYPTION_KEY))


async def test_a_refresh_outlives_the_cancelled_request_that_started_it(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account_id = await _connected_account(live_server, api, browser)
    version = await _expire_access_token(sessionmaker, account_id)
    await _slow_token_endpoint(browser, 1.5)

    async with httpx.AsyncClient() as http:
        manager = _manager(live_server, sessionmaker, http)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):  # the request is cancelled mid-refresh
                await manager.get(account_id)

        stored = await _wait_for_version(sessionmaker, account_id, version + 1, 10.0)
        assert (stored.status, stored.token_version) == (AccountStatus.connected, version + 1)
        token = await manager.get(account_id)
    assert token.version == version + 1
    assert (await emulator_stats(browser))[REFRESHES] == 1
    response = await api.get(f"{ACCOUNTS}/{account_id}/tiktok-videos/")
    assert response.status_code == 200, response.text


async def test_token_grants_wait_longer_than_reads(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """TIKTOK_TOKEN_TIMEOUT_SECONDS, not the read timeout, bounds a refresh."""
    account_id = await _connected_account(live_server, api, browser)
    version = await _expire_access_token(sessionmaker, account_id)
    await _slow_token_endpoint(browser, 1.5)

    async with httpx.AsyncClient(timeout=httpx.Timeout(0.5)) as http:  # reads: 0.5 s
        manager = _manager(live_server, sessionmaker, http, tiktok_token_timeout_seconds=10)
        async with asyncio.timeout(BOUND):
            token = await manager.get(account_id)

    assert token.version == version + 1
    stored = await _account(sessionmaker, account_id)
    assert (stored.status, stored.token_version) == (AccountStatus.connected, version + 1)
    assert (await emulator_stats(browser))[REFRESHES] == 1
