"""TikTok for Business tokens that expire, end to end over real HTTP against the emulator.

Public sources disagree on the advertiser token (TIKTOK_API.md §5): long-term, or an access
token with `expires_in` plus a rotating refresh token. The emulator plays either model
(`PATCH /_control/business/tokens`); its clock ages the tokens. The service stores whatever
TikTok answers and renews an expiring token through the same once-only machinery as Login
Kit's: ahead of expiry, after a 40102, once however many readers ask, and never for a
long-term token. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.core.crypto import TokenCipher
from app.core.db import create_engine, create_sessionmaker, session_scope, utcnow
from app.jobs.token_refresh import refresh_due_tokens
from app.tiktok.business import TikTokBusinessClient
from app.tokens import unreadable
from app.tokens.manager import TokenManager
from app.tokens.store import ACCESS, REFRESH
from tests.conftest import ENCRYPTION_KEY, make_settings
from tests.e2e.flow import (
    ACCOUNTS,
    emulator_stats,
    log_events,
    read_account,
    stored_rows,
    strings_in,
)
from tests.e2e.test_ads_flow_http import _connect
from tests.live_server import LiveServer

BUSINESS = "/_tiktok/_control/business"
REFRESHES = "business.refresh_token"  # the emulator's count of refresh grants
DAY = 86400
YEAR = 365 * DAY
BOUND = 30.0  # seconds: no test may hang


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The live server's database, from the test's own event loop."""
    engine = create_engine(make_settings(database_url=database_url))
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _token_model(browser: httpx.AsyncClient, **spec: Any) -> dict[str, Any]:
    response = await browser.patch(f"{BUSINESS}/tokens", json=spec)
    assert response.status_code == 200, response.text
    model: dict[str, Any] = response.json()
    return model


async def _advertisers(browser: httpx.AsyncClient) -> list[str]:
    response = await browser.get(f"{BUSINESS}/advertisers")
    assert response.status_code == 200, response.text
    return [advertiser["advertiser_id"] for advertiser in response.json()["advertisers"]]


async def _connect_ads(
    server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    *,
    expiring: bool = True,
    advertiser: int = 0,
    **lifetimes: int,
) -> uuid.UUID:
    if expiring:
        await _token_model(browser, model="expiring", **lifetimes)
    advertiser_id = (await _advertisers(browser))[advertiser]
    return uuid.UUID(await _connect(server, api, browser, advertiser_id))


async def _advance_tiktok_clock(browser: httpx.AsyncClient, seconds: float) -> None:
    response = await browser.post("/_tiktok/_control/clock", json={"seconds": seconds})
    assert response.status_code == 200, response.text


async def _refreshes(browser: httpx.AsyncClient) -> int:
    return (await emulator_stats(browser)).get(REFRESHES, 0)


async def _account(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> IntegrationAccount:
    async with sessionmaker() as session:
        account = await session.get(IntegrationAccount, account_id)
    assert account is not None
    return account


async def _expire_stored_token(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> int:
    """The service now sees the access token as expired; the version it holds."""
    version = (await _account(sessionmaker, account_id)).token_version
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(IntegrationAccount)
            .where(IntegrationAccount.id == account_id)
            .values(access_token_expires_at=utcnow() - timedelta(minutes=1))
        )
    return version


async def _lead_forms(api: httpx.AsyncClient, account_id: uuid.UUID) -> httpx.Response:
    return await api.get(f"{ACCOUNTS}/{account_id}/lead-forms/")


def _manager(
    server: LiveServer,
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    refresh_ahead: timedelta,
) -> TokenManager:
    """Another replica's token manager, on the live server's database and emulator."""
    business = TikTokBusinessClient.from_settings(server.settings, http)
    return TokenManager(
        sessionmaker,
        None,
        TokenCipher(ENCRYPTION_KEY),
        business=business,
        refresh_ahead=refresh_ahead,
    )


async def test_an_expiring_connect_stores_the_refresh_token_encrypted_and_both_expiries(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account_id = await _connect_ads(
        live_server, api, browser, expires_in=DAY, refresh_expires_in=YEAR
    )

    account = await _account(sessionmaker, account_id)
    cipher = TokenCipher(ENCRYPTION_KEY)
    access = unreadable.read(account, cipher, ACCESS)
    refresh = unreadable.read(account, cipher, REFRESH)
    assert access
    assert refresh
    assert refresh != access
    assert account.access_token_expires_at is not None
    assert account.refresh_token_expires_at is not None
    assert abs(account.access_token_expires_at - (utcnow() + timedelta(days=1))) < timedelta(
        minutes=1
    )
    assert abs(account.refresh_token_expires_at - (utcnow() + timedelta(days=365))) < timedelta(
        minutes=1
    )
    stored = list(strings_in(await stored_rows(live_server.settings)))
    assert not any(access in value or refresh in value for value in stored)
    assert (await read_account(api, str(account_id)))["status"] == "connected"


async def test_a_read_after_expiry_refreshes_once_and_succeeds(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account_id = await _connect_ads(live_server, api, browser, expires_in=DAY)
    before = await _account(sessionmaker, account_id)
    version = await _expire_stored_token(sessionmaker, account_id)
    await _advance_tiktok_clock(browser, DAY)

    first = await _lead_forms(api, account_id)
    second = await _lead_forms(api, account_id)

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert len(first.json()["items"]) == 2
    assert await _refreshes(browser) == 1
    after = await _account(sessionmaker, account_id)
    assert (after.status, after.token_version) == (AccountStatus.connected, version + 1)
    assert after.access_token_expires_at is not None
    assert after.access_token_expires_at > utcnow() + timedelta(hours=23)
    cipher = TokenCipher(ENCRYPTION_KEY)
    assert unreadable.read(after, cipher, REFRESH) != unreadable.read(before, cipher, REFRESH), (
        "rotated"
    )
    assert "token.refreshed" in await log_events(api, str(account_id))


async def test_40102_on_a_read_refreshes_and_retries_once(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """TikTok's clock says the token expired before ours does: it answers 40102."""
    account_id = await _connect_ads(live_server, api, browser, expires_in=DAY)
    version = (await _account(sessionmaker, account_id)).token_version
    page_gets = (await emulator_stats(browser)).get("business.page_get", 0)
    await _advance_tiktok_clock(browser, DAY)

    response = await _lead_forms(api, account_id)

    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 2
    assert await _refreshes(browser) == 1
    # One page read refused with 40102, then the same read with the new token.
    assert (await emulator_stats(browser))["business.page_get"] == page_gets + 2
    after = await _account(sessionmaker, account_id)
    assert (after.status, after.token_version) == (AccountStatus.connected, version + 1)


async def test_concurrent_reads_refresh_exactly_once(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account_id = await _connect_ads(live_server, api, browser, expires_in=DAY)
    version = await _expire_stored_token(sessionmaker, account_id)
    await _advance_tiktok_clock(browser, DAY)

    async with asyncio.timeout(BOUND):
        responses = await asyncio.gather(*(_lead_forms(api, account_id) for _ in range(30)))

    assert [r.status_code for r in responses] == [200] * 30
    assert await _refreshes(browser) == 1
    after = await _account(sessionmaker, account_id)
    assert (after.status, after.token_version) == (AccountStatus.connected, version + 1)
    assert (await log_events(api, str(account_id))).count("token.refreshed") == 1


async def test_a_dead_refresh_token_requires_reconnecting(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account_id = await _connect_ads(
        live_server, api, browser, expires_in=3600, refresh_expires_in=7200
    )
    await _expire_stored_token(sessionmaker, account_id)
    await _advance_tiktok_clock(browser, 7200)  # the refresh token has expired too

    refused = await _lead_forms(api, account_id)
    again = await _lead_forms(api, account_id)

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "reauth_required"
    assert again.json()["error"]["code"] == "reauth_required"
    assert await _refreshes(browser) == 1, "one attempt, none once the account is flagged"
    account = await read_account(api, str(account_id))
    assert (account["status"], account["last_error_code"]) == ("reauth_required", "invalid_grant")
    assert "token.refresh_failed" in await log_events(api, str(account_id))


async def test_the_background_job_refreshes_a_due_ads_account_and_not_a_long_lived_one(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    long_lived = await _connect_ads(live_server, api, browser, expiring=False, advertiser=0)
    expiring = await _connect_ads(live_server, api, browser, expires_in=DAY, advertiser=1)
    before = {a: await _account(sessionmaker, a) for a in (long_lived, expiring)}
    ahead = timedelta(days=2)  # both tokens of a day are due

    async with httpx.AsyncClient() as http, asyncio.timeout(BOUND):
        refreshed = await refresh_due_tokens(
            sessionmaker,
            _manager(live_server, sessionmaker, http, ahead),
            refresh_ahead=ahead,
            renew_refresh_before=timedelta(days=7),
        )

    assert refreshed == 1
    assert await _refreshes(browser) == 1
    after = await _account(sessionmaker, expiring)
    assert after.platform == Platform.tiktok_ads
    assert (after.status, after.token_version) == (
        AccountStatus.connected,
        before[expiring].token_version + 1,
    )
    untouched = await _account(sessionmaker, long_lived)
    assert untouched.token_version == before[long_lived].token_version
    assert untouched.access_token_expires_at is None
    assert untouched.refresh_token_ciphertext is None
    assert (await _lead_forms(api, expiring)).status_code == 200
    assert await _refreshes(browser) == 1


async def test_a_long_lived_token_is_never_refreshed(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert (await browser.get(f"{BUSINESS}/tokens")).json()["model"] == "long_lived"
    account_id = await _connect_ads(live_server, api, browser, expiring=False)
    await _advance_tiktok_clock(browser, 2 * YEAR)

    read = await _lead_forms(api, account_id)
    async with httpx.AsyncClient() as http:
        due = await refresh_due_tokens(
            sessionmaker,
            _manager(live_server, sessionmaker, http, timedelta(days=800)),
            refresh_ahead=timedelta(days=800),
            renew_refresh_before=timedelta(days=800),
        )
    # The advertiser removes the app: the refused token cannot be refreshed away.
    advertiser_id = (await _advertisers(browser))[0]
    assert (await browser.post(f"{BUSINESS}/advertisers/{advertiser_id}/revoke")).is_success
    refused = await _lead_forms(api, account_id)

    assert read.status_code == 200, read.text
    assert due == 0
    assert refused.json()["error"]["code"] == "reauth_required"
    assert await _refreshes(browser) == 0
    account = await _account(sessionmaker, account_id)
    assert (account.access_token_expires_at, account.refresh_token_ciphertext) == (None, None)
    assert (account.status, account.last_error_code) == (
        AccountStatus.reauth_required,
        "reauth_required",
    )
    assert "token.rejected" in await log_events(api, str(account_id))


async def test_disconnect_after_expiry_refreshes_to_revoke_the_whole_authorization(
    live_server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """TikTok does not revoke an expired token, and the refresh token would outlive it."""
    account_id = await _connect_ads(live_server, api, browser, expires_in=DAY)
    await _expire_stored_token(sessionmaker, account_id)
    await _advance_tiktok_clock(browser, DAY)

    response = await api.post(f"{ACCOUNTS}/{account_id}/disconnect/")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disconnected"
    assert await _refreshes(browser) == 1
    advertisers = (await browser.get(f"{BUSINESS}/advertisers")).json()["advertisers"]
    assert [a["live_tokens"] for a in advertisers] == [0, 0, 0]
    account = await _account(sessionmaker, account_id)
    assert (account.access_token_ciphertext, account.refresh_token_ciphertext) == (None, None)
