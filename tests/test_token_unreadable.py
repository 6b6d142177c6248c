"""A stored token that no configured key decrypts (damaged, truncated, moved to another row
or column, or sealed under a key since removed) never becomes a 500 and never strands the
account: the account becomes `reauth_required` with a log entry that says which token and
why, and disconnect and delete always work, skipping the revoke of what cannot be read.

Both platforms, on SQLite and PostgreSQL; Login Kit is faked with respx, TikTok for Business
is the emulator (tests/ads_support.py); neither must be called with a token it never issued.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

import httpx
import pytest
import respx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.advertisers.jobs import check_due_subscriptions
from app.advertisers.models import TikTokAdvertiser
from app.audit.models import IntegrationLog
from app.core.config import Settings
from app.core.crypto import TokenCipher
from app.core.db import session_scope, utcnow
from app.jobs.token_refresh import refresh_due_tokens
from app.tiktok.schemas import TokenSet
from app.tokens import store
from app.tokens.manager import ReauthRequired, TokenManager, TokenUnreadable
from app.tokens.store import ACCESS, REFRESH
from tests.ads_support import EmulatedBusiness, ads_settings, connect_ads, emulated_business
from tests.conftest import FAKE_TIKTOK

ACCOUNTS = "/api/integrations/accounts/"
LOST_KEY = "bG9zdC1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="  # configured nowhere


def undecryptable(kind: str, cipher: TokenCipher, account_id: uuid.UUID, field: str) -> str:
    """A value for the account's `field` column that no configured key decrypts."""
    if kind == "short":  # the case: a valid prefix, three bytes of payload
        return f"v1.{cipher.current_key_id}.AAAA"
    if kind == "truncated":
        return cipher.encrypt("act.some-token", account_id=account_id, field=field)[:-6]
    if kind == "lost_key":
        return TokenCipher(LOST_KEY).encrypt("act.some-token", account_id=account_id, field=field)
    if kind == "other_row":
        return cipher.encrypt("act.some-token", account_id=uuid.uuid4(), field=field)
    raise AssertionError(kind)


KINDS = ["short", "truncated", "lost_key", "other_row"]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return ads_settings(database_url)


@pytest.fixture
def login_kit() -> Iterator[dict[str, respx.Route]]:
    with respx.mock(base_url=FAKE_TIKTOK, assert_all_called=False) as router:
        yield {
            "token": router.post("/v2/oauth/token/"),
            "revoke": router.post("/v2/oauth/revoke/"),
            "videos": router.post("/v2/video/list/"),
        }


@pytest.fixture
async def business(settings: Settings) -> AsyncIterator[EmulatedBusiness]:
    async with emulated_business(settings) as emulated:
        yield emulated


@pytest.fixture
def cipher(app) -> TokenCipher:
    value: TokenCipher = app.state.cipher
    return value


@pytest.fixture
def tokens(app) -> TokenManager:
    manager: TokenManager = app.state.tokens
    return manager


async def seed_login_kit(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: TokenCipher,
    *,
    damaged: str,
    kind: str = "short",
    expires_in: timedelta = timedelta(hours=1),
) -> uuid.UUID:
    """A connected Login Kit account whose `damaged` token column no key decrypts."""
    account = IntegrationAccount(
        id=uuid.uuid4(),
        company_id="acme",
        platform=Platform.tiktok,
        name="Shop",
        status=AccountStatus.connected,
        external_id="open-1",
        token_version=0,
    )
    tokens = TokenSet.model_validate(
        {
            "access_token": "act.good-access",
            "refresh_token": "rft.good-refresh",
            "expires_in": int(expires_in.total_seconds()),
            "refresh_expires_in": 86400 * 150,
            "open_id": "open-1",
            "scope": "user.info.basic,video.list",
        }
    )
    store.store_tokens(account, tokens, cipher, utcnow())
    value = undecryptable(kind, cipher, account.id, damaged)
    if damaged == ACCESS:
        account.access_token_ciphertext = value
    else:
        account.refresh_token_ciphertext = value
    async with session_scope(sessionmaker) as session:
        session.add(account)
    return account.id


async def load(sessionmaker, account_id: uuid.UUID) -> IntegrationAccount:
    async with sessionmaker() as session:
        account = await session.get(IntegrationAccount, account_id)
    assert account is not None
    return account


async def events(sessionmaker, account_id: uuid.UUID | None = None) -> list[IntegrationLog]:
    query = select(IntegrationLog).order_by(IntegrationLog.created_at)
    if account_id is not None:
        query = query.where(IntegrationLog.account_id == account_id)
    async with sessionmaker() as session:
        return list((await session.scalars(query)).all())


def assert_flagged(account: IntegrationAccount, entries: list[IntegrationLog], field: str) -> None:
    assert account.status == AccountStatus.reauth_required
    assert account.last_error_code == "token_unreadable"
    [entry] = [e for e in entries if e.event == "token.unreadable"]
    assert entry.level == "error"
    assert entry.data["field"] == field
    assert entry.data["reason"]
    label = "access token" if field == ACCESS else "refresh token"
    assert f"The stored {label} cannot be decrypted" in entry.message
    assert "Reconnect" in entry.message


# ---- Login Kit: the token manager --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_an_undecryptable_access_token_flags_the_account_reauth_required(
    tokens, sessionmaker, cipher, login_kit, kind
) -> None:
    account_id = await seed_login_kit(sessionmaker, cipher, damaged=ACCESS, kind=kind)

    with pytest.raises(ReauthRequired) as raised:
        await tokens.get(account_id, "acme")

    assert (raised.value.status_code, raised.value.code) == (409, "reauth_required")
    assert_flagged(await load(sessionmaker, account_id), await events(sessionmaker), ACCESS)
    with pytest.raises(ReauthRequired):  # stays flagged, logged once
        await tokens.get(account_id, "acme")
    assert len(await events(sessionmaker, account_id)) == 1
    assert login_kit["token"].call_count == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_an_undecryptable_refresh_token_flags_the_account_without_asking_tiktok(
    tokens, sessionmaker, cipher, login_kit, kind
) -> None:
    account_id = await seed_login_kit(
        sessionmaker, cipher, damaged=REFRESH, kind=kind, expires_in=timedelta(minutes=-1)
    )

    with pytest.raises(TokenUnreadable):
        await tokens.get(account_id, "acme")

    assert_flagged(await load(sessionmaker, account_id), await events(sessionmaker), REFRESH)
    assert login_kit["token"].call_count == 0


async def test_a_read_with_a_malformed_token_is_409_reauth_required(
    client, auth, sessionmaker, cipher, login_kit
) -> None:
    account_id = await seed_login_kit(sessionmaker, cipher, damaged=ACCESS)

    response = await client.get(f"{ACCOUNTS}{account_id}/tiktok-videos/", headers=auth())

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "reauth_required"
    account = (await client.get(f"{ACCOUNTS}{account_id}/", headers=auth())).json()
    assert account["status"] == "reauth_required"
    assert login_kit["videos"].call_count == 0


async def test_the_background_refresh_flags_an_unreadable_account_and_goes_on(
    tokens, sessionmaker, cipher, login_kit
) -> None:
    damaged = await seed_login_kit(
        sessionmaker, cipher, damaged=REFRESH, expires_in=timedelta(minutes=5)
    )
    healthy = await seed_login_kit(
        sessionmaker, cipher, damaged=ACCESS, kind="other_row", expires_in=timedelta(minutes=5)
    )
    async with session_scope(sessionmaker) as session:  # heal the second one
        account = await session.get(IntegrationAccount, healthy)
        assert account is not None
        account.access_token_ciphertext = cipher.encrypt(
            "act.good-access", account_id=healthy, field=ACCESS
        )
    login_kit["token"].mock(
        return_value=httpx.Response(
            200,
            json={
                "access_token": "act.new",
                "refresh_token": "rft.new",
                "expires_in": 86400,
                "refresh_expires_in": 86400 * 150,
                "open_id": "open-1",
                "scope": "user.info.basic,video.list",
            },
        )
    )

    refreshed = await refresh_due_tokens(
        sessionmaker,
        tokens,
        refresh_ahead=timedelta(minutes=10),
        renew_refresh_before=timedelta(days=7),
    )

    assert refreshed == 1
    assert login_kit["token"].call_count == 1
    assert (await load(sessionmaker, healthy)).status == AccountStatus.connected
    assert_flagged(await load(sessionmaker, damaged), await events(sessionmaker, damaged), REFRESH)


async def test_a_reconnect_meanwhile_is_not_flagged(tokens, sessionmaker, cipher) -> None:
    account_id = await seed_login_kit(sessionmaker, cipher, damaged=ACCESS)
    account = await load(sessionmaker, account_id)
    unreadable = TokenUnreadable(account_id, account.token_version, ACCESS, "test")
    async with session_scope(sessionmaker) as session:  # the user reconnects meanwhile
        await session.execute(
            update(IntegrationAccount)
            .where(IntegrationAccount.id == account_id)
            .values(token_version=account.token_version + 1)
        )

    await tokens._flag_unreadable(unreadable)

    assert (await load(sessionmaker, account_id)).status == AccountStatus.connected
    assert await events(sessionmaker, account_id) == []


# ---- Login Kit: disconnect and delete always work ------------------------------------------


# The refresh token is met when the access token has expired: a revoke refreshes first.
@pytest.mark.parametrize(
    ("damaged", "expires_in"), [(ACCESS, timedelta(hours=1)), (REFRESH, timedelta(minutes=-1))]
)
async def test_an_account_with_a_malformed_token_can_be_disconnected(
    client, auth, sessionmaker, cipher, login_kit, damaged, expires_in
) -> None:
    account_id = await seed_login_kit(sessionmaker, cipher, damaged=damaged, expires_in=expires_in)

    response = await client.post(f"{ACCOUNTS}{account_id}/disconnect/", headers=auth())

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disconnected"
    account = await load(sessionmaker, account_id)
    assert account.status == AccountStatus.disconnected
    assert (account.access_token_ciphertext, account.refresh_token_ciphertext) == (None, None)
    assert (login_kit["token"].call_count, login_kit["revoke"].call_count) == (0, 0)
    entries = await events(sessionmaker, account_id)
    assert [e.event for e in entries] == ["token.unreadable", "account.disconnected"]
    assert entries[-1].level == "warning"
    assert entries[-1].data == {"revoked": False, "revoke_skipped": "token_unreadable"}


async def test_an_account_with_a_malformed_token_can_be_deleted(
    client, auth, sessionmaker, cipher, login_kit
) -> None:
    account_id = await seed_login_kit(sessionmaker, cipher, damaged=ACCESS)

    response = await client.delete(f"{ACCOUNTS}{account_id}/", headers=auth())

    assert response.status_code == 204, response.text
    async with sessionmaker() as session:
        assert await session.get(IntegrationAccount, account_id) is None
    assert login_kit["revoke"].call_count == 0
    [deleted] = [e for e in await events(sessionmaker) if e.event == "account.deleted"]
    assert deleted.data["revoke_skipped"] == "token_unreadable"
    assert deleted.data["revoked"] is False


# ---- TikTok for Business -------------------------------------------------------------------


async def damage_ads_token(sessionmaker, cipher: TokenCipher, account_id: str) -> uuid.UUID:
    key = uuid.UUID(account_id)
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(IntegrationAccount)
            .where(IntegrationAccount.id == key)
            .values(access_token_ciphertext=undecryptable("short", cipher, key, ACCESS))
        )
    return key


async def connected_ads(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], sessionmaker, cipher
) -> uuid.UUID:
    return await damage_ads_token(sessionmaker, cipher, await connect_ads(client, auth))


async def test_an_ads_read_with_a_malformed_token_is_409_and_flags_the_account(
    client, auth, business, sessionmaker, cipher
) -> None:
    account_id = await connected_ads(client, auth, sessionmaker, cipher)

    response = await client.get(f"{ACCOUNTS}{account_id}/lead-forms/", headers=auth())

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "reauth_required"
    assert_flagged(await load(sessionmaker, account_id), await events(sessionmaker), ACCESS)
    assert business.page_get.call_count == 0


async def test_an_ads_account_with_a_malformed_token_can_be_disconnected(
    client, auth, business, sessionmaker, cipher
) -> None:
    account_id = await connected_ads(client, auth, sessionmaker, cipher)

    response = await client.post(f"{ACCOUNTS}{account_id}/disconnect/", headers=auth())

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disconnected"
    account = await load(sessionmaker, account_id)
    assert account.access_token_ciphertext is None
    assert business.revoke.call_count == 0
    assert business.unsubscribe.call_count == 2  # the app's own credentials, no token needed
    last = (await events(sessionmaker, account_id))[-1]
    assert last.event == "account.disconnected"
    assert last.level == "warning"
    assert (
        last.data.items()
        >= {"revoked": False, "revoke_skipped": "token_unreadable", "unsubscribed": 2}.items()
    )


async def test_an_ads_account_with_a_malformed_token_can_be_deleted(
    client, auth, business, sessionmaker, cipher
) -> None:
    account_id = await connected_ads(client, auth, sessionmaker, cipher)

    response = await client.delete(f"{ACCOUNTS}{account_id}/", headers=auth())

    assert response.status_code == 204, response.text
    assert business.revoke.call_count == 0
    [deleted] = [e for e in await events(sessionmaker) if e.event == "account.deleted"]
    assert deleted.data["revoke_skipped"] == "token_unreadable"


async def test_the_subscription_check_flags_an_ads_account_it_cannot_read(
    client, auth, business, app, sessionmaker, cipher
) -> None:
    account_id = await connected_ads(client, auth, sessionmaker, cipher)
    async with session_scope(sessionmaker) as session:  # as if checked a day ago
        await session.execute(
            update(TikTokAdvertiser).values(checked_at=utcnow() - timedelta(days=1))
        )

    await check_due_subscriptions(app.state.ads)

    assert business.list_subscriptions.call_count == 0
    assert_flagged(await load(sessionmaker, account_id), await events(sessionmaker), ACCESS)
