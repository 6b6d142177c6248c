"""The one way to get a TikTok access token: valid, refreshed ahead of expiry, once — for
Login Kit accounts and TikTok for Business (ads) accounts alike.

What differs between the platforms (which client refreshes, whether a token may come without
an expiry) is a grant (`app.tokens.grants`); everything below holds for both. A TikTok for
Business token without `expires_in` is long-term: used as it is, never refreshed.

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
After a refused refresh token the row is read again before the token is declared dead, because
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

from app.accounts import lifecycle, repository
from app.accounts.errors import (
    AccountNotConnected,
    NotALoginKitAccount,
    NotAnAdsAccount,
    ReauthRequired,
)
from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.crypto import TokenCipher
from app.core.db import session_scope, utcnow
from app.core.metrics import count_token_refresh
from app.tiktok.business import TikTokBusinessClient
from app.tiktok.client import TikTokClient
from app.tiktok.errors import TikTokError, TikTokReauthRequired
from app.tiktok.responses import INVALID_GRANT
from app.tokens import store, unreadable
from app.tokens.errors import AccountGone, TokenUnreadable
from app.tokens.grants import BusinessGrant, Grant, LoginKitGrant

__all__ = [
    "AccessToken",
    "AccountGone",
    "AccountNotConnected",
    "NotALoginKitAccount",
    "NotAnAdsAccount",
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
REFUSED_AFTER_REFRESH = "TikTok rejected a freshly refreshed token; reconnect the account."


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str = field(repr=False)
    version: int
    scopes: tuple[str, ...]
    open_id: str | None
    # False for a long-term token (no refresh token): a refusal cannot be refreshed away.
    refreshable: bool = True


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
        business: TikTokBusinessClient | None = None,
        refresh_ahead: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._grants: dict[Platform, Grant] = {
            Platform.tiktok: LoginKitGrant(tiktok),
            Platform.tiktok_ads: BusinessGrant(business),
        }
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
        platform: Platform = Platform.tiktok,
    ) -> AccessToken:
        """A valid access token for the account (of `company_id`, when given), which must be
        of `platform` (else that platform's `wrong_platform` error).

        `rejected_version`: TikTok refused that token (a 401, code 40102), so refresh unless
        someone already replaced it. Call this before the request's own session has begun a
        transaction: on SQLite a transaction is the database-wide write lock.
        """
        grant = self._grants[platform]
        async with self._sessionmaker() as session:
            account = await repository.get_by_id(session, account_id)
            if account is None or (company_id is not None and account.company_id != company_id):
                raise AccountGone
            self._ensure_usable(account, grant)
            usable = self._usable_now(account, grant, rejected_version)
        if usable:
            try:
                return self._token_of(account)
            except TokenUnreadable as exc:
                await self._flag_unreadable(exc)
                raise
        outcome = await self._refresh_to_the_end(
            account_id, rejected_version=rejected_version, platform=platform
        )
        assert outcome.token is not None
        return outcome.token

    async def call(
        self,
        account_id: uuid.UUID,
        company_id: str,
        request: Callable[[AccessToken], Awaitable[T]],
        *,
        platform: Platform = Platform.tiktok,
    ) -> T:
        """Run a TikTok request with a valid token. If TikTok rejects the token (Login Kit's
        401, the Marketing API's 40102), refresh once and retry; a second rejection, or the
        rejection of a token that has no refresh token, means the account must be
        reconnected: it is flagged `reauth_required`."""
        grant = self._grants[platform]
        token = await self.get(account_id, company_id, platform=platform)
        try:
            return await request(token)
        except TikTokReauthRequired as exc:
            if not token.refreshable:
                await self._mark_reauth_required(account_id, token, exc, grant.refused_message)
                raise ReauthRequired from exc
        token = await self.get(
            account_id, company_id, rejected_version=token.version, platform=platform
        )
        try:
            return await request(token)
        except TikTokReauthRequired as exc:
            await self._mark_reauth_required(account_id, token, exc, REFUSED_AFTER_REFRESH)
            raise ReauthRequired from exc

    async def refresh_if_due(self, account_id: uuid.UUID, refresh_before: datetime) -> bool:
        """Background refresh: skip rows another replica holds; True when a refresh happened."""
        outcome = await self._refresh_to_the_end(
            account_id,
            rejected_version=None,
            platform=None,
            skip_locked=True,
            refresh_before=refresh_before,
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
        platform: Platform | None,
        skip_locked: bool = False,
        refresh_before: datetime | None = None,
    ) -> _Outcome:
        """`_refresh` as a task that outlives its caller: a cancelled caller stops waiting,
        the refresh goes on to store what TikTok answers (see the module docstring).

        `platform`: the one the caller expects; None (the background job) for any."""
        task = asyncio.create_task(
            self._refresh_in_flight(
                account_id,
                rejected_version=rejected_version,
                platform=platform,
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
        platform: Platform | None,
        skip_locked: bool,
        refresh_before: datetime | None,
    ) -> _Outcome:
        async with self._flight(account_id):
            try:
                return await self._refresh(
                    account_id,
                    rejected_version=rejected_version,
                    platform=platform,
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

    def _grant_for(self, account: IntegrationAccount, platform: Platform | None) -> Grant:
        """The grant of the platform asked for (None: the account's own)."""
        return self._grants[account.platform if platform is None else platform]

    def _ensure_usable(self, account: IntegrationAccount, grant: Grant) -> None:
        if account.platform != grant.platform:
            raise grant.wrong_platform
        if account.status == AccountStatus.reauth_required:
            raise ReauthRequired
        if account.status != AccountStatus.connected:
            raise AccountNotConnected
        if account.refresh_token_ciphertext is None and (
            account.access_token_ciphertext is None or not grant.may_not_expire
        ):
            raise AccountNotConnected

    def _usable_now(
        self, account: IntegrationAccount, grant: Grant, rejected_version: int | None
    ) -> bool:
        expires = account.access_token_expires_at
        if account.access_token_ciphertext is None:
            return False
        if rejected_version is not None and account.token_version == rejected_version:
            return False
        if expires is None:
            # No expiry: a long-term token where the platform issues them (TikTok for
            # Business), else one to refresh.
            return grant.may_not_expire
        if expires - self._refresh_ahead > self._clock():
            return True
        # Inside the refresh window, but a refresh just failed for a passing reason: keep
        # using the still-valid token for a while rather than asking TikTok on every call.
        held_off = self._hold_off.get(account.id)
        return (
            held_off is not None and held_off > self._clock() and self._still_valid(account, grant)
        )

    def _still_valid(self, account: IntegrationAccount, grant: Grant) -> bool:
        if account.access_token_ciphertext is None:
            return False
        expires = account.access_token_expires_at
        if expires is None:
            return grant.may_not_expire
        return expires > self._clock()

    def _token_of(self, account: IntegrationAccount) -> AccessToken:
        """The stored access token; `TokenUnreadable` when no configured key decrypts it."""
        value = unreadable.read(account, self._cipher, store.ACCESS)
        assert value is not None
        return AccessToken(
            value,
            account.token_version,
            tuple(account.scopes),
            account.external_id,
            refreshable=account.refresh_token_ciphertext is not None,
        )

    async def _refresh(
        self,
        account_id: uuid.UUID,
        *,
        rejected_version: int | None,
        platform: Platform | None = None,
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
            grant = self._grant_for(account, platform)
            if refresh_before is not None:
                if account.status != AccountStatus.connected or not self._due(
                    account, refresh_before
                ):
                    return outcome
            else:
                self._ensure_usable(account, grant)
                if self._usable_now(account, grant, rejected_version):
                    # Another caller refreshed while we waited for the lock.
                    return _Outcome(token=self._token_of(account))
            outcome = await self._call_refresh(session, account, grant, rejected_version)
        if isinstance(outcome.error, TikTokReauthRequired):
            token = await self._conclude_dead(
                account_id, outcome.seen_version, outcome.error, platform
            )
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
        self,
        session: AsyncSession,
        account: IntegrationAccount,
        grant: Grant,
        rejected_version: int | None,
    ) -> _Outcome:
        """Runs under the row lock; its writes commit before the lock is released."""
        seen = account.token_version
        platform = str(account.platform)
        refresh_value = unreadable.read(account, self._cipher, store.REFRESH)
        if refresh_value is None:
            count_token_refresh(platform, "dead")
            return _Outcome(
                error=TikTokReauthRequired("No refresh token.", tiktok_code=MISSING),
                seen_version=seen,
            )
        not_configured = grant.not_configured()
        if not_configured is not None:
            count_token_refresh(platform, "not_configured")
            return _Outcome(error=not_configured, seen_version=seen)
        try:
            tokens = await grant.refresh(refresh_value)
        except TikTokReauthRequired as exc:
            count_token_refresh(platform, "dead")
            return _Outcome(error=exc, seen_version=seen)
        except TikTokError as exc:
            count_token_refresh(platform, "failed")
            audit.record(
                session,
                event="token.refresh_failed",
                company_id=account.company_id,
                account_id=account.id,
                level=LogLevel.warning,
                message=f"Token refresh failed ({exc.code}); will retry.",
                data=exc.log_data(),
            )
            if self._still_valid(account, grant) and account.token_version != rejected_version:
                # The current access token still works: a transient TikTok failure must not
                # break the caller. A later use or the background job retries the refresh.
                self._hold_off[account.id] = self._clock() + REFRESH_RETRY_HOLD_OFF
                return _Outcome(token=self._token_of(account), seen_version=seen)
            return _Outcome(error=exc, seen_version=seen)
        store.store_tokens(account, tokens, self._cipher, self._clock(), refreshed=True)
        count_token_refresh(platform, "refreshed")
        self._hold_off.pop(account.id, None)
        account.last_error_code = None
        rotated = tokens.refresh_token is not None
        audit.record(
            session,
            event="token.refreshed",
            company_id=account.company_id,
            account_id=account.id,
            message="Access token refreshed" + ("; refresh token rotated." if rotated else "."),
            data={"expires_in": tokens.expires_in, "refresh_expires_in": tokens.refresh_expires_in},
        )
        await session.flush()
        logger.info("token refreshed", extra={"account_id": str(account.id)})
        return _Outcome(token=self._token_of(account), seen_version=seen, refreshed=True)

    async def _mark_reauth_required(
        self, account_id: uuid.UUID, refused: AccessToken, error: TikTokError, message: str
    ) -> None:
        """TikTok refused `refused`: flag the account, unless it holds another token by now
        (a reconnect or a refresh in between wins)."""
        async with session_scope(self._sessionmaker) as session:
            account = await repository.lock_by_id(session, account_id)
            if (
                account is None
                or account.status != AccountStatus.connected
                or account.token_version != refused.version
            ):
                return
            lifecycle.reauth_required(
                session,
                account,
                error_code=_error_code(error, error.code),
                audit_event="token.rejected",
                message=message,
                data=error.log_data(),
            )

    async def _conclude_dead(
        self,
        account_id: uuid.UUID,
        seen_version: int,
        error: TikTokError,
        platform: Platform | None = None,
    ) -> AccessToken:
        async with session_scope(self._sessionmaker) as session:
            account = await repository.lock_by_id(session, account_id)
            if account is None:
                raise AccountGone
            grant = self._grant_for(account, platform)
            # Disconnected or flagged meanwhile: leave it as is.
            self._ensure_usable(account, grant)
            if account.token_version != seen_version and self._still_valid(account, grant):
                # Someone else rotated the token between our read and TikTok's answer.
                return self._token_of(account)
            lifecycle.reauth_required(
                session,
                account,
                error_code=_error_code(error, INVALID_GRANT),
                audit_event="token.refresh_failed",
                message="TikTok refused the refresh token; the account must be reconnected.",
                data=error.log_data(),
            )
        logger.warning("refresh token dead", extra={"account_id": str(account_id)})
        raise ReauthRequired


def _error_code(error: TikTokError, fallback: str) -> str:
    """An account's `last_error_code`: TikTok's code when it is a word (Login Kit's
    `invalid_grant`, `access_token_invalid`), else `fallback`: the Marketing API's numeric
    codes mean nothing to a CRM user (they stay in the log entry)."""
    code = error.tiktok_code
    return code if code and not code.isdigit() else fallback
