"""The background refresh keeps up: one pass refreshes everything due, however many accounts,
with at most `TOKEN_REFRESH_CONCURRENCY` refreshes in flight per process; two replicas
running passes at once share the work and still refresh each account exactly once; one
failing account does not stop the pass.

Runs on SQLite and PostgreSQL; TikTok's token endpoint is faked with respx and, like TikTok,
kills a refresh token once it has issued a new one (so a double refresh would flag the
account `reauth_required`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import repository
from app.accounts.models import AccountStatus
from app.core.config import Settings
from app.core.crypto import TokenCipher
from app.core.db import session_scope, utcnow
from app.jobs.token_refresh import CLAIM_LEASE, refresh_due_tokens
from app.tiktok.client import TikTokClient
from app.tokens.manager import TokenManager
from tests.conftest import FAKE_TIKTOK, fake_tiktok_settings
from tests.test_token_manager import (
    REFRESH_AHEAD,
    TOKEN_PATH,
    FakeTokenEndpoint,
    form_of,
    load,
    oauth_error,
    replica,
    seed,
)

BOUND = 60  # seconds: no pass may hang
RENEW_BEFORE = timedelta(days=7)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return fake_tiktok_settings(database_url)


@pytest.fixture
def token_route() -> Iterator[respx.Route]:
    with respx.mock(base_url=FAKE_TIKTOK, assert_all_called=False) as router:
        yield router.post(TOKEN_PATH)


@pytest.fixture
async def tiktok(token_route: respx.Route) -> AsyncIterator[TikTokClient]:
    client = TikTokClient(
        client_key="ck",
        client_secret="cs",
        auth_base_url=FAKE_TIKTOK,
        api_base_url=FAKE_TIKTOK,
        backoff_seconds=0,
    )
    yield client
    await client.aclose()


@pytest.fixture
def manager(
    sessionmaker: async_sessionmaker[AsyncSession], tiktok: TikTokClient, cipher: TokenCipher
) -> TokenManager:
    return TokenManager(sessionmaker, tiktok, cipher, refresh_ahead=REFRESH_AHEAD)


@pytest.fixture
def cipher(app: FastAPI) -> TokenCipher:
    value: TokenCipher = app.state.cipher
    return value


def is_postgres(app: FastAPI) -> bool:
    return bool(app.state.engine.dialect.name == "postgresql")


async def seed_due(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: TokenCipher, count: int
) -> dict[str, uuid.UUID]:
    """`count` accounts whose access token expires inside the refresh-ahead window, by their
    refresh token."""
    accounts = {}
    for number in range(count):
        refresh = f"rft.due-{number:04d}"
        accounts[refresh] = await seed(
            sessionmaker,
            cipher,
            company=f"company-{number:04d}",
            refresh=refresh,
            expires_in=timedelta(minutes=5),
        )
    return accounts


async def one_pass(
    sessionmaker: async_sessionmaker[AsyncSession], tokens: TokenManager, concurrency: int = 10
) -> int:
    async with asyncio.timeout(BOUND):
        return await refresh_due_tokens(
            sessionmaker,
            tokens,
            refresh_ahead=REFRESH_AHEAD,
            renew_refresh_before=RENEW_BEFORE,
            concurrency=concurrency,
        )


async def assert_refreshed_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    accounts: dict[str, uuid.UUID],
    endpoint: FakeTokenEndpoint,
) -> None:
    assert sorted(endpoint.sent) == sorted(accounts)
    for account_id in accounts.values():
        account = await load(sessionmaker, account_id)
        assert (account.status, account.token_version) == (AccountStatus.connected, 2)


async def test_one_pass_refreshes_every_due_account_not_a_batch_of_them(
    manager, sessionmaker, cipher, token_route
) -> None:
    accounts = await seed_due(sessionmaker, cipher, 120)
    endpoint = FakeTokenEndpoint(set(accounts))
    token_route.mock(side_effect=endpoint)

    assert await one_pass(sessionmaker, manager) == 120

    await assert_refreshed_once(sessionmaker, accounts, endpoint)
    assert await one_pass(sessionmaker, manager) == 0
    assert len(endpoint.sent) == 120


async def test_at_most_the_configured_number_of_refreshes_are_in_flight(
    app, manager, sessionmaker, cipher, token_route
) -> None:
    accounts = await seed_due(sessionmaker, cipher, 24)
    endpoint = FakeTokenEndpoint(set(accounts), delay=0.05)
    inside = peak = 0

    async def counted(request: httpx.Request) -> httpx.Response:
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        try:
            return await endpoint(request)
        finally:
            inside -= 1

    token_route.mock(side_effect=counted)

    assert await one_pass(sessionmaker, manager, concurrency=4) == 24

    await assert_refreshed_once(sessionmaker, accounts, endpoint)
    # On SQLite a refresh holds the database's one write lock while TikTok answers, so
    # refreshes meet TikTok one at a time whatever the concurrency.
    assert peak == (4 if is_postgres(app) else 1)


async def test_claims_run_ahead_of_the_refreshes_a_batch_at_a_time(
    app, manager, sessionmaker, cipher, token_route, monkeypatch
) -> None:
    """A pipeline, not a claim per freed slot: each claim asks for a full batch (the
    concurrency), and the next is taken while refreshes are still running, so a freed slot
    finds an account waiting instead of a claim's round trip."""
    accounts = await seed_due(sessionmaker, cipher, 24)
    endpoint = FakeTokenEndpoint(set(accounts), delay=0.05)
    token_route.mock(side_effect=endpoint)
    limits: list[int] = []
    in_flight_at_claim: list[int] = []  # refreshes that had reached TikTok at each claim
    claim = repository.claim_due_for_refresh

    async def recorded(*args: Any, **kwargs: Any) -> list[uuid.UUID]:
        limits.append(kwargs["limit"])
        in_flight_at_claim.append(len(endpoint.sent))
        return await claim(*args, **kwargs)

    monkeypatch.setattr(repository, "claim_due_for_refresh", recorded)
    assert await one_pass(sessionmaker, manager, concurrency=4) == 24

    await assert_refreshed_once(sessionmaker, accounts, endpoint)
    assert set(limits) == {4}
    # 24 accounts in batches of 4, then the short claim that ends the pass.
    assert len(limits) == 7
    if is_postgres(app):
        # The second batch was claimed while the first was still starting (at most half of
        # it had reached TikTok), not once a slot had come free.
        assert in_flight_at_claim[1] <= 2


async def test_two_replicas_passes_refresh_each_account_exactly_once(
    app, database_url, sessionmaker, cipher, tiktok, token_route
) -> None:
    """The replicas claim disjoint batches (`SKIP LOCKED` and the claim's lease); on
    PostgreSQL both take part. SQLite's write lock serializes their refreshes, and the
    manager's re-check under it would make a second pick of one account a no-op."""
    accounts = await seed_due(sessionmaker, cipher, 120)
    endpoint = FakeTokenEndpoint(set(accounts), delay=0.01)
    token_route.mock(side_effect=endpoint)

    async with (
        replica(database_url, tiktok, cipher) as first,
        replica(database_url, tiktok, cipher) as second,
    ):
        done = await asyncio.gather(
            one_pass(first._sessionmaker, first), one_pass(second._sessionmaker, second)
        )

    assert sum(done) == 120
    await assert_refreshed_once(sessionmaker, accounts, endpoint)
    if is_postgres(app):
        assert min(done) > 0


async def test_a_failing_account_does_not_stop_the_pass(
    manager, sessionmaker, cipher, token_route
) -> None:
    accounts = await seed_due(sessionmaker, cipher, 60)
    refused, unavailable, broken = "rft.due-0003", "rft.due-0010", "rft.due-0020"
    endpoint = FakeTokenEndpoint(set(accounts) - {refused, unavailable, broken})

    async def failing(request: httpx.Request) -> httpx.Response:
        used = form_of(request)["refresh_token"]
        if used == refused:
            return httpx.Response(200, json=oauth_error("invalid_grant", "L-refused"))
        if used == unavailable:
            return httpx.Response(503, text="down")
        if used == broken:
            raise RuntimeError("an unexpected failure")
        return await endpoint(request)

    token_route.mock(side_effect=failing)

    assert await one_pass(sessionmaker, manager) == 57

    for refresh, account_id in accounts.items():
        account = await load(sessionmaker, account_id)
        if refresh == refused:
            assert account.status == AccountStatus.reauth_required
        elif refresh in (unavailable, broken):
            assert (account.status, account.token_version) == (AccountStatus.connected, 1)
        else:
            assert (account.status, account.token_version) == (AccountStatus.connected, 2)


async def test_an_account_still_due_after_its_refresh_is_not_refreshed_again_in_the_pass(
    manager, sessionmaker, cipher, token_route
) -> None:
    """A refresh token that TikTok renews for less than `REFRESH_TOKEN_RENEW_BEFORE_DAYS`
    leaves the account due; the pass visits each account once, so it does not loop."""
    accounts = await seed_due(sessionmaker, cipher, 12)
    short = timedelta(days=3)
    sent: list[str] = []

    async def short_lived(request: httpx.Request) -> httpx.Response:
        used = form_of(request)["refresh_token"]
        sent.append(used)
        body = {
            "access_token": f"act.for-{used}",
            "expires_in": 86400,
            "open_id": "open-1",
            "refresh_expires_in": int(short.total_seconds()),
            "refresh_token": f"{used}-next",
            "scope": "user.info.basic,video.list",
            "token_type": "Bearer",
        }
        return httpx.Response(200, json=body)

    token_route.mock(side_effect=short_lived)

    assert await one_pass(sessionmaker, manager, concurrency=3) == 12
    assert sorted(sent) == sorted(accounts)
    for account_id in accounts.values():
        account = await load(sessionmaker, account_id)
        assert account.refresh_token_expires_at is not None
        assert account.refresh_token_expires_at < utcnow() + RENEW_BEFORE  # still due


async def test_concurrent_claims_take_disjoint_batches(app, sessionmaker, cipher) -> None:
    if not is_postgres(app):
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer")
    accounts = await seed_due(sessionmaker, cipher, 8)
    now = utcnow()
    access_before, refresh_before = now + REFRESH_AHEAD, now + RENEW_BEFORE

    lease = {"now": now, "lease_until": now + CLAIM_LEASE}

    async with sessionmaker() as holding, sessionmaker() as other:
        first = await repository.claim_due_for_refresh(
            holding, access_before, refresh_before, after=None, limit=5, **lease
        )
        second = await repository.claim_due_for_refresh(
            other, access_before, refresh_before, after=None, limit=5, **lease
        )

    assert (len(first), len(second)) == (5, 3)
    assert set(first) | set(second) == set(accounts.values())


async def test_claims_stay_disjoint_after_their_transactions_commit(sessionmaker, cipher) -> None:
    """A pass commits its claim before it refreshes: the lease, not a row lock, keeps the
    accounts from the other replica's claims meanwhile, until it lapses."""
    accounts = await seed_due(sessionmaker, cipher, 12)
    now = utcnow()
    access_before, refresh_before = now + REFRESH_AHEAD, now + RENEW_BEFORE

    async def claim(at: datetime) -> list[uuid.UUID]:
        async with session_scope(sessionmaker) as session:
            return await repository.claim_due_for_refresh(
                session,
                access_before,
                refresh_before,
                after=None,
                limit=5,
                now=at,
                lease_until=at + CLAIM_LEASE,
            )

    first, second = await asyncio.gather(claim(now), claim(now))
    third = await claim(now)

    assert sorted(map(len, (first, second, third))) == [2, 5, 5]
    assert set(first) | set(second) | set(third) == set(accounts.values())
    assert await claim(now + CLAIM_LEASE - timedelta(seconds=1)) == []
    # Not released: a refresh moves the account out of "due"; one left due waits it out.
    assert len(await claim(now + CLAIM_LEASE + timedelta(seconds=1))) == 5


async def test_an_account_another_refresh_holds_is_given_back_not_left_leased(
    app, manager, sessionmaker, cipher, token_route
) -> None:
    """The manager skips a row another replica's refresh has locked; the pass gives its
    claim back, so the next pass takes it at once instead of waiting out CLAIM_LEASE (a
    failed refresh, by contrast, keeps its lease: a backoff)."""
    if not is_postgres(app):
        pytest.skip("row locks are PostgreSQL's; SQLite's write lock serializes passes")
    accounts = await seed_due(sessionmaker, cipher, 3)
    busy = accounts["rft.due-0001"]
    endpoint = FakeTokenEndpoint(set(accounts))
    token_route.mock(side_effect=endpoint)

    async with sessionmaker() as holder, holder.begin():
        await repository.lock_by_id(holder, busy)  # another replica, mid-refresh
        assert await one_pass(sessionmaker, manager) == 2
    assert (await load(sessionmaker, busy)).refresh_lease_until is None

    assert await one_pass(sessionmaker, manager) == 1
    await assert_refreshed_once(sessionmaker, accounts, endpoint)
