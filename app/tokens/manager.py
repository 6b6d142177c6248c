"""The one way to get a TikTok access token: valid, refreshed ahead of expiry, once.

TikTok rotates refresh tokens: the old one dies when a new one is issued, so two concurrent
refreshes of one account would break it for good. A refresh therefore happens
- once per process: callers for the same account queue on an in-process lock (single flight);
- once across replicas: under the account's row lock (PostgreSQL `FOR UPDATE`; SQLite's
  `BEGIN IMMEDIATE` write lock), re-checking `token_version` after the lock is taken;
- durably: the rotated tokens are committed before the lock is released;
- to its end: once a refresh may have reached TikTok, the old refresh token may be dead and
  the new pair exists only in TikTok's answer. So a refresh runs as a task of its own that the
  caller awaits through `asyncio.shield`: a caller that gives up (a cancelled request, a
  stopped job) gets its cancellation while the refresh finishes and commits under its lock.
After `invalid_grant` the row is read again before the token is declared dead, because
another writer may have rotated it in the meantime. A stored token that no key decrypts
flags the account `reauth_required` (`app.tokens.unreadable`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import repository
from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.crypto import TokenCipher
from app.core.db import session_scope, utcnow
from app.tiktok.client import TikTokClient
from app.tiktok.errors import TikTokError, TikTokNotConfigured, TikTokReauthRequired
from app.tokens import store, unreadable
from app.tokens.errors import (
    AccountGone,
    AccountNotConnected,
    NotALoginKitAccount,
    ReauthRequired,
    TokenUnreadable,
)

__all__ = [
    "AccessToken",
    "AccountGone",
    "AccountNotConnected",
    "NotALoginKitAccount",
    "ReauthRequired",
    "TokenManager",
    "TokenUnreadable",
]

logger = logging.getLogger("app.tokens")
T = TypeVar("T")
# After a transient refresh failure, how long a still-valid token is used before retrying.
REFRESH_RETRY_HOLD_OFF = timedelta(seconds=30)
# Recorded when a connected account has no refresh token at all.
MISSING = "refresh_token_missing"


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str = field(repr=False)
    version: int
    scopes: tuple[str, ...]
    open_id: str | None


@dataclass(slots=True)
class _Outcome:
    token: AccessToken | None = None
    error: Exception | None = None
    seen_version: int = 0
    refreshed: bool = False  # TikTok issued new tokens (not a fallback to the current one)


class TokenManager:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tiktok: TikTokClient | None,
        cipher: TokenCipher,
        *,
        refresh_ahead: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._tiktok = tiktok
        self._cipher = cipher
        self._refresh_ahead = refresh_ahead
        self._clock = clock
        self._hold_off: dict[uuid.UUID, datetime] = {}
        self._flights: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        # Refreshes under way, kept referenced until done (asyncio holds tasks weakly).
        self._in_flight: set[asyncio.Task[_Outcome]] = set()

    # ---- public API ----------------------------------------------------------------------

    async def get(
        self,
        account_id: uuid.UUID,
        company_id: str | None = None,
        *,
        rejected_version: int | None = None,
    ) -> AccessToken:
        """A valid access token for the account (of `company_id`, when given).

        `rejected_version`: TikTok refused that token (a 401), so refresh unless someone
        already replaced it. Call this before the request's own session has begun a
        transaction: on SQLite a transaction is the database-wide write lock.
        """
        async with self._sessionmaker() as session:
            account = await repository.get_by_id(session, account_id)
            if account is None or (company_id is not None and account.company_id != company_id):
                raise AccountGone
            self._ensure_usable(account)
            usable = self._usable_now(account, rejected_version)
        if usable:
            try:
                return self._token_of(account)
            except TokenUnreadable as exc:
                await self._flag_unreadable(exc)
                raise
        outcome = await self._refresh_to_the_end(account_id, rejected_version=rejected_version)
        assert outcome.token is not None
        return outcome.token

    async def call(
        self,
        account_id: uuid.UUID,
        company_id: str,
        request: Callable[[AccessToken], Awaitable[T]],
    ) -> T:
        """Run a TikTok request with a valid token. If TikTok rejects the token (401), refresh
        once and retry; a second rejection means the account must be reconnected."""
        token = await self.get(account_id, company_id)
        try:
            return await request(token)
        except TikTokReauthRequired:
            token = await self.get(account_id, company_id, rejected_version=token.version)
        try:
            return await request(token)
        except TikTokReauthRequired as exc:
            await self._mark_reauth_required(account_id, exc)
            raise ReauthRequired from exc

    async def refresh_if_due(self, account_id: uuid.UUID, refresh_before: datetime) -> bool:
        """Background refresh: skip rows another replica holds; True when a refresh happened."""
        outcome = await self._refresh_to_the_end(
            account_id, rejected_version=None, skip_locked=True, refresh_before=refresh_before
        )
        return outcome.refreshed

    async def drain(self, wait_seconds: float) -> None:
        """Wait (at most `wait_seconds`) for refreshes whose callers have given up; call
        before closing the HTTP client and the engine they use."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=wait_seconds)

    # ---- internals -----------------------------------------------------------------------

    async def _refresh_to_the_end(
        self,
        account_id: uuid.UUID,
        *,
        rejected_version: int | None,
        skip_locked: bool = False,
        refresh_before: datetime | None = None,
    ) -> _Outcome:
        """`_refresh` as a task that outlives its caller: a cancelled caller stops waiting,
        the refresh goes on to store what TikTok answers (see the module docstring)."""
        task = asyncio.create_task(
            self._refresh_in_flight(
                account_id,
                rejected_version=rejected_version,
                skip_locked=skip_locked,
                refresh_before=refresh_before,
            ),
            name=f"token-refresh-{account_id}",
        )
        self._in_flight.add(task)
        task.add_done_callback(self._forget)
        return await asyncio.shield(task)

    def _forget(self, task: asyncio.Task[_Outcome]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled():
            # Retrieved here too: a refresh whose caller left already logged its failure.
            task.exception()

    async def _refresh_in_flight(
        self,
        account_id: uuid.UUID,
        *,
        rejected_version: int | None,
        skip_locked: bool,
        refresh_before: datetime | None,
    ) -> _Outcome:
        async with self._flight(account_id):
            try:
                return await self._refresh(
                    account_id,
                    rejected_version=rejected_version,
                    skip_locked=skip_locked,
                    refresh_before=refresh_before,
                )
            except TokenUnreadable as exc:
                await self._flag_unreadable(exc)
                raise

    async def _flag_unreadable(self, error: TokenUnreadable) -> None:
        async with session_scope(self._sessionmaker) as session:
            await unreadable.flag(session, error)

    def _flight(self, account_id: uuid.UUID) -> asyncio.Lock:
        lock = self._flights.get(account_id)
        if lock is None:
            lock = asyncio.Lock()
            self._flights[account_id] = lock
        return lock

    def _ensure_usable(self, account: IntegrationAccount) -> None:
        if account.platform != Platform.tiktok:
            raise NotALoginKitAccount
        if account.status == AccountStatus.reauth_required:
            raise ReauthRequired
        if account.status != AccountStatus.connected or account.refresh_token_ciphertext is None:
            raise AccountNotConnected

    def _usable_now(self, account: IntegrationAccount, rejected_version: int | None) -> bool:
        expires = account.access_token_expires_at
        if account.access_token_ciphertext is None or expires is None:
            return False
        if rejected_version is not None and account.token_version == rejected_version:
            return False
        if expires - self._refresh_ahead > self._clock():
            return True
        # Inside the refresh window, but a refresh just failed for a passing reason: keep
        # using the still-valid token for a while rather than asking TikTok on every call.
        held_off = self._hold_off.get(account.id)
        return held_off is not None and held_off > self._clock() and self._still_valid(account)

    def _still_valid(self, account: IntegrationAccount) -> bool:
        expires = account.access_token_expires_at
        return (
            account.access_token_ciphertext is not None
            and expires is not None
            and (expires > self._clock())
        )

    def _token_of(self, account: IntegrationAccount) -> AccessToken:
        """The stored access token; `TokenUnreadable` when no configured key decrypts it."""
        value = unreadable.read(account, self._cipher, store.ACCESS)
        assert value is not None
        return AccessToken(value, account.token_version, tuple(account.scopes), account.external_id)

    async def _refresh(
        self,
        account_id: uuid.UUID,
        *,
        rejected_version: int | None,
        skip_locked: bool = False,
        refresh_before: datetime | None = None,
    ) -> _Outcome:
        outcome = _Outcome()
        async with session_scope(self._sessionmaker) as session:
            account = await repository.lock_by_id(session, account_id, skip_locked=skip_locked)
            if account is None:
                if skip_locked:
                    return outcome
                raise AccountGone
            if refresh_before is not None:
                if account.status != AccountStatus.connected or not self._due(
                    account, refresh_before
                ):
                    return outcome
            else:
                self._ensure_usable(account)
                if self._usable_now(account, rejected_version):
                    # Another caller refreshed while we waited for the lock.
                    return _Outcome(token=self._token_of(account))
            outcome = await self._call_refresh(session, account, rejected_version)
        if isinstance(outcome.error, TikTokReauthRequired):
            token = await self._conclude_dead(account_id, outcome.seen_version, outcome.error)
            return _Outcome(token=token)
        if outcome.error is not None:
            raise outcome.error
        return outcome

    def _due(self, account: IntegrationAccount, refresh_before: datetime) -> bool:
        access = account.access_token_expires_at
        refresh = account.refresh_token_expires_at
        access_due = access is None or access - self._refresh_ahead <= self._clock()
        return access_due or (refresh is not None and refresh <= refresh_before)

    async def _call_refresh(
        self, session: AsyncSession, account: IntegrationAccount, rejected_version: int | None
    ) -> _Outcome:
        """Runs under the row lock; its writes commit before the lock is released."""
        seen = account.token_version
        refresh_value = unreadable.read(account, self._cipher, store.REFRESH)
        if refresh_value is None:
            return _Outcome(
                error=TikTokReauthRequired("No refresh token.", tiktok_code=MISSING),
                seen_version=seen,
            )
        if self._tiktok is None:
            return _Outcome(error=TikTokNotConfigured(), seen_version=seen)
        try:
            tokens = await self._tiktok.refresh(refresh_value)
        except TikTokReauthRequired as exc:
            return _Outcome(error=exc, seen_version=seen)
        except TikTokError as exc:
            audit.record(
                session,
                event="token.refresh_failed",
                company_id=account.company_id,
                account_id=account.id,
                level=LogLevel.warning,
                message=f"Token refresh failed ({exc.code}); will retry.",
                data=exc.log_data(),
            )
            if self._still_valid(account) and account.token_version != rejected_version:
                # The current access token still works: a transient TikTok failure must not
                # break the caller. A later use or the background job retries the refresh.
                self._hold_off[account.id] = self._clock() + REFRESH_RETRY_HOLD_OFF
                return _Outcome(token=self._token_of(account), seen_version=seen)
            return _Outcome(error=exc, seen_version=seen)
        store.store_tokens(account, tokens, self._cipher, self._clock())
        self._hold_off.pop(account.id, None)
        account.last_error_code = None
        audit.record(
            session,
            event="token.refreshed",
            company_id=account.company_id,
            account_id=account.id,
            message="Access token refreshed; refresh token rotated.",
            data={"expires_in": tokens.expires_in, "refresh_expires_in": tokens.refresh_expires_in},
        )
        await session.flush()
        logger.info("token refreshed", extra={"account_id": str(account.id)})
        return _Outcome(token=self._token_of(account), seen_version=seen, refreshed=True)

    async def _mark_reauth_required(self, account_id: uuid.UUID, error: TikTokError) -> None:
        async with session_scope(self._sessionmaker) as session:
            account = await repository.lock_by_id(session, account_id)
            if account is None or account.status != AccountStatus.connected:
                return
            account.status = AccountStatus.reauth_required
            account.last_error_code = error.tiktok_code or error.code
            audit.record(
                session,
                event="token.rejected",
                company_id=account.company_id,
                account_id=account.id,
                level=LogLevel.error,
                message="TikTok rejected a freshly refreshed token; reconnect the account.",
                data=error.log_data(),
            )

    async def _conclude_dead(
        self, account_id: uuid.UUID, seen_version: int, error: TikTokError
    ) -> AccessToken:
        async with session_scope(self._sessionmaker) as session:
            account = await repository.lock_by_id(session, account_id)
            if account is None:
                raise AccountGone
            self._ensure_usable(account)  # disconnected or flagged meanwhile: leave it as is
            if account.token_version != seen_version and self._still_valid(account):
                # Someone else rotated the token between our read and TikTok's answer.
                return self._token_of(account)
            account.status = AccountStatus.reauth_required
            account.last_error_code = error.tiktok_code or "invalid_grant"
            audit.record(
                session,
                event="token.refresh_failed",
                company_id=account.company_id,
                account_id=account.id,
                level=LogLevel.error,
                message="TikTok refused the refresh token; the account must be reconnected.",
                data=error.log_data(),
            )
        logger.warning("refresh token dead", extra={"account_id": str(account_id)})
        raise ReauthRequired
