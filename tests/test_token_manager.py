"""The token manager: refresh ahead of expiry, exactly once (per process and across replicas),
rotated tokens stored before the lock is released, dead tokens concluded carefully, transient
failures survived, and tokens never stored in plain text. The background refresh job too.

Runs on SQLite and PostgreSQL; TikTok's token endpoint is faked with respx and, like TikTok,
kills a refresh token once it has issued a new one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import Text, cast, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.audit.models import IntegrationLog
from app.core.config import Settings
from app.core.crypto import TokenCipher
from app.core.db import create_engine, create_sessionmaker, session_scope, utcnow
from app.jobs.token_refresh import refresh_due_tokens
from app.oauth.models import ConsumedOAuthState
from app.tiktok.client import TikTokClient
from app.tiktok.errors import TikTokRateLimited, TikTokReauthRequired, TikTokUnavailable
from app.tiktok.schemas import TokenSet
from app.tokens import store, unreadable
from app.tokens.manager import (
    AccessToken,
    AccountGone,
    AccountNotConnected,
    ReauthRequired,
    TokenManager,
)
from app.tokens.store import ACCESS, REFRESH
from tests.conftest import FAKE_TIKTOK, fake_tiktok_settings, make_settings

TIKTOK = FAKE_TIKTOK
TOKEN_PATH = "/v2/oauth/token/"
REVOKE_PATH = "/v2/oauth/revoke/"
REFRESH_AHEAD = timedelta(minutes=10)
OLD_ACCESS = "act.old-access-token-0001"
OLD_REFRESH = "rft.old-refresh-token-0001"
NEW_ACCESS = "act.new-access-token-0002"
NEW_REFRESH = "rft.new-refresh-token-0002"
BOUND = 30  # seconds: no test may hang on a lock


def token_body(
    access: str = NEW_ACCESS,
    refresh: str = NEW_REFRESH,
    *,
    expires_in: int = 86400,
    refresh_expires_in: int = 15552000,
) -> dict[str, Any]:
    return {
        "access_token": access,
        "expires_in": expires_in,
        "open_id": "open-1",
        "refresh_expires_in": refresh_expires_in,
        "refresh_token": refresh,
        "scope": "user.info.basic,video.list",
        "token_type": "Bearer",
    }


def form_of(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


class FakeTokenEndpoint:
    """TikTok's refresh grant with rotation: each success issues a new pair and the refresh
    token just used stops working, so a second refresh with it gets `invalid_grant`."""

    def __init__(self, live: set[str], *, delay: float = 0.0) -> None:
        self.live = set(live)
        self.delay = delay
        self.sent: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        assert form["grant_type"] == "refresh_token"
        assert (form["client_key"], form["client_secret"]) == ("ck", "cs")
        used = form["refresh_token"]
        self.sent.append(used)
        if self.delay:
            await asyncio.sleep(self.delay)
        if used not in self.live:
            return httpx.Response(200, json=oauth_error("invalid_grant", "L-dead"))
        self.live.discard(used)
        number = len(self.sent)
        new_refresh = f"rft.rotated-{number}-from-{used}"
        self.live.add(new_refresh)
        return httpx.Response(200, json=token_body(f"act.rotated-{number}", new_refresh))


def oauth_error(code: str, log_id: str) -> dict[str, str]:
    return {"error": code, "error_description": f"{code} happened", "log_id": log_id}


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The app talks to the fake TikTok; no background job races the tests."""
    return fake_tiktok_settings(database_url)


@pytest.fixture
def tiktok_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=TIKTOK, assert_all_called=False) as router:
        yield router


@pytest.fixture
def token_route(tiktok_api: respx.MockRouter) -> respx.Route:
    return tiktok_api.post(TOKEN_PATH)


@pytest.fixture
async def tiktok(tiktok_api: respx.MockRouter) -> AsyncIterator[TikTokClient]:
    client = TikTokClient(
        client_key="ck",
        client_secret="cs",
        auth_base_url=TIKTOK,
        api_base_url=TIKTOK,
        backoff_seconds=0,
    )
    yield client
    await client.aclose()


@pytest.fixture
def cipher(app: FastAPI) -> TokenCipher:
    value: TokenCipher = app.state.cipher
    return value


@pytest.fixture
def manager(
    sessionmaker: async_sessionmaker[AsyncSession], tiktok: TikTokClient, cipher: TokenCipher
) -> TokenManager:
    return TokenManager(sessionmaker, tiktok, cipher, refresh_ahead=REFRESH_AHEAD)


# ---- helpers --------------------------------------------------------------------------------


def token_set(
    access: str, refresh: str, expires_in: timedelta, refresh_expires_in: timedelta
) -> TokenSet:
    return TokenSet.model_validate(
        token_body(
            access,
            refresh,
            expires_in=int(expires_in.total_seconds()),
            refresh_expires_in=int(refresh_expires_in.total_seconds()),
        )
    )


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: TokenCipher,
    *,
    status: AccountStatus = AccountStatus.connected,
    company: str = "acme",
    access: str = OLD_ACCESS,
    refresh: str = OLD_REFRESH,
    expires_in: timedelta = timedelta(hours=1),
    refresh_expires_in: timedelta = timedelta(days=150),
    with_tokens: bool = True,
) -> uuid.UUID:
    """An account committed (and its session closed) before the manager runs."""
    account = IntegrationAccount(
        id=uuid.uuid4(),
        company_id=company,
        platform=Platform.tiktok,
        name="Shop",
        status=status,
        external_id="open-1",
        token_version=0,
    )
    if with_tokens:
        tokens = token_set(access, refresh, expires_in, refresh_expires_in)
        store.store_tokens(account, tokens, cipher, utcnow())
    async with session_scope(sessionmaker) as session:
        session.add(account)
    return account.id


async def load(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> IntegrationAccount:
    async with sessionmaker() as session:
        account = await session.get(IntegrationAccount, account_id)
    assert account is not None
    return account


async def logs(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID, event: str
) -> list[IntegrationLog]:
    async with sessionmaker() as session:
        query = select(IntegrationLog).where(
            IntegrationLog.account_id == account_id, IntegrationLog.event == event
        )
        return list((await session.scalars(query)).all())


@asynccontextmanager
async def replica(
    database_url: str, tiktok: TikTokClient, cipher: TokenCipher
) -> AsyncIterator[TokenManager]:
    """Another process: its own engine, pool and in-process locks."""
    engine = create_engine(make_settings(database_url=database_url))
    try:
        yield TokenManager(create_sessionmaker(engine), tiktok, cipher, refresh_ahead=REFRESH_AHEAD)
    finally:
        await engine.dispose()


# ---- refresh exactly once -------------------------------------------------------------------


async def test_refresh_happens_once_under_concurrency(
    manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=-5))
    before = await load(sessionmaker, account_id)
    token_route.mock(return_value=httpx.Response(200, json=token_body(NEW_ACCESS, NEW_REFRESH)))

    async with asyncio.timeout(BOUND):
        results = await asyncio.gather(*(manager.get(account_id) for _ in range(50)))

    assert {token.value for token in results} == {NEW_ACCESS}
    assert {token.version for token in results} == {before.token_version + 1}
    assert token_route.call_count == 1
    assert form_of(token_route.calls.last.request)["refresh_token"] == OLD_REFRESH
    after = await load(sessionmaker, account_id)
    assert after.token_version == before.token_version + 1
    assert unreadable.read(after, cipher, REFRESH) == NEW_REFRESH
    assert unreadable.read(after, cipher, ACCESS) == NEW_ACCESS
    assert after.access_token_expires_at is not None
    assert after.access_token_expires_at > utcnow() + timedelta(hours=23)
    assert after.status == AccountStatus.connected
    assert len(await logs(sessionmaker, account_id, "token.refreshed")) == 1


async def test_refresh_is_single_flight_within_a_process(
    manager, sessionmaker, cipher, token_route
) -> None:
    """Callers in one process queue on the account's lock instead of each holding a
    connection (and on SQLite the database write lock) while TikTok answers."""
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=-5))
    token_route.mock(side_effect=FakeTokenEndpoint({OLD_REFRESH}, delay=0.1))
    refresh = manager._refresh
    inside = peak = 0

    async def counted(*args: Any, **kwargs: Any) -> AccessToken | None:
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        try:
            return await refresh(*args, **kwargs)
        finally:
            inside -= 1

    manager._refresh = counted
    async with asyncio.timeout(BOUND):
        results = await asyncio.gather(*(manager.get(account_id) for _ in range(20)))

    assert {token.value for token in results} == {"act.rotated-1"}
    assert peak == 1
    assert token_route.call_count == 1


async def test_two_replicas_refresh_once(database_url, sessionmaker, cipher, tiktok, token_route):
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=-5))
    before = await load(sessionmaker, account_id)
    endpoint = FakeTokenEndpoint({OLD_REFRESH}, delay=0.2)
    token_route.mock(side_effect=endpoint)

    async with (
        replica(database_url, tiktok, cipher) as first,
        replica(database_url, tiktok, cipher) as second,
        asyncio.timeout(BOUND),
    ):
        results = await asyncio.gather(
            *(first.get(account_id) for _ in range(25)),
            *(second.get(account_id) for _ in range(25)),
        )

    assert endpoint.sent == [OLD_REFRESH]
    assert {token.value for token in results} == {"act.rotated-1"}
    after = await load(sessionmaker, account_id)
    assert after.status == AccountStatus.connected
    assert after.token_version == before.token_version + 1
    assert unreadable.read(after, cipher, REFRESH) in endpoint.live
    assert len(await logs(sessionmaker, account_id, "token.refreshed")) == 1


async def test_valid_token_is_returned_without_calling_tiktok(
    manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(hours=1))

    token = await manager.get(account_id, "acme")

    assert token == AccessToken(OLD_ACCESS, 1, ("user.info.basic", "video.list"), "open-1")
    assert token_route.call_count == 0


async def test_token_within_refresh_ahead_is_refreshed_ahead_once(
    manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=5))
    token_route.mock(side_effect=FakeTokenEndpoint({OLD_REFRESH}))

    first = await manager.get(account_id)
    second = await manager.get(account_id)

    assert first.value == second.value == "act.rotated-1"
    assert first.version == second.version == 2
    assert token_route.call_count == 1


# ---- dead refresh tokens --------------------------------------------------------------------


async def test_invalid_grant_requires_reauth_and_is_logged_without_tokens(
    manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=-1))
    token_route.mock(return_value=httpx.Response(200, json=oauth_error("invalid_grant", "L1")))

    with pytest.raises(ReauthRequired) as raised:
        await manager.get(account_id)

    assert (raised.value.status_code, raised.value.code) == (409, "reauth_required")
    account = await load(sessionmaker, account_id)
    assert account.status == AccountStatus.reauth_required
    assert account.last_error_code == "invalid_grant"
    [entry] = await logs(sessionmaker, account_id, "token.refresh_failed")
    assert entry.level == "error"
    assert entry.data["log_id"] == "L1"
    for secret in (OLD_ACCESS, OLD_REFRESH):
        assert secret not in str(entry.data)
        assert secret not in entry.message

    with pytest.raises(ReauthRequired):
        await manager.get(account_id)
    with pytest.raises(ReauthRequired):
        await manager.get(account_id, rejected_version=account.token_version)
    assert token_route.call_count == 1


async def test_reauth_required_account_can_still_be_disconnected(
    app, client, auth, sessionmaker, cipher, tiktok_api
) -> None:
    account_id = await seed(
        sessionmaker, cipher, status=AccountStatus.reauth_required, expires_in=timedelta(hours=-1)
    )
    token_route = tiktok_api.post(TOKEN_PATH)
    revoke_route = tiktok_api.post(REVOKE_PATH)

    response = await client.post(
        f"/api/integrations/accounts/{account_id}/disconnect/", headers=auth("acme")
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disconnected"
    assert (token_route.call_count, revoke_route.call_count) == (0, 0)
    account = await load(sessionmaker, account_id)
    assert account.status == AccountStatus.disconnected
    assert account.access_token_ciphertext is None
    assert account.refresh_token_ciphertext is None
    [entry] = await logs(sessionmaker, account_id, "account.disconnected")
    assert entry.data == {"revoked": False, "revoke_skipped": "reauth_required"}


async def _rotate_elsewhere(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: TokenCipher, account_id: uuid.UUID
) -> None:
    """Another writer stores a fresh pair (version + 1) and commits."""
    async with session_scope(sessionmaker) as session:
        account = await session.get(IntegrationAccount, account_id)
        assert account is not None
        tokens = token_set(NEW_ACCESS, NEW_REFRESH, timedelta(hours=24), timedelta(days=150))
        store.store_tokens(account, tokens, cipher, utcnow())


async def test_invalid_grant_after_another_writer_rotated_keeps_the_account(
    manager, sessionmaker, cipher
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=-1))
    seen_version = (await load(sessionmaker, account_id)).token_version
    await _rotate_elsewhere(sessionmaker, cipher, account_id)
    refused = TikTokReauthRequired(tiktok_code="invalid_grant", log_id="L2")

    token = await manager._conclude_dead(account_id, seen_version, refused)

    assert (token.value, token.version) == (NEW_ACCESS, seen_version + 1)
    account = await load(sessionmaker, account_id)
    assert account.status == AccountStatus.connected
    assert account.last_error_code is None
    assert await logs(sessionmaker, account_id, "token.refresh_failed") == []


async def test_invalid_grant_on_the_version_sent_marks_reauth(
    manager, sessionmaker, cipher
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=-1))
    seen_version = (await load(sessionmaker, account_id)).token_version
    refused = TikTokReauthRequired(tiktok_code="invalid_grant", log_id="L3")

    with pytest.raises(ReauthRequired):
        await manager._conclude_dead(account_id, seen_version, refused)

    assert (await load(sessionmaker, account_id)).status == AccountStatus.reauth_required


async def test_invalid_grant_does_not_flag_an_account_disconnected_meanwhile(
    manager, sessionmaker, cipher
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=-1))
    seen_version = (await load(sessionmaker, account_id)).token_version
    async with session_scope(sessionmaker) as session:  # the user disconnects meanwhile
        account = await session.get(IntegrationAccount, account_id)
        assert account is not None
        store.wipe_tokens(account)
        account.status = AccountStatus.disconnected
    refused = TikTokReauthRequired(tiktok_code="invalid_grant", log_id="L4")

    with pytest.raises(AccountNotConnected):
        await manager._conclude_dead(account_id, seen_version, refused)

    account = await load(sessionmaker, account_id)
    assert (account.status, account.last_error_code) == (AccountStatus.disconnected, None)
    assert await logs(sessionmaker, account_id, "token.refresh_failed") == []


# ---- transient failures ---------------------------------------------------------------------

TRANSIENT = [
    pytest.param(503, b"Service Unavailable", {}, TikTokUnavailable, id="http-503"),
    pytest.param(
        200,
        b'{"error":"temporarily_unavailable","error_description":"busy","log_id":"L5"}',
        {},
        TikTokUnavailable,
        id="http-200-temporarily-unavailable",
    ),
    pytest.param(
        429,
        b'{"error":"rate_limit_exceeded","error_description":"slow down","log_id":"L6"}',
        {"Retry-After": "30"},
        TikTokRateLimited,
        id="http-429",
    ),
]


@pytest.mark.parametrize(("status", "body", "headers", "error"), TRANSIENT)
async def test_transient_failure_while_token_still_valid_returns_the_current_token(
    manager, sessionmaker, cipher, token_route, status, body, headers, error
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=5))
    token_route.mock(return_value=httpx.Response(status, content=body, headers=headers))

    token = await manager.get(account_id)

    assert (token.value, token.version) == (OLD_ACCESS, 1)
    assert token_route.call_count == 1  # a token grant is never blindly retried
    account = await load(sessionmaker, account_id)
    assert account.status == AccountStatus.connected
    assert unreadable.read(account, cipher, REFRESH) == OLD_REFRESH
    [entry] = await logs(sessionmaker, account_id, "token.refresh_failed")
    assert entry.level == "warning"
    assert entry.data["error"] == error.code

    # During an outage the still-valid token is used for a while, without asking TikTok
    # (and logging a failure) on every call.
    assert (await manager.get(account_id)).value == OLD_ACCESS
    assert token_route.call_count == 1


@pytest.mark.parametrize(("status", "body", "headers", "error"), TRANSIENT)
async def test_transient_failure_with_expired_token_raises_and_keeps_the_account_connected(
    manager, sessionmaker, cipher, token_route, status, body, headers, error
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=-1))
    token_route.mock(return_value=httpx.Response(status, content=body, headers=headers))

    with pytest.raises(error) as raised:
        await manager.get(account_id)

    assert type(raised.value) is error
    assert raised.value.status_code == (429 if error is TikTokRateLimited else 502)
    account = await load(sessionmaker, account_id)
    assert account.status == AccountStatus.connected
    assert account.last_error_code is None
    assert unreadable.read(account, cipher, REFRESH) == OLD_REFRESH
    [entry] = await logs(sessionmaker, account_id, "token.refresh_failed")
    assert entry.level == "warning"

    token_route.mock(side_effect=FakeTokenEndpoint({OLD_REFRESH}))
    assert (await manager.get(account_id)).value == "act.rotated-1"  # recovers once TikTok does


# ---- a token TikTok rejected ----------------------------------------------------------------


async def test_rejected_version_forces_one_refresh_even_when_the_token_looks_valid(
    manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(hours=12))
    token_route.mock(side_effect=FakeTokenEndpoint({OLD_REFRESH}))
    current = await manager.get(account_id)

    async with asyncio.timeout(BOUND):
        results = await asyncio.gather(
            *(manager.get(account_id, rejected_version=current.version) for _ in range(10))
        )

    assert {(token.value, token.version) for token in results} == {
        ("act.rotated-1", current.version + 1)
    }
    assert token_route.call_count == 1


async def test_transient_failure_never_hands_back_the_token_tiktok_rejected(
    manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(hours=12))
    rejected = await manager.get(account_id)
    token_route.mock(return_value=httpx.Response(503, content=b"Service Unavailable"))

    with pytest.raises(TikTokUnavailable):
        await manager.get(account_id, rejected_version=rejected.version)

    account = await load(sessionmaker, account_id)
    assert account.status == AccountStatus.connected
    assert account.token_version == rejected.version
    assert unreadable.read(account, cipher, REFRESH) == OLD_REFRESH
    assert token_route.call_count == 1


async def test_stale_rejected_version_returns_the_current_token_without_refresh(
    manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(hours=12))
    token_route.mock(side_effect=FakeTokenEndpoint({OLD_REFRESH}))
    stale = await manager.get(account_id)
    fresh = await manager.get(account_id, rejected_version=stale.version)

    again = await manager.get(account_id, rejected_version=stale.version)

    assert again == fresh
    assert fresh.version == stale.version + 1
    assert token_route.call_count == 1


# ---- accounts without a usable token --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "with_tokens"),
    [(AccountStatus.pending, False), (AccountStatus.disconnected, False)],
)
async def test_accounts_that_are_not_connected_are_refused(
    manager, sessionmaker, cipher, token_route, status, with_tokens
) -> None:
    account_id = await seed(sessionmaker, cipher, status=status, with_tokens=with_tokens)

    with pytest.raises(AccountNotConnected) as raised:
        await manager.get(account_id, "acme")

    assert (raised.value.status_code, raised.value.code) == (409, "account_not_connected")
    assert token_route.call_count == 0


async def test_another_companys_or_a_missing_account_is_gone(
    manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher)

    with pytest.raises(AccountGone) as raised:
        await manager.get(account_id, company_id="other")
    with pytest.raises(AccountGone):
        await manager.get(uuid.uuid4())

    assert raised.value.status_code == 404
    assert token_route.call_count == 0


# ---- secrecy at rest ------------------------------------------------------------------------


async def test_database_never_holds_a_token_in_plain_text(
    database_url, manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=-1))
    token_route.mock(return_value=httpx.Response(200, json=token_body(NEW_ACCESS, NEW_REFRESH)))
    assert (await manager.get(account_id)).value == NEW_ACCESS
    secrets = (OLD_ACCESS, OLD_REFRESH, NEW_ACCESS, NEW_REFRESH)

    async with sessionmaker() as session:
        dump = []
        for table in (IntegrationAccount.__table__, IntegrationLog.__table__):
            rows = (await session.execute(select(*(cast(c, Text) for c in table.c)))).all()
            assert rows
            dump.extend(value for row in rows for value in row if value is not None)
    text = "\n".join(dump)
    assert "token.refreshed" in text  # the dump really holds the log rows
    for secret in secrets:
        assert secret not in text

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":  # every byte on disk, WAL included
        path = url.database
        assert path is not None
        for suffix in ("", "-wal"):
            with open(path + suffix, "rb") as handle:  # noqa: ASYNC230 - a small test file
                raw = handle.read()
            for secret in secrets:
                assert secret.encode() not in raw


# ---- the background job ---------------------------------------------------------------------


async def test_background_job_refreshes_only_due_accounts_and_forgets_expired_states(
    manager, sessionmaker, cipher, token_route
) -> None:
    soon = await seed(sessionmaker, cipher, refresh="rft.soon", expires_in=timedelta(minutes=5))
    fresh = await seed(sessionmaker, cipher, refresh="rft.fresh", expires_in=timedelta(hours=20))
    lapsing = await seed(
        sessionmaker,
        cipher,
        refresh="rft.lapsing",
        expires_in=timedelta(hours=20),
        refresh_expires_in=timedelta(days=3),
    )
    gone = await seed(
        sessionmaker,
        cipher,
        status=AccountStatus.disconnected,
        refresh="rft.gone",
        expires_in=timedelta(minutes=-5),
    )
    endpoint = FakeTokenEndpoint({"rft.soon", "rft.fresh", "rft.lapsing", "rft.gone"})
    token_route.mock(side_effect=endpoint)
    now = utcnow()
    async with session_scope(sessionmaker) as session:
        session.add(ConsumedOAuthState(state_hash="a" * 64, expires_at=now - timedelta(minutes=1)))
        session.add(ConsumedOAuthState(state_hash="b" * 64, expires_at=now + timedelta(minutes=9)))

    async with asyncio.timeout(BOUND):
        refreshed = await refresh_due_tokens(
            sessionmaker,
            manager,
            refresh_ahead=REFRESH_AHEAD,
            renew_refresh_before=timedelta(days=7),
        )

    assert refreshed == 2
    assert sorted(endpoint.sent) == ["rft.lapsing", "rft.soon"]
    versions = {i: (await load(sessionmaker, i)).token_version for i in (soon, fresh, lapsing)}
    assert versions == {soon: 2, fresh: 1, lapsing: 2}
    renewed = await load(sessionmaker, lapsing)
    assert renewed.refresh_token_expires_at is not None
    assert renewed.refresh_token_expires_at > now + timedelta(days=100)
    assert (await load(sessionmaker, gone)).status == AccountStatus.disconnected
    async with sessionmaker() as session:
        states = (await session.scalars(select(ConsumedOAuthState.state_hash))).all()
    assert states == ["b" * 64]

    again = await refresh_due_tokens(
        sessionmaker, manager, refresh_ahead=REFRESH_AHEAD, renew_refresh_before=timedelta(days=7)
    )
    assert again == 0
    assert len(endpoint.sent) == 2


async def test_background_refresh_does_not_count_a_transient_failure_as_a_refresh(
    manager, sessionmaker, cipher, token_route
) -> None:
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=5))
    token_route.mock(return_value=httpx.Response(503, text="down"))
    refresh_before = utcnow() + timedelta(days=7)

    assert await manager.refresh_if_due(account_id, refresh_before) is False
    assert token_route.call_count == 1
    assert (await load(sessionmaker, account_id)).token_version == 1


async def test_background_refresh_skips_a_row_another_replica_holds(
    app, manager, sessionmaker, cipher, token_route
) -> None:
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite's writers queue on the database lock")
    account_id = await seed(sessionmaker, cipher, expires_in=timedelta(minutes=5))
    token_route.mock(side_effect=FakeTokenEndpoint({OLD_REFRESH}))
    refresh_before = utcnow() + timedelta(days=7)

    async with sessionmaker() as holder:
        locked = select(IntegrationAccount).where(IntegrationAccount.id == account_id)
        await holder.execute(locked.with_for_update())
        async with asyncio.timeout(5):
            skipped = await manager.refresh_if_due(account_id, refresh_before)
            job = await refresh_due_tokens(
                sessionmaker,
                manager,
                refresh_ahead=REFRESH_AHEAD,
                renew_refresh_before=timedelta(days=7),
            )
        await holder.rollback()

    assert (skipped, job) == (False, 0)
    assert token_route.call_count == 0
    assert await manager.refresh_if_due(account_id, refresh_before) is True  # it was due
    assert token_route.call_count == 1
